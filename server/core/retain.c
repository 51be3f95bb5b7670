/*
 * Retention: finished jobs older than --retain-finished, and the oldest
 * beyond --retain-max-jobs, are deleted with their output and files, and
 * Idempotency-Keys older than a day forgotten.  A timer looks every
 * RETAIN_EVERY_MS; each turn deletes at most RETAIN_BATCH jobs (an index
 * walk on finished_at) and, when more are due, comes back right after
 * the commit, so the loop is never held for more than a few milliseconds.
 * The deleted jobs' files are removed on a thread (store/trash.c), which
 * is slower than the deletes: retention waits while more than
 * RETAIN_BACKLOG jobs' files are still to go, so that a stop never has
 * many to finish.  In a cluster only the leader does this, on the
 * cluster's counts.
 */
#include "clock.h"
#include "core/action.h"
#include "core/cluster.h"
#include "core/core_int.h"
#include "core/counts.h"
#include "log.h"
#include "server.h"
#include "store/schedule.h"
#include "store/store.h"
#include "store/trash.h"

#define RETAIN_EVERY_MS		60000
#define RETAIN_BATCH		200
#define RETAIN_BACKLOG		1000
#define RETAIN_BACKLOG_WAIT_MS	10
#define IDEM_KEEP_MS		(24LL * 3600 * 1000)

static void	on_retain(uv_timer_t *);

static void
expire_one(void *arg, uint64_t id, int attempts)
{
	(void)attempts;
	action_expire(arg, id);
}

/* Finished jobs past --retain-max-jobs, counted as committed. */
static int64_t
over_max(const struct server *srv)
{
	const struct counts	*t = srv->counts;
	int64_t			 finished = t->by_state[JOB_SUCCEEDED] +
				    t->by_state[JOB_FAILED] +
				    t->by_state[JOB_CANCELED];
	int64_t			 max = srv->cfg->retain_max_jobs;

	return max > 0 && finished > max ? finished - max : 0;
}

static void
on_retain(uv_timer_t *t)
{
	struct server	*srv = t->data;
	const struct config *cfg = srv->cfg;
	int64_t		 now = clock_now_ms(), excess;
	int		 n = 0, m = 0, limit;

	if (srv->cluster && !cluster_leader(srv))
		goto again;
	if (trash_backlog(srv) > RETAIN_BACKLOG) {
		uv_timer_start(t, on_retain, RETAIN_BACKLOG_WAIT_MS, 0);
		return;
	}
	cluster_counts(srv, 0);
	excess = over_max(srv);
	if (store_begin(srv->store) < 0)
		goto again;
	if (cfg->retain_finished_ms > 0)
		n = store_expired(srv->store, now - cfg->retain_finished_ms,
		    RETAIN_BATCH, expire_one, srv);
	/* The age deletions of this turn count against the maximum too. */
	excess -= n > 0 ? n : 0;
	limit = excess > RETAIN_BATCH - (n > 0 ? n : 0) ?
	    RETAIN_BATCH - (n > 0 ? n : 0) : (int)excess;
	/* Oldest first, whatever their age, down to the maximum. */
	if (n >= 0 && limit > 0)
		m = store_expired(srv->store, INT64_MAX, limit, expire_one, srv);
	store_idem_purge(srv->store, now - IDEM_KEEP_MS);
	/* A tick's row guards it while it may fire: a day is plenty. */
	store_sched_ticks_purge(srv->store, now - 24 * 3600 * 1000LL);
	turn_dirty(srv);
	if (n > 0 || m > 0)
		log_debug("retain: deleted %d old and %d surplus job(s)", n, m);
	if (n == RETAIN_BATCH || (m > 0 && m == limit)) {
		/* More to go: right after this turn's commit. */
		uv_timer_start(t, on_retain, 1, 0);
		return;
	}
again:
	uv_timer_start(t, on_retain, RETAIN_EVERY_MS, 0);
}

void
retain_init(struct server *srv)
{
	struct core *c = srv->core;

	uv_timer_init(srv->loop, &c->retain_timer);
	c->retain_timer.data = srv;
	uv_timer_start(&c->retain_timer, on_retain, 1000, 0);
	/* Runs as long as runneld does, without keeping it alive. */
	uv_unref((uv_handle_t *)&c->retain_timer);
}
