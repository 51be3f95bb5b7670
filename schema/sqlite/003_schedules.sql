-- runnel schema, version 3: schedules (recurring jobs) and the webhooks a
-- job names.  Times are milliseconds since the Unix epoch (UTC).

-- A job made by a schedule: which one, and the tick it was made for.
ALTER TABLE jobs ADD COLUMN schedule_id INTEGER;
ALTER TABLE jobs ADD COLUMN scheduled_for INTEGER;
-- The job's webhooks: a JSON array of {"url", "on"}, or NULL.
ALTER TABLE jobs ADD COLUMN webhooks TEXT;
CREATE INDEX jobs_schedule ON jobs (schedule_id, id) WHERE schedule_id IS NOT NULL;

CREATE TABLE schedules (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,		-- never reused
	name       TEXT    NOT NULL UNIQUE,
	cron       TEXT    NOT NULL,		-- the expression as given
	timezone   TEXT    NOT NULL,		-- an IANA zone
	job        TEXT    NOT NULL,		-- the job template: a checked spec, JSON
	overlap    TEXT    NOT NULL,		-- allow skip queue cancel
	misfire    TEXT    NOT NULL,		-- skip once all
	paused     INTEGER NOT NULL DEFAULT 0,
	until      INTEGER,			-- no tick after it; NULL: none
	created_at INTEGER NOT NULL,
	next_at    INTEGER,			-- the first tick not fired yet; NULL: none left
	last_job   INTEGER,			-- the last job it made
	waiting    INTEGER			-- overlap "queue": the tick owed a run
						-- once last_job has finished
);
-- The timer arms on the first tick due: one seek, however many schedules.
CREATE INDEX schedules_next ON schedules (next_at)
	WHERE next_at IS NOT NULL AND paused = 0;

-- Each tick fired, with the job it made (NULL: its policy made none), in
-- the transaction that made the job: a tick cannot fire twice.
-- Schedules owing a run (overlap "queue"): few, looked at when a job ends.
CREATE INDEX schedules_owed ON schedules (id) WHERE waiting IS NOT NULL;

CREATE TABLE schedule_ticks (
	schedule_id INTEGER NOT NULL,
	tick        INTEGER NOT NULL,
	job_id      INTEGER,
	PRIMARY KEY (schedule_id, tick)
) WITHOUT ROWID;
