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

-- Counts by queue and state, so that stats, queues, metrics and
-- --max-queued never count the jobs table.  Each node adds the changes of
-- a turn to rows of its own, in one statement of that turn's transaction
-- (the count of a (queue, state) is the sum over nodes), so nodes never
-- wait for each other here; the leader folds the rows of nodes that are
-- gone into the shared ones (node '').  Jobs changed by hand in SQL are
-- not counted.
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
-- dashboard's chart, kept the same way; the leader forgets minutes older
-- than an hour.
CREATE TABLE job_minutes (
	node   text   NOT NULL,
	minute bigint NOT NULL,	-- finished_at / 60000
	n      bigint NOT NULL,
	PRIMARY KEY (node, minute)
);
