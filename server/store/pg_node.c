/*
 * The PostgreSQL backend's nodes (store/cluster.h): each node's row and
 * heartbeat, the leader's lease, the rescue of the jobs of dead nodes,
 * the fence of an attempt, cancel requests and notifications (their
 * statements are pg_cluster.c's, prepared on first use).  Whether a
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

/* ---- the session ---- */

static int
session_apply(struct pg_store *s)
{
	struct pg_params	 p;
	char			 lock[32], idle[32], stmt[32];

	snprintf(lock, sizeof(lock), "%lldms", (long long)s->cl.lock_ms);
	snprintf(idle, sizeof(idle), "%lldms", (long long)s->cl.idle_ms);
	snprintf(stmt, sizeof(stmt), "%lldms", (long long)s->cl.statement_ms);
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
	pg_cluster_forget(s);
	if ((rc = session_apply(s)) < 0)
		return rc;
	return s->cl.next_reset ? s->cl.next_reset(s, s->cl.next_arg) : 0;
}

int
pg_node_session(struct store *store, int64_t lock_ms, int64_t idle_ms,
    int64_t statement_ms)
{
	struct pg_store *s = pg_of(store);

	s->cl.lock_ms = lock_ms;
	s->cl.idle_ms = idle_ms;
	s->cl.statement_ms = statement_ms;
	if (s->reset_cb != session_reset) {
		s->cl.next_reset = s->reset_cb;
		s->cl.next_arg = s->reset_arg;
		s->reset_cb = session_reset;
		s->reset_arg = NULL;
	}
	return session_apply(s);
}

/* ---- nodes ---- */

int
pg_node_join(struct store *store, const struct node_row *me,
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
	if ((rc = pg_cluster_exec(s, CL_JOIN_HOLDER, &p, &r)) < 0)
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
	return pg_cluster_exec(s, CL_JOIN, &p, NULL);
}

int
pg_node_beat(struct store *store, const char *node, int64_t *skew_ms)
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
	if ((rc = pg_cluster_exec(pg_of(store), CL_BEAT, &p, &r)) < 0)
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
pg_node_counts_fold(struct store *store)
{
	struct pg_store	*s = pg_of(store);
	int		 rc;

	if ((rc = pg_begin(store)) < 0 ||
	    (rc = pg_cluster_exec(s, CL_FOLD_COUNTS, NULL, NULL)) < 0)
		return rc;
	return pg_cluster_exec(s, CL_FOLD_MINUTES, NULL, NULL);
}

int
pg_node_leave(struct store *store, const char *node)
{
	struct pg_store		*s = pg_of(store);
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_text(&p, node);
	if ((rc = pg_cluster_exec(s, CL_RESIGN, &p, NULL)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_text(&p, node);
	return pg_cluster_exec(s, CL_LEAVE, &p, NULL);
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
pg_node_list(struct store *store, void (*cb)(void *, const struct node_row *),
    void *arg)
{
	PGresult	*r;
	struct node_job	*jobs = NULL;
	int		 rc, rows;

	if ((rc = pg_cluster_exec(pg_of(store), CL_NODES, NULL, &r)) < 0)
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
pg_node_lease(struct store *store, const char *node, int64_t ttl_ms,
    int *elected)
{
	struct pg_store		*s = pg_of(store);
	struct pg_params	 p;
	PGresult		*r;
	int			 rc, mine, valid;

	*elected = 0;
	if ((rc = pg_begin(store)) < 0 ||
	    (rc = pg_cluster_exec(s, CL_LEASE_HOLDER, NULL, &r)) < 0)
		return rc;
	if (PQntuples(r) == 0) {
		/* None yet: the first to insert it leads. */
		PQclear(r);
		pg_params_init(&p);
		pg_param_text(&p, node);
		pg_param_int(&p, ttl_ms);
		if ((rc = pg_cluster_changes(s, CL_LEASE_TAKE, &p)) < 0)
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
	if ((rc = pg_cluster_changes(s, CL_LEASE_RENEW, &p)) <= 0)
		return rc;
	*elected = !mine;
	return 1;
}

/* ---- the rescue of dead nodes' jobs ---- */

int
pg_node_prune(struct store *store, const char *self,
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
	if ((rc = pg_cluster_exec(s, CL_PRUNE, &p, &r)) < 0)
		return rc;
	n = PQntuples(r);
	for (int i = 0; i < n; i++)
		cb(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		    (int)pg_int(r, i, 2));
	PQclear(r);
	return n;
}

int
pg_node_orphans(struct store *store, int limit,
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
	if ((rc = pg_cluster_exec(pg_of(store), CL_ORPHANS, &p, &r)) < 0)
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
pg_node_dep_state(struct store *store, uint64_t id, int *state)
{
	struct pg_params	 p;
	PGresult		*r;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	if ((rc = pg_cluster_exec(pg_of(store), CL_DEP_STATE, &p, &r)) < 0)
		return rc;
	if (PQntuples(r) != 1)
		rc = -ENOENT;
	else if ((*state = job_state_parse(PQgetvalue(r, 0, 0))) < 0)
		rc = -EIO;
	PQclear(r);
	return rc;
}

int
pg_node_fence(struct store *store, uint64_t id, const char *node, int attempt)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	pg_param_text(&p, node);
	pg_param_int(&p, attempt);
	rc = pg_cluster_changes(pg_of(store), CL_FENCE, &p);
	return rc < 0 ? rc : rc == 1 ? 0 : -EBUSY;
}

/*
 * The fence and the finish in one statement, and the job's dependents
 * read right after it in the same round trip, for the store_dependents
 * that follows a final state (pg_dependents takes them); with next, the
 * dispatch round's two statements and its first claim after them, still
 * in that round trip (CL_CLAIM_FIRST needs no answer of theirs).
 */
int
pg_node_finish_fenced(struct store *store, const struct job_result *res,
    const char *node, int attempt, struct finish_next *next)
{
	static const enum cl_stmt_id ids[] = {CL_FINISH, CL_DEPENDENTS,
	    CL_ROUND_LOCK, CL_ROUND_QUEUES, CL_CLAIM_FIRST};
	struct pg_store		*s = pg_of(store);
	struct pg_params	 p, d, rp, cp, *ps[] = {&p, &d, &rp, NULL, &cp};
	struct claim_round	*round = next ? next->round : NULL;
	PGresult		*r[5];
	int			 rc, rows, n = 2;

	if (next) {
		next->claimed = -1;
		job_init(&next->job);
		claim_round_clear(round);
		n = next->worker > 0 ? 5 : 4;
	}
	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_finish_params(&p, res);
	pg_param_text(&p, node);
	pg_param_int(&p, attempt);
	pg_params_init(&d);
	pg_param_int(&d, (int64_t)res->id);
	pg_params_init(&rp);
	pg_params_init(&cp);
	if (n > 2)
		pg_param_text(&rp, node);
	if (n > 4) {
		pg_param_text(&cp, node);
		pg_param_int(&cp, next->now_ms);
		pg_param_int(&cp, next->worker);
	}
	if ((rc = pg_cluster_exec_all(s, n, ids, ps, r)) < 0)
		return rc;
	rows = atoi(PQcmdTuples(r[0]));
	if (rows == 1)
		rc = pg_deps_keep(s, res->id, r[1]);
	/* Left closed when it failed: the dispatch opens it again. */
	if (n > 2 && pg_claim_round_read(round, r[2], r[3]) == 0) {
		round->early = 1;
		round->stamp = s->stmts;
	}
	/*
	 * Taken whatever became of the round: the job runs here now.  One
	 * that cannot be taken in must not stay so: the turn is undone.
	 */
	if (n > 4) {
		int took = pg_claim_took(round, r[4], &next->job);

		if (rc == 0 && took < 0)
			rc = took;
		next->claimed = took < 0 ? -1 : took;
		if (rc < 0 && next->claimed == 1) {
			job_clear(&next->job);
			next->claimed = -1;
		}
		if (rc < 0 && took != 0) {
			claim_round_clear(round);
			pg_turn_failed(s, rc);
		}
		if (next->claimed == 0 && round->open)
			round->none = 1;
	}
	for (int i = 0; i < n; i++)
		PQclear(r[i]);
	if (rc < 0)
		return rc;
	return rows == 1 ? 0 : -EBUSY;
}

/* The ids statement id lists for node. */
static int
node_ids(struct store *store, enum cl_stmt_id id, const char *node,
    uint64_t **ids, size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	pg_param_text(&p, node);
	return pg_cluster_ids(pg_of(store), id, &p, ids, n);
}

int
pg_node_jobs(struct store *store, const char *node, uint64_t **ids,
    size_t *n)
{
	return node_ids(store, CL_NODE_JOBS, node, ids, n);
}

/* ---- cancel requests and notifications ---- */

int
pg_node_cancel_request(struct store *store, uint64_t id, char *node)
{
	struct pg_params	 p;
	PGresult		*r;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	if ((rc = pg_cluster_exec(pg_of(store), CL_CANCEL_REQUEST, &p, &r)) < 0)
		return rc;
	rc = PQntuples(r) == 1 ? 0 : -EBUSY;
	if (rc == 0)
		snprintf(node, NODE_ID_MAX + 1, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return rc;
}

int
pg_node_cancel_requests(struct store *store, const char *node, uint64_t **ids,
    size_t *n)
{
	return node_ids(store, CL_CANCEL_REQUESTS, node, ids, n);
}

int
pg_node_notify(struct store *store, const char *channel, const char *payload)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_text(&p, channel);
	pg_param_text(&p, payload);
	/* Sent at the commit anyway: it goes with it. */
	return pg_cluster_defer(pg_of(store), CL_NOTIFY, &p);
}
