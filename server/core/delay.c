/*
 * The due timer: one libuv timer armed for the earliest scheduled job
 * that waits only for its time (an index seek, jobs_due).  When it
 * fires, due jobs become queued in batches of DUE_BATCH per loop turn,
 * then it is armed again.  With any number of jobs scheduled and none
 * due, nothing runs at all.  In a cluster every node's timer looks at
 * the shared table (the tick arms it again every poll interval, for
 * jobs other nodes scheduled); a due job another node is promoting at
 * that moment is left to it.
 */
#include "clock.h"
#include "core/core_int.h"
#include "core/runq.h"
#include "log.h"
#include "server.h"
#include "store/cluster.h"
#include "store/store.h"

#define DUE_BATCH	512

static void	on_due(uv_timer_t *);

static void
delay_start(struct server *srv, int64_t at)
{
	struct core	*c = srv->core;
	int64_t		 wait = at - clock_now_ms();

	c->due_at = at;
	uv_timer_start(&c->due_timer, on_due, (uint64_t)(wait > 0 ? wait : 0), 0);
}

void
delay_init(struct server *srv)
{
	struct core *c = srv->core;

	uv_timer_init(srv->loop, &c->due_timer);
	c->due_timer.data = srv;
}

void
delay_arm(struct server *srv, int64_t run_at)
{
	struct core *c = srv->core;

	if (c->due_at == 0 || run_at < c->due_at)
		delay_start(srv, run_at);
}

void
delay_rearm(struct server *srv)
{
	struct core	*c = srv->core;
	int64_t		 at;

	uv_timer_stop(&c->due_timer);
	c->due_at = 0;
	if (store_next_due(srv->store, &at) == 0 && at > 0)
		delay_start(srv, at);
}

struct batch {
	struct server	*srv;
	int		 promoted;
};

static void
one_due(void *arg, uint64_t id, const char *queue)
{
	struct batch *b = arg;

	if (delay_promote(b->srv, id, queue) == 0)
		b->promoted++;
}

static void
on_due(uv_timer_t *t)
{
	struct server	*srv = t->data;
	struct core	*c = srv->core;
	struct batch	 b = {srv, 0};
	int		 n;

	c->due_at = 0;
	if (store_begin(srv->store) < 0)
		goto later;
	n = srv->cluster ?
	    store_due_skip(srv->store, clock_now_ms(), DUE_BATCH, one_due, &b) :
	    store_due(srv->store, clock_now_ms(), DUE_BATCH, one_due, &b);
	if (n < 0)
		goto later;
	if (n == DUE_BATCH) {
		/*
		 * More are due: the next batch after this turn's commit.  1 ms,
		 * not 0: a 0 ms timer started from its own callback runs again
		 * in the same turn with this libuv, and the loop would stall.
		 */
		c->due_at = clock_now_ms();
		uv_timer_start(&c->due_timer, on_due, 1, 0);
		return;
	}
	delay_rearm(srv);
	return;
later:
	log_warnx("due: store unavailable: trying again in a second");
	delay_start(srv, clock_now_ms() + 1000);
}

/* A scheduled job's time came, or its last dependency succeeded. */
int
delay_promote(struct server *srv, uint64_t id, const char *queue)
{
	struct core	*c = srv->core;
	int		 rc;

	if ((rc = store_promote(srv->store, id)) < 0)
		return rc;
	turn_snapshot(srv, turn_change(c, id, JOB_SCHEDULED, JOB_QUEUED, queue),
	    NULL);
	runq_mark(srv, queue);
	c->runnable = 1;
	turn_dirty(srv);
	return 0;
}
