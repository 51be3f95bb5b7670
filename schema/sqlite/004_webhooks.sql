-- runnel schema, version 4: webhooks.  A finished job's deliveries are
-- recorded by the statement that finishes it (the trigger below), so no
-- path that ends a job can miss one; the sender (server/hook/) works
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

-- A job that reaches a finished state: a delivery per hook whose "on"
-- names that state (all of them when "on" is absent), at the finish time.
CREATE TRIGGER jobs_finish_hooks AFTER UPDATE OF state ON jobs
WHEN new.state IN ('succeeded', 'failed', 'canceled')
    AND old.state IS NOT new.state
BEGIN
	INSERT INTO deliveries (job_id, url, event, attempt, created_at, next_at)
	SELECT new.id, json_extract(h.value, '$.url'), 'job.' || new.state,
	    new.attempts, coalesce(new.finished_at, 0), coalesce(new.finished_at, 0)
	FROM (SELECT value FROM json_each(coalesce(new.webhooks, '[]'))
	      UNION ALL
	      SELECT value FROM queues, json_each(coalesce(queues.webhooks, '[]'))
	      WHERE queues.name = new.queue) AS h
	WHERE json_extract(h.value, '$.on') IS NULL OR EXISTS (SELECT 1 FROM
	    json_each(json_extract(h.value, '$.on')) AS o WHERE o.value = new.state);
END;

-- A job born finished (its dependency had failed) is told of too.
CREATE TRIGGER jobs_born_hooks AFTER INSERT ON jobs
WHEN new.state IN ('succeeded', 'failed', 'canceled')
BEGIN
	INSERT INTO deliveries (job_id, url, event, attempt, created_at, next_at)
	SELECT new.id, json_extract(h.value, '$.url'), 'job.' || new.state,
	    new.attempts, coalesce(new.finished_at, 0), coalesce(new.finished_at, 0)
	FROM (SELECT value FROM json_each(coalesce(new.webhooks, '[]'))
	      UNION ALL
	      SELECT value FROM queues, json_each(coalesce(queues.webhooks, '[]'))
	      WHERE queues.name = new.queue) AS h
	WHERE json_extract(h.value, '$.on') IS NULL OR EXISTS (SELECT 1 FROM
	    json_each(json_extract(h.value, '$.on')) AS o WHERE o.value = new.state);
END;

-- A job deleted takes its deliveries along.
CREATE TRIGGER jobs_delete_hooks AFTER DELETE ON jobs
BEGIN
	DELETE FROM delivery_tries WHERE delivery_id IN
	    (SELECT id FROM deliveries WHERE job_id = old.id);
	DELETE FROM deliveries WHERE job_id = old.id;
END;
