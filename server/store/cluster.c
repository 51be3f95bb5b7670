/*
 * The store's cluster operations (cluster.h): each goes to the
 * backend's cluster table (backend.h), and a backend that is never
 * shared by nodes, which has none, answers -ENOTSUP.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "store/cluster.h"

/* The backend's cluster table, or NULL. */
static const struct store_cluster_ops *
ops(const struct store *s)
{
	return s->ops->cluster;
}

int
store_clustered(const struct store *s)
{
	return ops(s) != NULL;
}

void
claim_round_clear(struct claim_round *r)
{
	free(r->blocked);
	free(r->limited);
	memset(r, 0, sizeof(*r));
}

int
store_node_session(struct store *s, int64_t lock_ms, int64_t idle_ms,
    int64_t statement_ms)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->node_session(s, lock_ms, idle_ms, statement_ms);
}

/* ---- the connection ---- */

int
store_link_start(struct store *s, uv_loop_t *loop, int64_t retry_max_ms,
    int64_t answer_ms, void (*up)(void *), void *arg)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->link_start(s, loop, retry_max_ms, answer_ms, up, arg);
}

void
store_link_stop(struct store *s)
{
	if (s != NULL && ops(s) != NULL)
		ops(s)->link_stop(s);
}

int
store_link_up(const struct store *s)
{
	/* A local store has no link to lose. */
	return ops(s) == NULL || ops(s)->link_up(s);
}

void
store_link_info(const struct store *s, struct store_link *out)
{
	if (ops(s) != NULL) {
		ops(s)->link_info(s, out);
		return;
	}
	memset(out, 0, sizeof(*out));
	out->up = 1;
}

/* ---- nodes and the leader's lease ---- */

int
store_node_join(struct store *s, const struct node_row *me,
    int (*pid_alive)(int), struct node_row *holder)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->node_join(s, me, pid_alive, holder);
}

int
store_node_beat(struct store *s, const char *node, int64_t *skew_ms)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->node_beat(s, node, skew_ms);
}

int
store_node_leave(struct store *s, const char *node)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->node_leave(s, node);
}

int
store_nodes(struct store *s, void (*cb)(void *, const struct node_row *),
    void *arg)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->nodes(s, cb, arg);
}

int
store_lease(struct store *s, const char *node, int64_t ttl_ms, int *elected)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->lease(s, node, ttl_ms, elected);
}

int
store_nodes_prune(struct store *s, const char *self,
    void (*cb)(void *, const char *, const char *, int), void *arg)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->nodes_prune(s, self, cb, arg);
}

int
store_orphans(struct store *s, int limit,
    void (*cb)(void *, const struct orphan *), void *arg)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->orphans(s, limit, cb, arg);
}

int
store_dep_state(struct store *s, uint64_t id, int *state)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->dep_state(s, id, state);
}

int
store_fence(struct store *s, uint64_t id, const char *node, int attempt)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->fence(s, id, node, attempt);
}

int
store_finish_fenced(struct store *s, const struct job_result *r,
    const char *node, int attempt, struct finish_next *next)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->finish_fenced(s, r, node, attempt, next);
}

int
store_node_jobs(struct store *s, const char *node, uint64_t **ids,
    size_t *n)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->node_jobs(s, node, ids, n);
}

int
store_cancel_request(struct store *s, uint64_t id, char *node)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->cancel_request(s, id, node);
}

int
store_cancel_requests(struct store *s, const char *node, uint64_t **ids,
    size_t *n)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->cancel_requests(s, node, ids, n);
}

int
store_notify(struct store *s, const char *channel, const char *payload)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->notify(s, channel, payload);
}

int
store_submit_held(struct store *s, struct job *jobs, size_t n)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->submit_held(s, jobs, n);
}

/* ---- claims, due jobs, keys and counts ---- */

int
store_claim_round(struct store *s, const char *node, struct claim_round *r)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->claim_round(s, node, r);
}

int
store_claim_next(struct store *s, const char *node, int worker,
    int64_t now_ms, struct claim_round *r, struct job *out)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->claim_next(s, node, worker, now_ms, r, out);
}

int
store_due_skip(struct store *s, int64_t now_ms, int limit,
    void (*cb)(void *, uint64_t, const char *), void *arg)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->due_skip(s, now_ms, limit, cb, arg);
}

int
store_idem_take(struct store *s, const char *key, const char *sha,
    const char *jobs_json, int batch, int64_t now_ms, int64_t since_ms)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->idem_take(s, key, sha, jobs_json, batch, now_ms,
	    since_ms);
}

int
store_counts_add(struct store *s, const char *node,
    const struct count_delta *d, size_t nd, const struct minute_delta *m,
    size_t nm)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->counts_add(s, node, d, nd, m, nm);
}

int
store_counts(struct store *s,
    void (*cb)(void *, const char *, enum job_state, int64_t), void *arg)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->counts(s, cb, arg);
}

int
store_counts_fold(struct store *s)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->counts_fold(s);
}

int
store_minutes(struct store *s, int64_t since_ms,
    void (*cb)(void *, int64_t, int64_t), void *arg)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->minutes(s, since_ms, cb, arg);
}

int
store_minutes_purge(struct store *s, int64_t before_ms)
{
	if (ops(s) == NULL)
		return -ENOTSUP;
	return ops(s)->minutes_purge(s, before_ms);
}
