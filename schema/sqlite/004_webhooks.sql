-- runnel schema, version 4: webhooks.  A finished job's deliveries are
-- recorded in the transaction that finishes it, by the store calls every
-- path that ends a job goes through; the sender (server/hook/) works
-- through them, at least once each, retrying for up to a day.

-- A queue's webhooks apply to every job of the queue, beside the job's own.
ALTER TABLE queues ADD COLUMN webhooks TEXT;

CREATE TABLE deliveries (
	-- X-Runnel-Delivery: never reused (AUTOINCREMENT: not the id of a
	-- deleted job's delivery, whose try may still be answered)
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	job_id      INTEGER NOT NULL,
	url         TEXT    NOT NULL,
	event       TEXT    NOT NULL,	-- job.succeeded job.failed job.canceled
	attempt     INTEGER NOT NULL,	-- the job's attempt that finished
	created_at  INTEGER NOT NULL,
	state       TEXT    NOT NULL DEFAULT 'pending',	-- pending delivered failed
	tries       INTEGER NOT NULL DEFAULT 0,
	next_at     INTEGER NOT NULL,	-- pending: the next try (or a try's lease)
	last_at     INTEGER,
	last_status INTEGER,		-- the last answer's HTTP status
	last_error  TEXT
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 'pending';
CREATE INDEX deliveries_job ON deliveries (job_id, id);

-- Each try and its answer, for GET /api/v1/jobs/{id}/deliveries.
CREATE TABLE delivery_tries (
	delivery_id INTEGER NOT NULL,
	try         INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	status      INTEGER,		-- NULL: no answer
	error       TEXT,
	response    TEXT,		-- the answer's first bytes
	PRIMARY KEY (delivery_id, try)
) WITHOUT ROWID;

-- The answer to a try of a delivery deleted meanwhile (its job was) is
-- dropped, not kept under an id no delivery has.
CREATE TRIGGER delivery_tries_orphan BEFORE INSERT ON delivery_tries
WHEN NOT EXISTS (SELECT 1 FROM deliveries WHERE id = new.delivery_id)
BEGIN
	SELECT RAISE(IGNORE);
END;

-- A job's deliveries are recorded by the store when it finishes, in the
-- same transaction (sqlite_hooks.c, sqlite_hooks_record): not by a trigger on jobs,
-- which would make every update of a job two-pass in SQLite (about 15 us
-- a job end to end, measured) whether or not anyone uses webhooks.
