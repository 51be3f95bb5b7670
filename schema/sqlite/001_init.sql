-- runnel schema, version 1: the job queue and queue settings.
-- Times are milliseconds since the Unix epoch (UTC); NULL means "not yet".

CREATE TABLE jobs (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, even after a delete
	type         TEXT    NOT NULL,                   -- 'command' | 'upload'
	name         TEXT,
	queue        TEXT    NOT NULL,
	priority     INTEGER NOT NULL,                   -- smaller runs sooner
	state        TEXT    NOT NULL,                   -- scheduled queued running succeeded failed canceled
	command      TEXT,                               -- shell form
	argv         TEXT,                               -- exec form, a JSON array
	env          TEXT,                               -- a JSON object
	cwd          TEXT,
	stdin        BLOB,
	timeout_ms   INTEGER,
	limits       TEXT,                               -- a JSON object
	attempts     INTEGER NOT NULL DEFAULT 0,
	max_attempts INTEGER NOT NULL DEFAULT 1,
	created_at   INTEGER NOT NULL,
	run_at       INTEGER,
	started_at   INTEGER,
	finished_at  INTEGER,
	exit_code    INTEGER,
	signal       INTEGER,
	error        TEXT,
	worker       INTEGER,
	stdout_bytes INTEGER NOT NULL DEFAULT 0,
	stderr_bytes INTEGER NOT NULL DEFAULT 0,
	cpu_ms       INTEGER,
	max_rss_kb   INTEGER,
	file_name    TEXT,                               -- upload jobs
	file_size    INTEGER,
	file_sha256  TEXT
);

-- Claiming: the head of each queue, by priority then id, over runnable jobs
-- only, so its cost does not grow with finished jobs.
CREATE INDEX jobs_runnable ON jobs (queue, priority, id) WHERE state = 'queued';
-- Listing newest first (keyset on id) by state, queue or type.  Only the
-- state index moves when a job changes state: each transition dirties few
-- pages, which is what a commit per dispatch costs.
CREATE INDEX jobs_state ON jobs (state, id);
CREATE INDEX jobs_queue ON jobs (queue, id);
CREATE INDEX jobs_type ON jobs (type, id);
-- Statistics and retention by finish time.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE queues (
	name        TEXT PRIMARY KEY,
	paused      INTEGER NOT NULL DEFAULT 0,
	concurrency INTEGER                               -- NULL: no limit
) WITHOUT ROWID;
