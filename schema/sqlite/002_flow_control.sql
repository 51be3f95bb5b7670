-- runnel schema, version 2: dependencies, scheduling and idempotency.

-- after: the job ids (a JSON array) that must succeed before this job runs;
-- deps_left: how many of them have not succeeded yet.
ALTER TABLE jobs ADD COLUMN after TEXT;
ALTER TABLE jobs ADD COLUMN deps_left INTEGER NOT NULL DEFAULT 0;

-- Scheduled jobs whose only wait is their time: the due timer arms itself
-- on the first of them, so nothing scans the table.
CREATE INDEX jobs_due ON jobs (run_at, id)
	WHERE state = 'scheduled' AND deps_left = 0 AND run_at IS NOT NULL;

-- Who waits for whom: a finished job finds its dependents by one seek.
CREATE TABLE job_deps (
	dep_id INTEGER NOT NULL,	-- the job waited for
	job_id INTEGER NOT NULL,	-- the job that waits
	PRIMARY KEY (dep_id, job_id)
) WITHOUT ROWID;
CREATE INDEX job_deps_job ON job_deps (job_id);

-- Idempotency-Key: what a key created, kept 24 hours.
CREATE TABLE idempotency (
	key        TEXT PRIMARY KEY,
	body_sha   TEXT    NOT NULL,	-- SHA-256 of the request body
	jobs       TEXT    NOT NULL,	-- JSON array of the job ids created
	batch      INTEGER NOT NULL,	-- 1 if the request was an array
	created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX idempotency_age ON idempotency (created_at);
