/*
 * The store's front: store_open picks the backend from what it is given
 * (a PostgreSQL connection string or URI, else an SQLite file), and
 * every other store_* call goes to that backend's table (backend.h).
 */
#include <string.h>

#include "store/backend.h"

int
store_is_postgresql(const char *where)
{
	/* A URI, or keyword/value pairs as libpq reads them ("dbname=runnel
	 * host=/run/postgresql"): a file name with '=' in it does not parse. */
	return strncmp(where, "postgresql://", 13) == 0 ||
	    strncmp(where, "postgres://", 11) == 0 ||
	    (strchr(where, '=') != NULL && pg_is_conninfo(where));
}

int
store_open(struct store **out, const char *where, enum store_durability d)
{
	if (store_is_postgresql(where))
		return pg_open(out, where, d);
	return sqlite_open(out, where, d);
}

const char *
store_backend(const struct store *s)
{
	return s->ops->name;
}

void
store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

int
store_begin(struct store *s)
{
	return s->ops->begin(s);
}

int
store_in_txn(const struct store *s)
{
	return s->ops->in_txn(s);
}

int
store_commit(struct store *s, int sync)
{
	return s->ops->commit(s, sync);
}

int
store_mark(struct store *s)
{
	return s->ops->mark(s);
}

int
store_unmark(struct store *s, int keep)
{
	return s->ops->unmark(s, keep);
}

int
store_ping(struct store *s)
{
	return s->ops->ping(s);
}

int
store_submit(struct store *s, struct job *jobs, size_t n, int64_t now_ms)
{
	return s->ops->submit(s, jobs, n, now_ms);
}

int
store_get(struct store *s, uint64_t id, struct job *out)
{
	return s->ops->get(s, id, out);
}

int
store_head(struct store *s, const char *queue, uint64_t *id, int64_t *priority)
{
	return s->ops->head(s, queue, id, priority);
}

int
store_claim(struct store *s, uint64_t id, int worker, int64_t now_ms,
    struct job *out)
{
	return s->ops->claim(s, id, worker, now_ms, out);
}

int
store_finish(struct store *s, const struct job_result *r)
{
	return s->ops->finish(s, r);
}

int
store_set_state(struct store *s, uint64_t id, enum job_state from,
    enum job_state to, const char *error, int64_t finished_at)
{
	return s->ops->set_state(s, id, from, to, error, finished_at);
}

int
store_requeue(struct store *s, uint64_t id, enum job_state from,
    int undo_attempt, int deps_left)
{
	return s->ops->requeue(s, id, from, undo_attempt, deps_left);
}

int
store_promote(struct store *s, uint64_t id)
{
	return s->ops->promote(s, id);
}

int
store_delete(struct store *s, uint64_t id)
{
	return s->ops->delete(s, id);
}

int
store_list(struct store *s, const struct job_filter *f, struct job **jobs,
    size_t *n, uint64_t *next)
{
	return s->ops->list(s, f, jobs, n, next);
}

int
store_running(struct store *s, uint64_t **ids, size_t *n)
{
	return s->ops->running(s, ids, n);
}

int
store_count(struct store *s, void (*cb)(void *arg, const char *queue,
    enum job_state, int64_t n), void *arg)
{
	return s->ops->count(s, cb, arg);
}

int
store_finished_since(struct store *s, int64_t since_ms, void (*cb)(void *arg,
    int64_t finished_at), void *arg)
{
	return s->ops->finished_since(s, since_ms, cb, arg);
}

int
store_expired(struct store *s, int64_t before_ms, int limit,
    void (*cb)(void *arg, uint64_t id, int attempts), void *arg)
{
	return s->ops->expired(s, before_ms, limit, cb, arg);
}

int
store_queue_set(struct store *s, const char *name, int paused, int concurrency)
{
	return s->ops->queue_set(s, name, paused, concurrency);
}

int
store_queues(struct store *s, void (*cb)(void *arg, const char *name,
    int paused, int concurrency), void *arg)
{
	return s->ops->queues(s, cb, arg);
}

int
store_add_deps(struct store *s, uint64_t job_id, const uint64_t *deps,
    size_t n)
{
	return s->ops->add_deps(s, job_id, deps, n);
}

int
store_dependents(struct store *s, uint64_t dep_id, uint64_t **ids, size_t *n)
{
	return s->ops->dependents(s, dep_id, ids, n);
}

int
store_dep_done(struct store *s, uint64_t job_id)
{
	return s->ops->dep_done(s, job_id);
}

int
store_next_due(struct store *s, int64_t *run_at)
{
	return s->ops->next_due(s, run_at);
}

int
store_due(struct store *s, int64_t now_ms, int limit, void (*cb)(void *arg,
    uint64_t id, const char *queue), void *arg)
{
	return s->ops->due(s, now_ms, limit, cb, arg);
}

int
store_idem_get(struct store *s, const char *key, int64_t since_ms, char *sha,
    size_t shasize, char **jobs_json, int *batch)
{
	return s->ops->idem_get(s, key, since_ms, sha, shasize, jobs_json, batch);
}

int
store_idem_put(struct store *s, const char *key, const char *sha,
    const char *jobs_json, int batch, int64_t now_ms)
{
	return s->ops->idem_put(s, key, sha, jobs_json, batch, now_ms);
}

int
store_idem_purge(struct store *s, int64_t before_ms)
{
	return s->ops->idem_purge(s, before_ms);
}

/* ---- schedules (schedule.h) ---- */

int
store_sched_add(struct store *s, struct schedule *sc)
{
	return s->ops->sched->add(s, sc);
}

int
store_sched_get(struct store *s, uint64_t id, struct schedule *out)
{
	return s->ops->sched->get(s, id, out);
}

int
store_sched_all(struct store *s, struct schedule **out, size_t *n)
{
	return s->ops->sched->all(s, out, n);
}

int
store_sched_put(struct store *s, const struct schedule *sc)
{
	return s->ops->sched->put(s, sc);
}

int
store_sched_replan(struct store *s, uint64_t id, int64_t next_at)
{
	return s->ops->sched->replan(s, id, next_at);
}

int
store_sched_tick_job(struct store *s, uint64_t id, int64_t tick, uint64_t job)
{
	return s->ops->sched->tick_job(s, id, tick, job);
}

int
store_sched_delete(struct store *s, uint64_t id)
{
	return s->ops->sched->delete(s, id);
}

int
store_sched_next(struct store *s, int64_t *at)
{
	return s->ops->sched->next(s, at);
}

int
store_sched_due(struct store *s, int64_t now_ms, int limit, uint64_t **ids,
    size_t *n)
{
	return s->ops->sched->due(s, now_ms, limit, ids, n);
}

int
store_sched_owed(struct store *s, uint64_t **ids, size_t *n)
{
	return s->ops->sched->owed(s, ids, n);
}

int
store_sched_advance(struct store *s, uint64_t id, int64_t from, int64_t to)
{
	return s->ops->sched->advance(s, id, from, to);
}

int
store_sched_made(struct store *s, uint64_t id, uint64_t last_job,
    int64_t waiting)
{
	return s->ops->sched->made(s, id, last_job, waiting);
}

int
store_sched_tick(struct store *s, uint64_t id, int64_t tick, uint64_t job)
{
	return s->ops->sched->tick(s, id, tick, job);
}

int
store_sched_ticks_purge(struct store *s, int64_t before_ms)
{
	return s->ops->sched->ticks_purge(s, before_ms);
}

/* ---- webhook deliveries (delivery.h) ---- */

int
store_hook_next(struct store *s, int64_t *at)
{
	return s->ops->hook->next(s, at);
}

int
store_hook_due(struct store *s, int64_t now_ms, int limit,
    struct delivery **out, size_t *n)
{
	return s->ops->hook->due(s, now_ms, limit, out, n);
}

int
store_hook_lease(struct store *s, uint64_t id, int64_t next_at, int64_t until)
{
	return s->ops->hook->lease(s, id, next_at, until);
}

int
store_hook_tried(struct store *s, const struct delivery_try *t, int state,
    int64_t next_at)
{
	return s->ops->hook->tried(s, t, state, next_at);
}

int
store_hook_list(struct store *s, uint64_t job_id, struct delivery **out,
    size_t *n)
{
	return s->ops->hook->list(s, job_id, out, n);
}

int
store_hook_tries(struct store *s, uint64_t job_id, struct delivery_try **out,
    size_t *n)
{
	return s->ops->hook->tries(s, job_id, out, n);
}

int
store_hook_queue_set(struct store *s, const char *queue, const char *json)
{
	return s->ops->hook->queue_set(s, queue, json);
}

int
store_hook_queue_get(struct store *s, const char *queue, char **json)
{
	return s->ops->hook->queue_get(s, queue, json);
}
