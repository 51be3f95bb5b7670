-- runnel schema for PostgreSQL, version 2: cluster mode.  Several runneld
-- nodes share this database: each has a row in nodes and beats in it, one
-- of them holds the leader's lease, and every running attempt names the
-- node that runs it.  Times that nodes must agree on are the database's
-- (now()), as timestamptz; the jobs' own times stay milliseconds.

-- The nodes: a row per live node, its heartbeat in beat_at.  A node whose
-- beat is older than its timeout is dead: the leader deletes its row and
-- rescues its running jobs (retried or failed with "node lost").
CREATE TABLE nodes (
	id         text        PRIMARY KEY,
	host       text        NOT NULL,
	pid        integer     NOT NULL,
	workers    integer     NOT NULL,
	listen     text,                           -- host:port it serves on
	timeout_ms bigint      NOT NULL,           -- its --node-timeout
	started_at timestamptz NOT NULL DEFAULT now(),
	beat_at    timestamptz NOT NULL DEFAULT now()
);

-- The leader's lease: one row, taken when absent or expired, renewed by
-- its holder (as River elects its leader).  The leader rescues the jobs of
-- dead nodes and runs retention and the idempotency purge.
CREATE TABLE leader (
	name       text        PRIMARY KEY DEFAULT 'leader',
	node       text        NOT NULL,
	elected_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL
);

-- node: who runs (or last ran) the attempt; with attempts, the attempt's
-- fence: a finish applies only while the row is running with both.
-- cancel_requested: a cancel asked on any node, for the node running it.
ALTER TABLE jobs ADD COLUMN node text;
ALTER TABLE jobs ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;

-- Running jobs by node: the rescue, a node's own jobs, cancel requests
-- (few rows: one per busy worker).  Claims use 001's jobs_claim, and the
-- running count of a limited queue its jobs_running.
CREATE INDEX jobs_node ON jobs (node) WHERE state = 'running';

-- Counts by queue and state, kept by the triggers below so that stats,
-- queues, metrics and --max-queued never count the jobs table.  Each
-- connection adds its changes to rows of its own (a node's: runnel.node,
-- set per session; any other's: pid:N, its backend), so transactions
-- never wait for each other here; the count of a (queue, state) is the
-- sum over all rows.  The leader folds the rows of nodes and backends
-- that are gone into the shared ones (node '').
CREATE TABLE job_counts (
	node  text   NOT NULL,
	queue text   NOT NULL,
	state text   NOT NULL,
	n     bigint NOT NULL,
	PRIMARY KEY (node, queue, state)
);
INSERT INTO job_counts (node, queue, state, n)
	SELECT '', queue, state, count(*) FROM jobs GROUP BY queue, state;

-- Attempts that ended (from running to a final state) per minute, for the
-- dashboard's chart; the leader forgets minutes older than an hour.
CREATE TABLE job_minutes (
	node   text   NOT NULL,
	minute bigint NOT NULL,	-- finished_at / 60000
	n      bigint NOT NULL,
	PRIMARY KEY (node, minute)
);

-- Whose rows a connection's changes go to.
CREATE FUNCTION runnel_counts_key() RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce(nullif(current_setting('runnel.node', true), ''),
	    'pid:' || pg_backend_pid())
$$;

CREATE FUNCTION runnel_counts_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO job_counts AS c (node, queue, state, n)
	SELECT runnel_counts_key(), queue, state, count(*)
	FROM new_rows GROUP BY queue, state
	ON CONFLICT (node, queue, state) DO UPDATE SET n = c.n + excluded.n;
	RETURN NULL;
END $$;

CREATE FUNCTION runnel_counts_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO job_counts AS c (node, queue, state, n)
	SELECT runnel_counts_key(), queue, state, -count(*)
	FROM old_rows GROUP BY queue, state
	ON CONFLICT (node, queue, state) DO UPDATE SET n = c.n + excluded.n;
	RETURN NULL;
END $$;

CREATE FUNCTION runnel_counts_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	me text := runnel_counts_key();
BEGIN
	INSERT INTO job_counts AS c (node, queue, state, n)
	SELECT me, queue, state, sum(d) FROM (
		SELECT queue, state, 1 AS d FROM new_rows
		UNION ALL
		SELECT queue, state, -1 FROM old_rows) x
	GROUP BY queue, state HAVING sum(d) <> 0
	ON CONFLICT (node, queue, state) DO UPDATE SET n = c.n + excluded.n;
	INSERT INTO job_minutes AS m (node, minute, n)
	SELECT me, nw.finished_at / 60000, count(*)
	FROM new_rows nw JOIN old_rows o ON o.id = nw.id
	WHERE o.state = 'running' AND nw.finished_at IS NOT NULL
	    AND nw.state IN ('succeeded', 'failed', 'canceled')
	GROUP BY 2
	ON CONFLICT (node, minute) DO UPDATE SET n = m.n + excluded.n;
	RETURN NULL;
END $$;

CREATE TRIGGER jobs_counts_insert AFTER INSERT ON jobs
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION runnel_counts_insert();
CREATE TRIGGER jobs_counts_delete AFTER DELETE ON jobs
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION runnel_counts_delete();
CREATE TRIGGER jobs_counts_update AFTER UPDATE ON jobs
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION runnel_counts_update();
