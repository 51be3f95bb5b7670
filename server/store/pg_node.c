/*
 * The PostgreSQL backend's nodes (store/cluster.h): each node's row and
 * heartbeat, the leader's lease, the rescue of the jobs of dead nodes,
 * the fence of an attempt, cancel requests and notifications; and the
 * table of every cluster statement, prepared on first use.  Whether a
 * node is dead is decided in SQL on the database's clock: a node's beat
 * older than the timeout it registered with.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "store/pg_cluster.h"

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

const char *const cl_sql[CL_STMT_COUNT] = {
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
	 */
	[CL_ROUND_LOCK] = "WITH me AS (SELECT id FROM nodes WHERE id = $1 "
	    "FOR KEY SHARE), lim AS (SELECT q.name FROM queues q "
	    "WHERE q.paused = 0 AND q.concurrency IS NOT NULL AND "
	    HAS_QUEUED("q.name") " ORDER BY q.name FOR UPDATE OF q SKIP LOCKED) "
	    "SELECT (SELECT count(*) FROM me), l.name FROM (SELECT 1) one "
	    "LEFT JOIN lim l ON true",
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
	 * The rest as store_claim.
	 */
	[CL_CLAIM] = "WITH next AS (SELECT id AS next_id FROM jobs "
	    "WHERE state = 'queued' AND NOT (queue = ANY ($4::text[])) "
	    "ORDER BY priority, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
	    "UPDATE jobs SET state = 'running', attempts = attempts + 1, "
	    "started_at = $2, worker = $3, node = $1, "
	    "cancel_requested = false, finished_at = NULL, exit_code = NULL, "
	    "signal = NULL, error = NULL, stdout_bytes = 0, stderr_bytes = 0, "
	    "cpu_ms = NULL, max_rss_kb = NULL FROM next "
	    "WHERE id = next.next_id RETURNING " PG_JOB_COLUMNS,
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
};

/* ---- statements ---- */

/*
 * Which statements this connection has prepared.  One store per
 * process uses them (runneld's); another connection starts afresh.
 */
static struct {
	const PGconn	*conn;
	unsigned char	 ready[CL_STMT_COUNT];
	/* the session's settings, applied again after a reconnect */
	int64_t		 lock_ms;
	int64_t		 idle_ms;
	int64_t		 statement_ms;
	int		 (*next_reset)(struct pg_store *, void *);
	void		*next_arg;
} cl;

static void
cl_forget(const PGconn *conn)
{
	cl.conn = conn;
	memset(cl.ready, 0, sizeof(cl.ready));
}

/*
 * pg.c's run() for a statement of ours: the same checks before it is
 * sent (parameters held, no failed savepoint, a connection), and a
 * failure goes through pg_fail, which logs it and applies it to the
 * turn.  A statement is prepared on its first run on this connection.
 */
/* The checks before a statement is sent, and its preparation. */
static int
cl_ready(struct pg_store *s, enum cl_stmt_id id, struct pg_params *p,
    char *name, size_t size)
{
	PGresult *r;

	if (cl.conn != s->conn)
		cl_forget(s->conn);
	if (p && p->err)
		return p->err;
	if (s->in_txn && s->mark_error)
		return s->mark_error;
	if (PQstatus(s->conn) != CONNECTION_OK || !s->prepared) {
		/* Logged when it broke; it is being made again. */
		pg_turn_failed(s, -ENOTCONN);
		if (PQstatus(s->conn) != CONNECTION_OK)
			pg_link_lost(s, 0);
		return -ENOTCONN;
	}
	snprintf(name, size, "runnel_cl_%d", (int)id);
	if (!cl.ready[id]) {
		r = pg_answer(s, PQsendPrepare(s->conn, name, cl_sql[id], 0,
		    NULL), name);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			return pg_fail(s, cl_sql[id], r);
		PQclear(r);
		cl.ready[id] = 1;
	}
	return 0;
}

int
cl_exec(struct pg_store *s, enum cl_stmt_id id, struct pg_params *p,
    PGresult **res)
{
	char		 name[16];
	PGresult	*r;
	ExecStatusType	 st;
	const char	*early;
	int		 rc, again = 1;

	if (res)
		*res = NULL;
	/* Prepared again on a new connection (pg_send resets a broken one
	 * under the turn's first statement), then sent again once. */
	for (;;) {
		if ((rc = cl_ready(s, id, p, name, sizeof(name))) < 0)
			goto out;
		if ((r = pg_send(s, name, name, NULL, p, &early, &again)) !=
		    NULL || !again)
			break;
		again = 0;
	}
	st = PQresultStatus(r);
	if (early) {
		rc = pg_fail_early(s, early, r);
	} else if (r && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
		if (res)
			*res = r;
		else
			PQclear(r);
	} else {
		const char *code = r ? PQresultErrorField(r,
		    PG_DIAG_SQLSTATE) : NULL;

		/* 26000: the session lost its statements (a new backend). */
		if (code && strcmp(code, "26000") == 0)
			cl_forget(s->conn);
		rc = pg_fail(s, cl_sql[id], r);
	}
out:
	if (p)
		pg_params_clear(p);
	return rc;
}

int
cl_exec_all(struct pg_store *s, int n, const enum cl_stmt_id *ids,
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
	for (;;) {
		for (int i = 0; i < n; i++) {
			if ((rc = cl_ready(s, ids[i], ps[i], names[i],
			    sizeof(names[i]))) < 0)
				goto out;
			st[i] = (struct pg_stmt){names[i], NULL, ps[i]};
		}
		failed = pg_send_all(s, n > 0 ? cl_sql[ids[0]] :
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
		const char *code;

		if (res[i] && (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK))
			continue;
		code = res[i] ? PQresultErrorField(res[i], PG_DIAG_SQLSTATE) :
		    NULL;
		if (code && strcmp(code, "26000") == 0)
			cl_forget(s->conn);
		rc = pg_fail(s, cl_sql[ids[i]], res[i]);
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
cl_defer(struct pg_store *s, enum cl_stmt_id id, struct pg_params *p)
{
	char	 name[16];
	int	 rc;

	if ((rc = cl_ready(s, id, p, name, sizeof(name))) < 0) {
		if (p)
			pg_params_clear(p);
		return rc;
	}
	return pg_defer(s, cl_sql[id], name, NULL, p);
}

int
cl_changes(struct pg_store *s, enum cl_stmt_id id, struct pg_params *p)
{
	PGresult	*r;
	int		 rc;

	if ((rc = cl_exec(s, id, p, &r)) < 0)
		return rc;
	rc = atoi(PQcmdTuples(r));
	PQclear(r);
	return rc;
}

int
cl_ids(struct pg_store *s, enum cl_stmt_id id, struct pg_params *p,
    uint64_t **ids, size_t *n)
{
	PGresult	*r;
	int		 rc, rows;

	*ids = NULL;
	*n = 0;
	if ((rc = cl_exec(s, id, p, &r)) < 0)
		return rc;
	if ((rows = PQntuples(r)) > 0) {
		if ((*ids = calloc((size_t)rows, sizeof(**ids))) == NULL) {
			PQclear(r);
			return -ENOMEM;
		}
		for (int i = 0; i < rows; i++)
			(*ids)[i] = (uint64_t)pg_int(r, i, 0);
		*n = (size_t)rows;
	}
	PQclear(r);
	return 0;
}

/* ---- the session ---- */

int
store_clustered(const struct store *s)
{
	return strcmp(store_backend(s), "postgresql") == 0;
}

static int
session_apply(struct pg_store *s)
{
	struct pg_params	 p;
	char			 lock[32], idle[32], stmt[32];

	snprintf(lock, sizeof(lock), "%lldms", (long long)cl.lock_ms);
	snprintf(idle, sizeof(idle), "%lldms", (long long)cl.idle_ms);
	snprintf(stmt, sizeof(stmt), "%lldms", (long long)cl.statement_ms);
	pg_params_init(&p);
	pg_param_text(&p, lock);
	pg_param_text(&p, idle);
	pg_param_text(&p, stmt);
	/* A statement_timeout the server or the role set is theirs. */
	return pg_exec_sql(s, "cluster session", "SELECT "
	    "set_config('lock_timeout', $1, false), "
	    "set_config('idle_in_transaction_session_timeout', $2, false), "
	    "CASE WHEN current_setting('statement_timeout') = '0' "
	    "THEN set_config('statement_timeout', $3, false) END",
	    &p, NULL);
}

/* After a reconnect: a new backend, without our statements or settings. */
static int
session_reset(struct pg_store *s, void *arg)
{
	int rc;

	(void)arg;
	cl_forget(s->conn);
	if ((rc = session_apply(s)) < 0)
		return rc;
	return cl.next_reset ? cl.next_reset(s, cl.next_arg) : 0;
}

int
store_node_session(struct store *store, int64_t lock_ms, int64_t idle_ms,
    int64_t statement_ms)
{
	struct pg_store *s = pg_of(store);

	cl.lock_ms = lock_ms;
	cl.idle_ms = idle_ms;
	cl.statement_ms = statement_ms;
	if (s->reset_cb != session_reset) {
		cl.next_reset = s->reset_cb;
		cl.next_arg = s->reset_arg;
		s->reset_cb = session_reset;
		s->reset_arg = NULL;
	}
	return session_apply(s);
}

/* ---- nodes ---- */

int
store_node_join(struct store *store, const struct node_row *me,
    int (*pid_alive)(int), struct node_row *holder)
{
	struct pg_store		*s = pg_of(store);
	struct pg_params	 p;
	PGresult		*r;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_text(&p, me->id);
	if ((rc = cl_exec(s, CL_JOIN_HOLDER, &p, &r)) < 0)
		return rc;
	if (PQntuples(r) == 1) {
		memset(holder, 0, sizeof(*holder));
		snprintf(holder->id, sizeof(holder->id), "%s", me->id);
		snprintf(holder->host, sizeof(holder->host), "%s",
		    PQgetvalue(r, 0, 0));
		holder->pid = (int)pg_int(r, 0, 1);
		holder->beat_age_ms = pg_int(r, 0, 2);
		holder->timeout_ms = pg_int(r, 0, 3);
		holder->alive = holder->beat_age_ms < holder->timeout_ms;
		/* Ours before a restart, or a process of this host now gone. */
		if (strcmp(holder->host, me->host) == 0 &&
		    (holder->pid == me->pid || !pid_alive(holder->pid)))
			holder->alive = 0;
		if (holder->alive) {
			PQclear(r);
			return -EEXIST;
		}
	}
	PQclear(r);
	pg_params_init(&p);
	pg_param_text(&p, me->id);
	pg_param_text(&p, me->host);
	pg_param_int(&p, me->pid);
	pg_param_int(&p, me->workers);
	pg_param_text(&p, me->listen[0] ? me->listen : NULL);
	pg_param_int(&p, me->timeout_ms);
	return cl_exec(s, CL_JOIN, &p, NULL);
}

int
store_node_beat(struct store *store, const char *node, int64_t *skew_ms)
{
	struct pg_params	 p;
	PGresult		*r = NULL;
	int64_t			 sent, back;
	int			 rc;

	*skew_ms = 0;
	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_text(&p, node);
	sent = clock_host_ms();
	if ((rc = cl_exec(pg_of(store), CL_BEAT, &p, &r)) < 0)
		return rc;
	back = clock_host_ms();
	if (PQntuples(r) == 1)
		*skew_ms = pg_int(r, 0, 0) - sent - (back - sent) / 2;
	else
		rc = -ENOENT;
	PQclear(r);
	return rc;
}

int
store_counts_fold(struct store *store)
{
	struct pg_store	*s = pg_of(store);
	int		 rc;

	if ((rc = pg_begin(store)) < 0 ||
	    (rc = cl_exec(s, CL_FOLD_COUNTS, NULL, NULL)) < 0)
		return rc;
	return cl_exec(s, CL_FOLD_MINUTES, NULL, NULL);
}

int
store_node_leave(struct store *store, const char *node)
{
	struct pg_store		*s = pg_of(store);
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_text(&p, node);
	if ((rc = cl_exec(s, CL_RESIGN, &p, NULL)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_text(&p, node);
	return cl_exec(s, CL_LEAVE, &p, NULL);
}

/* A row of CL_NODES: the node's columns; then a running job, if any. */
static void
node_fill(const PGresult *r, int i, struct node_row *n)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->id, sizeof(n->id), "%s", PQgetvalue(r, i, 0));
	snprintf(n->host, sizeof(n->host), "%s", PQgetvalue(r, i, 1));
	snprintf(n->listen, sizeof(n->listen), "%s", PQgetvalue(r, i, 2));
	n->pid = (int)pg_int(r, i, 3);
	n->workers = (int)pg_int(r, i, 4);
	n->timeout_ms = pg_int(r, i, 5);
	n->started_at = pg_int(r, i, 6);
	n->beat_at = pg_int(r, i, 7);
	n->beat_age_ms = pg_int(r, i, 8);
	n->alive = n->beat_age_ms < n->timeout_ms;
	n->leader = PQgetvalue(r, i, 9)[0] == 't';
}

int
store_nodes(struct store *store, void (*cb)(void *, const struct node_row *),
    void *arg)
{
	PGresult	*r;
	struct node_job	*jobs = NULL;
	int		 rc, rows;

	if ((rc = cl_exec(pg_of(store), CL_NODES, NULL, &r)) < 0)
		return rc;
	/* One row per node and running job (LEFT JOIN: one for an idle node). */
	rows = PQntuples(r);
	if (rows > 0 && (jobs = calloc((size_t)rows, sizeof(*jobs))) == NULL) {
		PQclear(r);
		return -ENOMEM;
	}
	for (int i = 0; i < rows; ) {
		const char	*id = PQgetvalue(r, i, 0);
		struct node_row	 n;

		node_fill(r, i, &n);
		n.jobs = jobs;
		for (; i < rows && strcmp(PQgetvalue(r, i, 0), id) == 0; i++) {
			if (PQgetisnull(r, i, 10))
				continue;
			jobs[n.running].id = (uint64_t)pg_int(r, i, 10);
			jobs[n.running].worker = (int)pg_int(r, i, 11);
			jobs[n.running].started_at = pg_int(r, i, 12);
			n.running++;
		}
		cb(arg, &n);
	}
	free(jobs);
	PQclear(r);
	return 0;
}

/* ---- the leader's lease ---- */

int
store_lease(struct store *store, const char *node, int64_t ttl_ms,
    int *elected)
{
	struct pg_store		*s = pg_of(store);
	struct pg_params	 p;
	PGresult		*r;
	int			 rc, mine, valid;

	*elected = 0;
	if ((rc = pg_begin(store)) < 0 ||
	    (rc = cl_exec(s, CL_LEASE_HOLDER, NULL, &r)) < 0)
		return rc;
	if (PQntuples(r) == 0) {
		/* None yet: the first to insert it leads. */
		PQclear(r);
		pg_params_init(&p);
		pg_param_text(&p, node);
		pg_param_int(&p, ttl_ms);
		if ((rc = cl_changes(s, CL_LEASE_TAKE, &p)) < 0)
			return rc;
		*elected = rc == 1;
		return rc == 1;
	}
	mine = strcmp(PQgetvalue(r, 0, 0), node) == 0;
	valid = PQgetvalue(r, 0, 1)[0] == 't';
	PQclear(r);
	if (!mine && valid)
		return 0;
	pg_params_init(&p);
	pg_param_text(&p, node);
	pg_param_int(&p, ttl_ms);
	/* 0 rows: another node takes it over right now. */
	if ((rc = cl_changes(s, CL_LEASE_RENEW, &p)) <= 0)
		return rc;
	*elected = !mine;
	return 1;
}

/* ---- the rescue of dead nodes' jobs ---- */

int
store_nodes_prune(struct store *store, const char *self,
    void (*cb)(void *, const char *, const char *, int), void *arg)
{
	struct pg_store		*s = pg_of(store);
	struct pg_params	 p;
	PGresult		*r;
	int			 rc, n;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_text(&p, self);
	if ((rc = cl_exec(s, CL_PRUNE, &p, &r)) < 0)
		return rc;
	n = PQntuples(r);
	for (int i = 0; i < n; i++)
		cb(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		    (int)pg_int(r, i, 2));
	PQclear(r);
	return n;
}

int
store_orphans(struct store *store, int limit,
    void (*cb)(void *, const struct orphan *), void *arg)
{
	struct pg_params	 p;
	PGresult		*r;
	struct orphan		*o;
	int			 rc, n;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, limit);
	if ((rc = cl_exec(pg_of(store), CL_ORPHANS, &p, &r)) < 0)
		return rc;
	n = PQntuples(r);
	if (n > 0 && (o = calloc((size_t)n, sizeof(*o))) == NULL) {
		PQclear(r);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		o[i].id = (uint64_t)pg_int(r, i, 0);
		snprintf(o[i].queue, sizeof(o[i].queue), "%s",
		    PQgetvalue(r, i, 1));
		snprintf(o[i].node, sizeof(o[i].node), "%s", PQgetvalue(r, i, 2));
		o[i].attempts = (int)pg_int(r, i, 3);
		o[i].max_attempts = (int)pg_int(r, i, 4);
		o[i].started_at = pg_int(r, i, 5);
		o[i].stdout_bytes = pg_int(r, i, 6);
		o[i].stderr_bytes = pg_int(r, i, 7);
		o[i].cancel = PQgetvalue(r, i, 8)[0] == 't';
	}
	PQclear(r);
	/* cb changes the jobs: called once the result is gone. */
	for (int i = 0; i < n; i++)
		cb(arg, &o[i]);
	if (n > 0)
		free(o);
	return n;
}

int
store_fence(struct store *store, uint64_t id, const char *node, int attempt)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	pg_param_text(&p, node);
	pg_param_int(&p, attempt);
	rc = cl_changes(pg_of(store), CL_FENCE, &p);
	return rc < 0 ? rc : rc == 1 ? 0 : -EBUSY;
}

/*
 * The fence and the finish in one statement, and the job's dependents
 * read right after it in the same round trip, for the store_dependents
 * that follows a final state (pg_dependents takes them).
 */
int
store_finish_fenced(struct store *store, const struct job_result *res,
    const char *node, int attempt)
{
	static const enum cl_stmt_id ids[] = {CL_FINISH, CL_DEPENDENTS};
	struct pg_store		*s = pg_of(store);
	struct pg_params	 p, d, *ps[] = {&p, &d};
	PGresult		*r[2];
	int			 rc, rows;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)res->id);
	pg_param_text(&p, job_state_name(res->state));
	pg_param_opt(&p, res->exit_code, res->exit_code >= 0);
	pg_param_opt(&p, res->signal, res->signal > 0);
	pg_param_text(&p, res->error);
	pg_param_opt(&p, res->finished_at, res->state != JOB_SCHEDULED);
	pg_param_int(&p, res->stdout_bytes);
	pg_param_int(&p, res->stderr_bytes);
	pg_param_opt(&p, res->cpu_ms, res->cpu_ms >= 0);
	pg_param_opt(&p, res->max_rss_kb, res->max_rss_kb >= 0);
	pg_param_opt(&p, res->started_at, res->started_at > 0);
	pg_param_opt(&p, res->run_at, res->state == JOB_SCHEDULED);
	pg_param_text(&p, node);
	pg_param_int(&p, attempt);
	pg_params_init(&d);
	pg_param_int(&d, (int64_t)res->id);
	if ((rc = cl_exec_all(s, 2, ids, ps, r)) < 0)
		return rc;
	rows = atoi(PQcmdTuples(r[0]));
	PQclear(r[0]);
	if (rows == 1)
		rc = pg_deps_keep(s, res->id, r[1]);
	PQclear(r[1]);
	if (rc < 0)
		return rc;
	return rows == 1 ? 0 : -EBUSY;
}

int
store_node_jobs(struct store *store, const char *node, uint64_t **ids,
    size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	pg_param_text(&p, node);
	return cl_ids(pg_of(store), CL_NODE_JOBS, &p, ids, n);
}

/* ---- cancel requests and notifications ---- */

int
store_cancel_request(struct store *store, uint64_t id, char *node)
{
	struct pg_params	 p;
	PGresult		*r;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	if ((rc = cl_exec(pg_of(store), CL_CANCEL_REQUEST, &p, &r)) < 0)
		return rc;
	rc = PQntuples(r) == 1 ? 0 : -EBUSY;
	if (rc == 0)
		snprintf(node, NODE_ID_MAX + 1, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return rc;
}

int
store_cancel_requests(struct store *store, const char *node, uint64_t **ids,
    size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	pg_param_text(&p, node);
	return cl_ids(pg_of(store), CL_CANCEL_REQUESTS, &p, ids, n);
}

int
store_notify(struct store *store, const char *channel, const char *payload)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_text(&p, channel);
	pg_param_text(&p, payload);
	/* Sent at the commit anyway: it goes with it. */
	return cl_defer(pg_of(store), CL_NOTIFY, &p);
}
