/*
 * The PostgreSQL backend's cluster statements (pg_cluster.h): their SQL,
 * each prepared on a connection the first time it runs there (and again
 * after a reconnect), run through pg_exec.c's pg_run like every other
 * statement; and the backend's cluster table (backend.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_cluster.h"

_Static_assert(CL_STMT_COUNT <= PG_CLUSTER_STMT_MAX,
    "struct pg_cluster has no room for every cluster statement");

#define MS	"::float8 * interval '1 millisecond'"
#define EPOCH_MS(t)	"(extract(epoch FROM " t ") * 1000)::bigint"
/*
 * Queue q has a queued job: its head on jobs_runnable (a plain EXISTS
 * was planned as a scan of the whole table when most jobs are queued).
 */
#define HAS_QUEUED(q)	"(SELECT j.id FROM jobs j WHERE j.state = 'queued' " \
	"AND j.queue = " q " ORDER BY j.priority, j.id LIMIT 1) IS NOT NULL"
/* A counts row whose writer is gone: a node without a row. */
#define GONE(c)	c ".node <> '' AND NOT EXISTS (SELECT 1 FROM nodes n " \
	"WHERE n.id = " c ".node)"

/* A claim's change of the job in next (its id as next_id): $1 the node,
 * $2 now, $3 the worker. */
#define CLAIM_NEXT \
	"UPDATE jobs SET state = 'running', attempts = attempts + 1, " \
	"started_at = greatest($2, run_at), worker = $3, node = $1, " \
	"cancel_requested = false, finished_at = NULL, exit_code = NULL, " \
	"signal = NULL, error = NULL, stdout_bytes = 0, stderr_bytes = 0, " \
	"cpu_ms = NULL, max_rss_kb = NULL FROM next " \
	"WHERE id = next.next_id RETURNING " PG_JOB_COLUMNS

const char *const pg_cluster_sql[CL_STMT_COUNT] = {
	[CL_JOIN_HOLDER] = "SELECT host, pid, " EPOCH_MS("now() - beat_at")
	    ", timeout_ms FROM nodes WHERE id = $1",
	[CL_JOIN] = "INSERT INTO nodes (id, host, pid, workers, listen, "
	    "timeout_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO "
	    "UPDATE SET host = excluded.host, pid = excluded.pid, "
	    "workers = excluded.workers, listen = excluded.listen, "
	    "timeout_ms = excluded.timeout_ms, started_at = now(), "
	    "beat_at = now()",
	/* clock_timestamp(), not now(): the turn may have begun a while ago. */
	[CL_BEAT] = "UPDATE nodes SET beat_at = now() WHERE id = $1 "
	    "RETURNING " EPOCH_MS("clock_timestamp()"),
	[CL_LEAVE] = "DELETE FROM nodes WHERE id = $1",
	[CL_RESIGN] = "DELETE FROM leader WHERE node = $1",
	[CL_NODES] = "SELECT n.id, n.host, coalesce(n.listen, ''), n.pid, "
	    "n.workers, n.timeout_ms, " EPOCH_MS("n.started_at") ", "
	    EPOCH_MS("n.beat_at") ", " EPOCH_MS("now() - n.beat_at") ", "
	    "coalesce(l.node = n.id AND l.expires_at > now(), false), "
	    "j.id, coalesce(j.worker, 0), coalesce(j.started_at, 0) "
	    "FROM nodes n LEFT JOIN leader l ON l.name = 'leader' "
	    "LEFT JOIN jobs j ON j.state = 'running' AND j.node = n.id "
	    "ORDER BY n.id COLLATE \"C\", j.worker, j.id",
	/*
	 * The lease: everyone looks (no lock); its holder renews it, and
	 * anyone takes it over once it expired, locking its row without
	 * waiting (a node stopped in the middle of a turn may hold it) for
	 * the rest of the turn, so that nobody else can meanwhile.
	 */
	[CL_LEASE_HOLDER] = "SELECT node, expires_at > now() FROM leader "
	    "WHERE name = 'leader'",
	[CL_LEASE_RENEW] = "UPDATE leader SET node = $1, elected_at = CASE "
	    "WHEN node = $1 THEN elected_at ELSE now() END, "
	    "expires_at = now() + $2" MS " WHERE name IN (SELECT name FROM "
	    "leader WHERE name = 'leader' AND (node = $1 OR expires_at <= now()) "
	    "FOR UPDATE SKIP LOCKED) RETURNING 1",
	[CL_LEASE_TAKE] = "INSERT INTO leader (name, node, elected_at, "
	    "expires_at) VALUES ('leader', $1, now(), now() + $2" MS ") "
	    "ON CONFLICT (name) DO NOTHING RETURNING 1",
	/* A row locked by its node's open transaction is left for later:
	 * the leader never waits for a node that may be stopped.  Never
	 * the leader's own row: it is alive, whatever its last beat says
	 * (a beat lost with a commit when the database went away). */
	[CL_PRUNE] = "DELETE FROM nodes WHERE id IN (SELECT id FROM nodes "
	    "WHERE beat_at < now() - timeout_ms" MS " AND id <> $1 "
	    "FOR UPDATE SKIP LOCKED) RETURNING id, host, pid",
	/*
	 * Counts made by nodes that are gone join the shared ones; rows a
	 * transaction holds now stay where they are: they still add up, and
	 * nobody waits.
	 */
	[CL_FOLD_COUNTS] = "WITH gone AS (DELETE FROM job_counts WHERE "
	    "(node, queue, state) IN (SELECT c.node, c.queue, c.state FROM "
	    "job_counts c WHERE " GONE("c") " FOR UPDATE OF c SKIP LOCKED) "
	    "RETURNING queue, state, n) INSERT INTO job_counts AS c (node, "
	    "queue, state, n) SELECT '', queue, state, sum(n) FROM gone "
	    "GROUP BY queue, state "
	    "ON CONFLICT (node, queue, state) DO UPDATE SET n = c.n + excluded.n",
	[CL_FOLD_MINUTES] = "WITH gone AS (DELETE FROM job_minutes WHERE "
	    "(node, minute) IN (SELECT c.node, c.minute FROM job_minutes c "
	    "WHERE " GONE("c") " FOR UPDATE OF c SKIP LOCKED) "
	    "RETURNING minute, n) INSERT INTO job_minutes AS m (node, minute, n) "
	    "SELECT '', minute, sum(n) FROM gone GROUP BY minute "
	    "ON CONFLICT (node, minute) DO UPDATE SET n = m.n + excluded.n",
	/* Running with no live node: its node's row was pruned (or it
	 * never had one).  Few rows: jobs_running. */
	[CL_ORPHANS] = "SELECT j.id, j.queue, coalesce(j.node, ''), "
	    "j.attempts, j.max_attempts, coalesce(j.started_at, 0), "
	    "j.stdout_bytes, j.stderr_bytes, j.cancel_requested FROM jobs j "
	    "WHERE j.state = 'running' AND NOT EXISTS (SELECT 1 FROM nodes n "
	    "WHERE n.id = j.node) ORDER BY j.id LIMIT $1 "
	    "FOR UPDATE OF j SKIP LOCKED",
	[CL_FENCE] = "SELECT 1 FROM jobs WHERE id = $1 AND state = 'running' "
	    "AND coalesce(node, '') = $2 AND attempts = $3 FOR UPDATE",
	[CL_NODE_JOBS] = "SELECT id FROM jobs WHERE state = 'running' "
	    "AND node = $1 ORDER BY id",
	[CL_CANCEL_REQUEST] = "UPDATE jobs SET cancel_requested = true "
	    "WHERE id = $1 AND state = 'running' RETURNING coalesce(node, '')",
	[CL_CANCEL_REQUESTS] = "SELECT id FROM jobs WHERE state = 'running' "
	    "AND node = $1 AND cancel_requested ORDER BY id",
	[CL_NOTIFY] = "SELECT pg_notify($1, $2)",
	/*
	 * A dispatch round, first statement: the node's row (KEY SHARE: a
	 * prune waits for this turn's claims, then sees them) and the
	 * limited queues with work that no other node is claiming from.
	 * Their names are also kept for the transaction in runnel.round,
	 * for CL_CLAIM_FIRST.
	 */
	[CL_ROUND_LOCK] = "WITH me AS (SELECT id FROM nodes WHERE id = $1 "
	    "FOR KEY SHARE), lim AS (SELECT q.name FROM queues q "
	    "WHERE q.paused = 0 AND q.concurrency IS NOT NULL AND "
	    HAS_QUEUED("q.name") " ORDER BY q.name FOR UPDATE OF q SKIP LOCKED), "
	    "kept AS (SELECT set_config('runnel.round', coalesce((SELECT "
	    "string_agg(name, ',') FROM lim), ''), true) AS held) "
	    "SELECT (SELECT count(*) FROM me), l.name, kept.held "
	    "FROM (SELECT 1) one LEFT JOIN lim l ON true CROSS JOIN kept",
	/*
	 * Second statement, a snapshot taken after the locks: every claim
	 * of a limited queue by another node is committed by now, and
	 * counted.
	 */
	[CL_ROUND_QUEUES] = "SELECT q.name, q.paused, "
	    "coalesce(q.concurrency, 0), CASE WHEN q.concurrency IS NULL "
	    "THEN 0 ELSE (SELECT count(*) FROM jobs j WHERE "
	    "j.state = 'running' AND j.queue = q.name) END, "
	    "q.concurrency IS NOT NULL AND " HAS_QUEUED("q.name") " FROM queues q "
	    "WHERE q.paused <> 0 OR q.concurrency IS NOT NULL",
	/*
	 * The claim: the first queued job in (priority, id) order of a
	 * queue not blocked (jobs_claim), skipping rows other nodes hold.
	 * The rest as store_claim.  A job made due by another node, whose
	 * clock may be a few ms ahead of this one's (each is only aligned
	 * with the database's), does not start before its run_at.
	 */
	[CL_CLAIM] = "WITH next AS (SELECT id AS next_id FROM jobs "
	    "WHERE state = 'queued' AND NOT (queue = ANY ($4::text[])) "
	    "ORDER BY priority, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
	    CLAIM_NEXT,
	/*
	 * CL_CLAIM right after a round's CL_ROUND_LOCK in one pipeline,
	 * before its answer: what is blocked comes from the database as
	 * pg_claim_round_read would make it (paused; limited and not locked
	 * by this round, or full, counted after the lock), and nothing is
	 * claimed when the node's row is gone.  NOT IN (a hashed subplan)
	 * rather than <> ALL (ARRAY(...)), whose estimate of 1 row made the
	 * planner sort every queued job instead of walking jobs_claim.
	 */
	[CL_CLAIM_FIRST] = "WITH held AS (SELECT unnest(string_to_array("
	    "current_setting('runnel.round', true), ',')) AS name), "
	    "blocked AS (SELECT q.name FROM queues q WHERE q.paused <> 0 OR "
	    "(q.concurrency IS NOT NULL AND (q.name NOT IN (SELECT name FROM "
	    "held) OR (SELECT count(*) FROM jobs j WHERE j.state = 'running' "
	    "AND j.queue = q.name) >= q.concurrency))), "
	    "next AS (SELECT id AS next_id FROM jobs "
	    "WHERE state = 'queued' AND queue NOT IN (SELECT name FROM "
	    "blocked) AND EXISTS (SELECT 1 FROM nodes WHERE id = $1) "
	    "ORDER BY priority, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
	    CLAIM_NEXT,
	[CL_DUE] = "SELECT id, queue FROM jobs WHERE state = 'scheduled' "
	    "AND deps_left = 0 AND run_at IS NOT NULL AND run_at <= $1 "
	    "ORDER BY run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
	/* Replaces only an expired record: a fresh one is the other node's. */
	[CL_IDEM_TAKE] = "INSERT INTO idempotency AS i (key, body_sha, jobs, "
	    "batch, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key) "
	    "DO UPDATE SET body_sha = excluded.body_sha, jobs = excluded.jobs, "
	    "batch = excluded.batch, created_at = excluded.created_at "
	    "WHERE i.created_at < $6 RETURNING 1",
	/* A turn's changes to the counts, in one statement. */
	[CL_COUNTS_ADD] = "WITH counted AS (INSERT INTO job_counts AS c (node, "
	    "queue, state, n) SELECT $1, q, s, sum(d) FROM unnest($2::text[], "
	    "$3::text[], $4::bigint[]) AS x(q, s, d) GROUP BY q, s "
	    "ON CONFLICT (node, queue, state) DO UPDATE SET n = c.n + excluded.n "
	    "RETURNING 1) INSERT INTO job_minutes AS m (node, minute, n) "
	    "SELECT $1, mi, sum(d) FROM unnest($5::bigint[], $6::bigint[]) "
	    "AS y(mi, d) GROUP BY mi "
	    "ON CONFLICT (node, minute) DO UPDATE SET n = m.n + excluded.n",
	[CL_COUNTS] = "SELECT queue, state, sum(n)::bigint FROM job_counts "
	    "GROUP BY queue, state HAVING sum(n) <> 0 "
	    "ORDER BY queue COLLATE \"C\", state COLLATE \"C\"",
	[CL_MINUTES] = "SELECT minute, sum(n)::bigint FROM job_minutes "
	    "WHERE minute >= $1 GROUP BY minute",
	[CL_MINUTES_PURGE] = "DELETE FROM job_minutes WHERE minute < $1",
	/* store_finish (pg.c's finish) with CL_FENCE's conditions: the
	 * fence and the end of the attempt in one statement. */
	[CL_FINISH] = "UPDATE jobs SET state = $2, exit_code = $3, "
	    "signal = $4, error = $5, finished_at = $6, stdout_bytes = $7, "
	    "stderr_bytes = $8, cpu_ms = $9, max_rss_kb = $10, "
	    "started_at = coalesce($11, started_at), "
	    "run_at = coalesce($12, run_at) "
	    "WHERE id = $1 AND state = 'running' "
	    "AND coalesce(node, '') = $13 AND attempts = $14",
	/* As pg.c's dependents, sent right after CL_FINISH. */
	[CL_DEPENDENTS] = "SELECT job_id FROM job_deps WHERE dep_id = $1 "
	    "ORDER BY job_id",
	/*
	 * A dependency's state for a submit naming it in after, its row held
	 * until the commit (FOR SHARE): an end another node stores meanwhile
	 * waits for this turn, then reads the new job among its dependents;
	 * one stored before is what this reads.
	 */
	[CL_DEP_STATE] = "SELECT state FROM jobs WHERE id = $1 FOR SHARE",
};

/* ---- statements ---- */

static void
stmt_name(enum cl_stmt_id id, char *name, size_t size)
{
	snprintf(name, size, "runnel_cl_%d", (int)id);
}

void
pg_cluster_forget(struct pg_store *s)
{
	memset(s->cl.ready, 0, sizeof(s->cl.ready));
}

/* Prepares statement id on this connection unless it is already. */
static int
prepare(struct pg_store *s, int id)
{
	char		 name[16];
	PGresult	*r;

	if (s->cl.ready[id])
		return 0;
	stmt_name(id, name, sizeof(name));
	r = pg_answer(s, PQsendPrepare(s->conn, name, pg_cluster_sql[id], 0,
	    NULL), name);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return pg_fail(s, pg_cluster_sql[id], r);
	PQclear(r);
	s->cl.ready[id] = 1;
	return 0;
}

int
pg_cluster_exec(struct pg_store *s, enum cl_stmt_id id, struct pg_params *p,
    PGresult **res)
{
	const struct pg_prep	 prep = {prepare, pg_cluster_forget, (int)id};
	char			 name[16];

	stmt_name(id, name, sizeof(name));
	return pg_run(s, pg_cluster_sql[id], name, NULL, &prep, p, res);
}

int
pg_cluster_exec_all(struct pg_store *s, int n, const enum cl_stmt_id *ids,
    struct pg_params **ps, PGresult **res)
{
	char		 names[CL_EXEC_MAX][16];
	struct pg_stmt	 st[CL_EXEC_MAX];
	const char	*early;
	int		 rc = 0, again = 1, failed;

	for (int i = 0; i < n; i++)
		res[i] = NULL;
	if (n > CL_EXEC_MAX) {
		rc = -EINVAL;
		goto out;
	}
	for (int i = 0; i < n; i++)
		if ((rc = pg_sendable(s, ps[i], 1)) < 0)
			goto out;
	/* Prepared again on a new connection (pg_send resets a broken one
	 * under the turn's first statement), then sent again once. */
	for (;;) {
		for (int i = 0; i < n; i++) {
			if ((rc = prepare(s, ids[i])) < 0)
				goto out;
			stmt_name(ids[i], names[i], sizeof(names[i]));
			st[i] = (struct pg_stmt){names[i], NULL, ps[i]};
		}
		failed = pg_send_all(s, n > 0 ? pg_cluster_sql[ids[0]] :
		    "statements", st, n, res, &early, &again);
		if (!again)
			break;
		again = 0;
	}
	if (failed) {
		rc = pg_fail_early(s, early, res[0]);
		res[0] = NULL;
		goto out;
	}
	/* The first that failed says why; those after it did not run. */
	for (int i = 0; i < n; i++) {
		ExecStatusType rs = PQresultStatus(res[i]);

		if (res[i] && (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK))
			continue;
		if (pg_unknown(res[i]))
			pg_cluster_forget(s);
		rc = pg_fail(s, pg_cluster_sql[ids[i]], res[i]);
		res[i] = NULL;
		break;
	}
out:
	for (int i = 0; i < n; i++) {
		if (ps[i])
			pg_params_clear(ps[i]);
		if (rc < 0) {
			PQclear(res[i]);
			res[i] = NULL;
		}
	}
	return rc;
}

int
pg_cluster_defer(struct pg_store *s, enum cl_stmt_id id, struct pg_params *p)
{
	char	 name[16];
	int	 rc;

	if ((rc = pg_sendable(s, p, 1)) < 0 || (rc = prepare(s, id)) < 0) {
		if (p)
			pg_params_clear(p);
		return rc;
	}
	stmt_name(id, name, sizeof(name));
	return pg_defer(s, pg_cluster_sql[id], name, NULL, p);
}

int
pg_cluster_changes(struct pg_store *s, enum cl_stmt_id id,
    struct pg_params *p)
{
	const struct pg_prep	 prep = {prepare, pg_cluster_forget, (int)id};
	char			 name[16];

	stmt_name(id, name, sizeof(name));
	return pg_run_changes(s, pg_cluster_sql[id], name, &prep, p);
}

int
pg_cluster_ids(struct pg_store *s, enum cl_stmt_id id, struct pg_params *p,
    uint64_t **ids, size_t *n)
{
	const struct pg_prep	 prep = {prepare, pg_cluster_forget, (int)id};
	char			 name[16];

	stmt_name(id, name, sizeof(name));
	return pg_run_ids(s, pg_cluster_sql[id], name, &prep, p, ids, n);
}

/* ---- the backend's cluster table ---- */

const struct store_cluster_ops pg_cluster_ops = {
	.node_session = pg_node_session,
	.link_start = pg_link_start,
	.link_stop = pg_link_stop,
	.link_up = pg_link_up,
	.link_info = pg_link_info,
	.node_join = pg_node_join,
	.node_beat = pg_node_beat,
	.node_leave = pg_node_leave,
	.nodes = pg_node_list,
	.lease = pg_node_lease,
	.nodes_prune = pg_node_prune,
	.orphans = pg_node_orphans,
	.fence = pg_node_fence,
	.dep_state = pg_node_dep_state,
	.finish_fenced = pg_node_finish_fenced,
	.node_jobs = pg_node_jobs,
	.cancel_request = pg_node_cancel_request,
	.cancel_requests = pg_node_cancel_requests,
	.notify = pg_node_notify,
	.submit_held = pg_submit_held,
	.claim_round = pg_claim_round,
	.claim_next = pg_claim_next,
	.due_skip = pg_claim_due_skip,
	.idem_take = pg_claim_idem_take,
	.counts_add = pg_claim_counts_add,
	.counts = pg_claim_counts,
	.counts_fold = pg_node_counts_fold,
	.minutes = pg_claim_minutes,
	.minutes_purge = pg_claim_minutes_purge,
};
