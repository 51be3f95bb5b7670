/*
 * The PostgreSQL backend's claims (store/cluster.h): a dispatch round
 * learns which queues it may claim from, then each claim takes the best
 * queued job of those in one statement, FOR UPDATE SKIP LOCKED, so two
 * nodes never take the same job and never wait for each other.  A
 * limited queue's concurrency holds across nodes because a round claims
 * from it only while holding its queues row (SKIP LOCKED: a queue another
 * node is claiming from is left to it this round) and counts its running
 * jobs after taking that lock.  Also here: due jobs without waiting for
 * another node's promotion, Idempotency-Keys two nodes race for, and the
 * counts the triggers of schema 002 keep.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_array.h"
#include "store/pg_cluster.h"
#include "vec.h"

static int
block(struct claim_round *r, const char *queue)
{
	size_t cap = r->nblocked;

	if (vec_grow(&r->blocked, &cap, r->nblocked + 1, sizeof(*r->blocked)) < 0)
		return -ENOMEM;
	snprintf(r->blocked[r->nblocked++], sizeof(*r->blocked), "%s", queue);
	return 0;
}

/* The queues this round holds the lock of (from CL_ROUND_LOCK's rows). */
static int
round_locked(const PGresult *res, const char *name)
{
	for (int i = 0; i < PQntuples(res); i++)
		if (!PQgetisnull(res, i, 1) &&
		    strcmp(PQgetvalue(res, i, 1), name) == 0)
			return 1;
	return 0;
}

int
pg_claim_round_read(struct claim_round *r, const PGresult *locked,
    const PGresult *q)
{
	size_t	 cap = 0;
	int	 rc = 0;

	claim_round_clear(r);
	if (pg_int(locked, 0, 0) != 1)
		return -ENOENT;
	for (int i = 0; i < PQntuples(q) && rc == 0; i++) {
		const char	*name = PQgetvalue(q, i, 0);
		int		 paused = pg_int(q, i, 1) != 0;
		int64_t		 limit = pg_int(q, i, 2), running = pg_int(q, i, 3);

		if (paused || limit == 0) {
			if (paused)
				rc = block(r, name);
			continue;
		}
		if (!round_locked(locked, name) || running >= limit) {
			/* Held by a claimer elsewhere, or full. */
			rc = block(r, name);
			continue;
		}
		if ((rc = vec_grow(&r->limited, &cap, r->nlimited + 1,
		    sizeof(*r->limited))) < 0)
			break;
		snprintf(r->limited[r->nlimited].queue,
		    sizeof(r->limited[0].queue), "%s", name);
		r->limited[r->nlimited++].slots = (int)(limit - running);
	}
	/* Locked elsewhere and with work: that node's commit may leave room. */
	for (int i = 0; i < PQntuples(q) && rc == 0; i++)
		if (pg_int(q, i, 1) == 0 && PQgetvalue(q, i, 4)[0] == 't' &&
		    !round_locked(locked, PQgetvalue(q, i, 0)))
			r->contended = 1;
	if (rc < 0)
		claim_round_clear(r);
	r->open = rc == 0;
	return rc;
}

/*
 * The two statements go in one round trip: the second still runs after
 * the first took its locks, with a snapshot of its own.  A round opened
 * with the finish before it serves while no statement went out since:
 * what it locked is still held and what it read is what this one would
 * read (the finishes it came with included).
 */
int
pg_claim_round(struct store *store, const char *node,
    struct claim_round *r)
{
	static const enum cl_stmt_id ids[] = {CL_ROUND_LOCK, CL_ROUND_QUEUES};
	struct pg_store		*s = pg_of(store);
	struct pg_params	 p, *ps[] = {&p, NULL};
	PGresult		*res[2];
	int			 rc;

	if (r->open && r->early && r->stamp == s->stmts && s->in_txn &&
	    !s->txn_lost) {
		r->early = 0;
		return 0;
	}
	claim_round_clear(r);
	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_text(&p, node);
	if ((rc = pg_cluster_exec_all(s, 2, ids, ps, res)) < 0)
		return rc;
	rc = pg_claim_round_read(r, res[0], res[1]);
	PQclear(res[0]);
	PQclear(res[1]);
	return rc;
}

/* The blocked queues as a text[] literal; names need no escaping
 * ([A-Za-z0-9_.-]) but are quoted, so that "null" stays a name. */
static char *
blocked_array(const struct claim_round *r)
{
	size_t	 size = 3 + r->nblocked * (JOB_QUEUE_MAX + 3), len = 0;
	char	*a = malloc(size);

	if (a == NULL)
		return NULL;
	a[len++] = '{';
	for (size_t i = 0; i < r->nblocked; i++)
		len += (size_t)snprintf(a + len, size - len, "%s\"%s\"",
		    i ? "," : "", r->blocked[i]);
	snprintf(a + len, size - len, "}");
	return a;
}

/* A claim of a limited queue takes one of its slots. */
static int
take_slot(struct claim_round *r, const char *queue)
{
	for (size_t i = 0; i < r->nlimited; i++) {
		if (strcmp(r->limited[i].queue, queue) != 0)
			continue;
		if (--r->limited[i].slots > 0)
			return 0;
		r->limited[i] = r->limited[--r->nlimited];
		return block(r, queue);
	}
	return 0;
}

int
pg_claim_next(struct store *store, const char *node, int worker,
    int64_t now_ms, struct claim_round *r, struct job *out)
{
	struct pg_params	 p;
	PGresult		*res;
	char			*blocked;
	int			 rc;

	job_init(out);
	if (!r->open)
		return -EINVAL;
	/* The claim made with the round's finish found none, just now. */
	if (r->none) {
		r->none = 0;
		if (r->stamp == pg_of(store)->stmts)
			return 0;
	}
	if ((blocked = blocked_array(r)) == NULL)
		return -ENOMEM;
	pg_params_init(&p);
	pg_param_text(&p, node);
	pg_param_int(&p, now_ms);
	pg_param_int(&p, worker);
	pg_param_text(&p, blocked);
	rc = pg_cluster_exec(pg_of(store), CL_CLAIM, &p, &res);
	free(blocked);
	if (rc < 0)
		return rc;
	rc = pg_claim_took(r, res, out);
	PQclear(res);
	return rc;
}

int
pg_claim_took(struct claim_round *r, const PGresult *res, struct job *out)
{
	int rc;

	job_init(out);
	if (PQntuples(res) != 1)
		return 0;
	if ((rc = pg_row_job(res, 0, out)) < 0)
		return rc;
	if (r->open && (rc = take_slot(r, out->queue)) < 0) {
		job_clear(out);
		return rc;
	}
	return 1;
}

int
pg_claim_due_skip(struct store *store, int64_t now_ms, int limit,
    void (*cb)(void *, uint64_t, const char *), void *arg)
{
	struct pg_params	 p;
	PGresult		*r;
	uint64_t		*ids;
	char			(*queues)[JOB_QUEUE_MAX + 1];
	int			 rc, n;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, now_ms);
	pg_param_int(&p, limit);
	if ((rc = pg_cluster_exec(pg_of(store), CL_DUE, &p, &r)) < 0)
		return rc;
	if ((n = PQntuples(r)) == 0) {
		PQclear(r);
		return 0;
	}
	ids = calloc((size_t)n, sizeof(*ids));
	queues = calloc((size_t)n, sizeof(*queues));
	if (ids == NULL || queues == NULL) {
		free(ids);
		free(queues);
		PQclear(r);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		ids[i] = (uint64_t)pg_int(r, i, 0);
		snprintf(queues[i], sizeof(queues[i]), "%s", PQgetvalue(r, i, 1));
	}
	PQclear(r);
	for (int i = 0; i < n; i++)
		cb(arg, ids[i], queues[i]);
	free(ids);
	free(queues);
	return n;
}

int
pg_claim_idem_take(struct store *store, const char *key, const char *sha,
    const char *jobs_json, int batch, int64_t now_ms, int64_t since_ms)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_idem_params(&p, key, sha, jobs_json, batch, now_ms);
	pg_param_int(&p, since_ms);
	rc = pg_cluster_changes(pg_of(store), CL_IDEM_TAKE, &p);
	return rc < 0 ? rc : rc == 1 ? 0 : -EEXIST;
}

/* ---- counts ---- */

int
pg_claim_counts_add(struct store *store, const char *node,
    const struct count_delta *d, size_t nd, const struct minute_delta *m,
    size_t nm)
{
	struct pg_array		 col[5];
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	memset(col, 0, sizeof(col));
	for (size_t i = 0; i < nd; i++) {
		pg_array_text(&col[0], d[i].queue);
		pg_array_text(&col[1], job_state_name(d[i].state));
		pg_array_int(&col[2], d[i].n, 1);
	}
	for (size_t i = 0; i < nm; i++) {
		pg_array_int(&col[3], m[i].minute_ms / 60000, 1);
		pg_array_int(&col[4], m[i].n, 1);
	}
	pg_params_init(&p);
	pg_param_text(&p, node);
	for (int c = 0; c < 5; c++)
		pg_param_array(&p, &col[c]);
	/* Nobody waits for its answer: it goes with the commit. */
	return pg_cluster_defer(pg_of(store), CL_COUNTS_ADD, &p);
}

int
pg_claim_counts(struct store *store,
    void (*cb)(void *, const char *, enum job_state, int64_t), void *arg)
{
	PGresult	*r;
	int		 rc;

	if ((rc = pg_cluster_exec(pg_of(store), CL_COUNTS, NULL, &r)) < 0)
		return rc;
	pg_count_rows(r, cb, arg);
	PQclear(r);
	return 0;
}

int
pg_claim_minutes(struct store *store, int64_t since_ms,
    void (*cb)(void *, int64_t, int64_t), void *arg)
{
	struct pg_params	 p;
	PGresult		*r;
	int			 rc;

	pg_params_init(&p);
	pg_param_int(&p, since_ms / 60000);
	if ((rc = pg_cluster_exec(pg_of(store), CL_MINUTES, &p, &r)) < 0)
		return rc;
	for (int i = 0; i < PQntuples(r); i++)
		cb(arg, pg_int(r, i, 0) * 60000, pg_int(r, i, 1));
	PQclear(r);
	return 0;
}

int
pg_claim_minutes_purge(struct store *store, int64_t before_ms)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, before_ms / 60000);
	return pg_cluster_exec(pg_of(store), CL_MINUTES_PURGE, &p, NULL);
}
