/*
 * This node in the cluster: its id and row, the tick, and its claims.
 *
 * The tick (every --poll-interval, at most a third of --node-timeout)
 * beats in the node's row every third of the timeout, asks for the
 * leader's lease, and, as the leader, prunes the rows of nodes silent
 * for longer than their timeout and rescues the jobs they left running
 * (finish_node_lost).  It is also the fallback of the notifications: an
 * idle node looks for work, a busy one for cancels asked of it, and the
 * due timer for jobs other nodes scheduled.  Everything it writes goes
 * into the turn's transaction.
 *
 * A node that finds its row gone was declared dead while it could not
 * beat (stopped, cut off): its running jobs were rescued, so it ends the
 * processes of attempts that are no longer its own, then joins again.
 * Its late reports are refused by the fence (cluster_fence): a finish
 * applies only while the job is still running that attempt on that node.
 *
 * When the database goes away (store_link_*: every statement fails at
 * once, the connection is made again in the background), the tick rests;
 * once it is back the node beats at once, and for a node timeout it
 * declares nobody dead: the others were cut off as long as it was, and
 * get that time to beat again.  Claims of a turn whose commit failed may
 * have been committed all the same (the answer to COMMIT lost): they are
 * settled before the next claim (settle_unsure).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "core/cluster.h"
#include "core/core_int.h"
#include "core/counts.h"
#include "core/finish.h"
#include "core/runq.h"
#include "log.h"
#include "pool/pool.h"
#include "server.h"
#include "store/cluster.h"
#include "store/datadir.h"
#include "store/listen.h"
#include "store/space.h"
#include "store/store.h"
#include "vec.h"

#define CLUSTER_CHANNEL		"runnel"
#define RESCUE_BATCH		100
#define RETRY_MIN_MS		10
#define PURGE_EVERY_MS		60000
#define LOCK_MAX_MS		5000
#define SKEW_WARN_MS		1000
#define SKEW_STEP_MS		250
/*
 * No statement of the loop's connection runs longer (statement_timeout,
 * unless the server sets one); an answer that does not come within
 * ANSWER_MAX_MS (a server hung or cut off) cuts the connection: the
 * longest the loop can wait on the database, once.
 */
#define STATEMENT_MAX_MS	10000
#define ANSWER_MAX_MS		(STATEMENT_MAX_MS + 2000)
/*
 * A lost connection is tried again after at most this (or a beat): an
 * attempt never blocks the loop and costs the server little, and this
 * is how long writes may still fail once the database is back.
 */
#define RECONNECT_MAX_MS	2000

static void	on_tick(uv_timer_t *);
static int	settle_unsure(struct server *);

static int
pid_alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

const char *
cluster_node(const struct server *srv)
{
	return srv->cluster ? srv->cluster->node : NULL;
}

int
cluster_leader(const struct server *srv)
{
	return srv->cluster ? srv->cluster->leader : 0;
}

int
cluster_nodes(struct server *srv, void (*cb)(void *, const struct node_row *),
    void *arg)
{
	if (srv->cluster == NULL)
		return 0;
	return store_nodes(srv->store, cb, arg);
}

/* ---- joining ---------------------------------------------------------- */

static int
join(struct server *srv)
{
	struct cluster		*cl = srv->cluster;
	const struct config	*cfg = srv->cfg;
	struct node_row		 me, holder;
	int			 rc;

	memset(&me, 0, sizeof(me));
	snprintf(me.id, sizeof(me.id), "%s", cl->node);
	snprintf(me.host, sizeof(me.host), "%s", cl->host);
	if (cfg->listen_port > 0)
		snprintf(me.listen, sizeof(me.listen), "%.200s:%d",
		    cfg->listen_host, cfg->listen_port);
	me.pid = (int)getpid();
	me.workers = cfg->workers;
	me.timeout_ms = cfg->node_timeout_ms;
	rc = store_node_join(srv->store, &me, pid_alive, &holder);
	if (rc == -EEXIST) {
		log_warnx("cluster: node id %s is in use by pid %d on %s (its "
		    "last beat %.1fs ago): give this node another --node-id",
		    cl->node, holder.pid, holder.host,
		    (double)holder.beat_age_ms / 1000.0);
		return rc;
	}
	if (rc < 0)
		return rc;
	/* The others learn of a new node at once, not at their next look. */
	notify_hello(srv);
	cl->beat_next = clock_mono_ms() + cl->beat_ms;
	return 0;
}

/* A node's row, counted when it is another live node. */
static void
count_peer(void *arg, const struct node_row *n)
{
	struct cluster *cl = arg;

	if (n->alive && strcmp(n->id, cl->node) != 0)
		cl->peers++;
}

static void
look_peers(struct server *srv)
{
	struct cluster	*cl = srv->cluster;
	int		 had = cl->peers;

	cl->peers = 0;
	if (store_nodes(srv->store, count_peer, cl) < 0)
		cl->peers = had;
}

/* Our attempts that were rescued meanwhile: their processes end. */
static void
fence_one(void *arg, const struct worker_info *w)
{
	struct server	*srv = arg;
	struct cluster	*cl = srv->cluster;

	if (w->job == 0 || w->attempt == 0)
		return;
	if (store_fence(srv->store, w->job, cl->node, w->attempt) != -EBUSY)
		return;
	log_warnx("cluster: job=%llu attempt=%d was rescued while this node "
	    "was silent: ending its process here", (unsigned long long)w->job,
	    w->attempt);
	pool_cancel(srv->pool, w->job, "rescued");
}

static void
rejoin(struct server *srv)
{
	struct cluster *cl = srv->cluster;

	if (join(srv) < 0)
		return;		/* the next tick tries again */
	cl->rejoin = 0;
	log_info("cluster: node=%s joined again", cl->node);
	if (srv->pool)
		pool_each(srv->pool, fence_one, srv);
	srv->core->runnable = 1;
}

static void
gone(struct server *srv)
{
	struct cluster *cl = srv->cluster;

	if (cl->rejoin)
		return;
	log_warnx("cluster: node=%s was declared dead (silent for longer than "
	    "--node-timeout): its running jobs were rescued; joining again",
	    cl->node);
	cl->rejoin = 1;
}

/*
 * Stored times (created_at, run_at, back-offs) follow the database's
 * clock, so that nodes whose clocks differ agree on when a delayed job
 * is due.  The offset is taken at the first beat and moved only when it
 * is off by more than SKEW_STEP_MS (a clock stepped or drifting): each
 * measure is off by up to half a round trip, and an offset that moved
 * with that noise would start a job a little before its run_at.  A large
 * skew is said once: the host's clock wants fixing.
 */
static void
align_clock(struct server *srv, int64_t skew_ms)
{
	struct cluster	*cl = srv->cluster;
	int64_t		 moved = skew_ms - cl->skew_ms;

	if (cl->skew_set && moved < SKEW_STEP_MS && moved > -SKEW_STEP_MS)
		return;
	if ((skew_ms > SKEW_WARN_MS || skew_ms < -SKEW_WARN_MS) &&
	    !cl->skew_said) {
		log_warnx("cluster: this host's clock is %+" PRId64 " ms off the "
		    "database's; runneld keeps the database's time", -skew_ms);
		cl->skew_said = 1;
	}
	cl->skew_ms = skew_ms;
	cl->skew_set = 1;
	clock_set_skew_ms(skew_ms);
}

static void
beat(struct server *srv)
{
	struct cluster	*cl = srv->cluster;
	int64_t		 skew;
	int		 rc;

	if ((rc = store_node_beat(srv->store, cl->node, &skew)) == -ENOENT) {
		gone(srv);
		rejoin(srv);
		return;
	}
	if (rc == 0) {
		cl->beat_next = clock_mono_ms() + cl->beat_ms;
		align_clock(srv, skew);
	}
	look_peers(srv);
}

/* ---- the leader's chores ---------------------------------------------- */

static void
on_dead(void *arg, const char *node, const char *host, int pid)
{
	(void)arg;
	log_warnx("cluster: node %s (pid %d on %s) is silent for longer than "
	    "its timeout: removed, its running jobs rescued", node, pid, host);
}

static void
on_orphan(void *arg, const struct orphan *o)
{
	finish_node_lost(arg, o);
}

static void
chores(struct server *srv)
{
	struct cluster	*cl = srv->cluster;
	int64_t		 now = clock_mono_ms();

	/* Back from an outage: the others may be just as late to beat. */
	if ((cl->up_mono == 0 || now - cl->up_mono >=
	    srv->cfg->node_timeout_ms) &&
	    store_nodes_prune(srv->store, cl->node, on_dead, srv) > 0) {
		look_peers(srv);
		cl->purge_next = 0;
	}
	/* More than a batch: the rest at the next tick. */
	store_orphans(srv->store, RESCUE_BATCH, on_orphan, srv);
	if (now >= cl->purge_next) {
		store_counts_fold(srv->store);
		store_minutes_purge(srv->store, clock_now_ms() -
		    (COUNTS_MINUTES + 1) * 60000LL);
		cl->purge_next = now + PURGE_EVERY_MS;
	}
}

static void
lease(struct server *srv)
{
	struct cluster	*cl = srv->cluster;
	int		 rc, elected;

	if ((rc = store_lease(srv->store, cl->node, cl->lease_ms,
	    &elected)) < 0)
		return;
	if (elected)
		log_info("cluster: node=%s is the leader", cl->node);
	else if (cl->leader && rc == 0)
		log_info("cluster: node=%s is no longer the leader", cl->node);
	cl->leader = rc;
}

/* ---- the tick ---------------------------------------------------------- */

static void
on_tick(uv_timer_t *t)
{
	struct server	*srv = t->data;
	struct cluster	*cl = srv->cluster;

	if (cl->stopping)
		return;
	/* No database: nothing to beat, claim or look at (it says when);
	 * the lease runs out meanwhile. */
	if (!store_link_up(srv->store)) {
		cl->leader = 0;
		return;
	}
	if (cl->rejoin)
		rejoin(srv);
	else if (clock_mono_ms() >= cl->beat_next)
		beat(srv);
	if (!cl->rejoin) {
		lease(srv);
		if (cl->leader) {
			chores(srv);
			/* Schedules other nodes made or changed, and the
			 * ticks of a leader lost: this node's timer now. */
			sched_rearm(srv);
		}
	}
	/* Not left for a worker to be idle: such a job waits meanwhile. */
	if (cl->nunsure && !cl->unsure_settled)
		settle_unsure(srv);
	/* The poll: work, cancels and due jobs the notifications missed. */
	if (!srv->draining && srv->pool && pool_idle(srv->pool) >= 0)
		srv->core->runnable = 1;
	notify_poll(srv);
	delay_rearm(srv);
	turn_dirty(srv);
}

static void
on_retry(uv_timer_t *t)
{
	struct server *srv = t->data;

	srv->core->runnable = 1;
	turn_dirty(srv);
}

/* ---- claims and fences ------------------------------------------------ */

/*
 * Claims of turns whose commit failed were never started here.  Yet if
 * the answer to a COMMIT was what got lost, they did happen: such a job
 * runs that attempt on this node in the database, and no worker runs
 * it.  It is queued again (the attempt not counted), in the turn before
 * any new claim, so that no attempt this node starts is ever mistaken
 * for one of these.  They stay listed until such a turn commits.
 */
static int
settle_unsure(struct server *srv)
{
	struct cluster	*cl = srv->cluster;
	struct change	*ch;
	int		 rc;

	for (size_t i = 0; i < cl->nunsure; i++) {
		const struct unsure_claim *u = &cl->unsure[i];

		rc = store_fence(srv->store, u->id, cl->node, u->attempt);
		if (rc == 0)
			rc = store_requeue(srv->store, u->id, JOB_RUNNING, 1, 0);
		if (rc == -EBUSY)
			continue;	/* not committed (or moved on since) */
		if (rc < 0)
			return rc;
		log_warnx("cluster: job=%llu attempt=%d: its claim was "
		    "committed though the commit seemed to fail; it never "
		    "started: queued again", (unsigned long long)u->id,
		    u->attempt);
		ch = turn_change(srv->core, u->id, JOB_RUNNING, JOB_QUEUED,
		    u->queue);
		turn_snapshot(srv, ch, NULL);
		runq_mark(srv, u->queue);
	}
	cl->unsure_settled = 1;
	return 0;
}

int
cluster_first_worker(struct server *srv)
{
	return srv->cluster ? srv->cluster->first_worker : 0;
}

void
cluster_first_drop(struct server *srv)
{
	struct cluster	*cl = srv->cluster;
	int		 rc;

	if (cl == NULL || cl->first_worker == 0)
		return;
	/* Running here in the store, on no worker: never left so (a failed
	 * statement loses the turn, the claim with it). */
	if ((rc = store_requeue(srv->store, cl->first.id, JOB_RUNNING, 1,
	    0)) < 0)
		log_warnx("cluster: job=%llu: its claim could not be undone "
		    "(%s)", (unsigned long long)cl->first.id, strerror(-rc));
	else
		log_debug("cluster: job=%llu: claimed with an end, not started "
		    "(worker=%d): queued again", (unsigned long long)cl->first.id,
		    cl->first_worker);
	cl->first_worker = 0;
	job_clear(&cl->first);
}

int
cluster_claim(struct server *srv, int worker, int64_t now_ms, struct job *out)
{
	struct cluster	*cl = srv->cluster;
	int		 rc;

	if (cl->first_worker) {
		if (cl->first_worker == worker) {
			*out = cl->first;
			job_init(&cl->first);
			cl->first_worker = 0;
			return 1;
		}
		/* Its worker is not idle after all. */
		cluster_first_drop(srv);
	}
	if (cl->rejoin)
		return 0;
	if (cl->nunsure && !cl->unsure_settled &&
	    (rc = settle_unsure(srv)) < 0)
		return rc;
	if (!cl->round.open || cl->round.early) {
		/* Kept when the finish before it opened it (no round trip). */
		rc = store_claim_round(srv->store, cl->node, &cl->round);
		if (rc == -ENOENT) {
			gone(srv);
			uv_timer_start(&cl->tick, on_tick, 0, (uint64_t)cl->tick_ms);
			return 0;
		}
		if (rc < 0)
			return rc;
		/* Another node holds a queue with work: look again soon,
		 * less often while it goes on. */
		if (cl->round.contended) {
			cl->retry_ms = cl->retry_ms ? cl->retry_ms * 2 :
			    RETRY_MIN_MS;
			if (cl->retry_ms > cl->tick_ms)
				cl->retry_ms = cl->tick_ms;
			uv_timer_start(&cl->retry, on_retry,
			    (uint64_t)cl->retry_ms, 0);
		} else {
			cl->retry_ms = 0;
		}
	}
	if ((rc = store_claim_next(srv->store, cl->node, worker, now_ms,
	    &cl->round, out)) == 0)
		cl->claimed_all = 1;
	return rc;
}

static void
refused(uint64_t id, const char *node, const struct job_exit *ex)
{
	log_warnx("cluster: job=%llu attempt=%d node=%s: its end (%s) is "
	    "refused: the job no longer runs that attempt there (rescued, or "
	    "claimed again)", (unsigned long long)id, ex->attempts,
	    node[0] ? node : "(none)", ex->reason ? ex->reason : "exited");
}

int
cluster_fence(struct server *srv, uint64_t id, const struct job_exit *ex)
{
	struct cluster	*cl = srv->cluster;
	const char	*node = ex->node ? ex->node : cl->node;
	int		 rc;

	if ((rc = store_fence(srv->store, id, node, ex->attempts)) == -EBUSY)
		refused(id, node, ex);
	return rc;
}

int
cluster_finish(struct server *srv, const struct job_result *r,
    const struct job_exit *ex)
{
	struct cluster		*cl = srv->cluster;
	const char		*node = ex->node ? ex->node : cl->node;
	struct finish_next	 next, *np = NULL;
	int			 rc, w;

	/*
	 * One round trip: the fence, the finish and the dependents, and the
	 * dispatch round that this node's worker, idle now, will want with
	 * its first claim (a rescue's finish frees no worker here).
	 */
	memset(&next, 0, sizeof(next));
	if (ex->node == NULL && !cl->rejoin && !cl->stopping &&
	    !srv->draining && (cl->nunsure == 0 || cl->unsure_settled) &&
	    (!cl->round.open || cl->round.early)) {
		next.round = &cl->round;
		np = &next;
		if (cl->first_worker == 0 && srv->pool && !space_full(srv) &&
		    (w = pool_idle(srv->pool)) >= 0) {
			next.worker = w;
			next.now_ms = clock_now_ms();
		}
	}
	rc = store_finish_fenced(srv->store, r, node, ex->attempts, np);
	if (np && next.claimed == 1) {
		cl->first = next.job;
		cl->first_worker = next.worker;
	}
	if (rc == -EBUSY) {
		refused(r->id, node, ex);
		return -ESTALE;
	}
	return rc;
}

int
cluster_own_jobs(struct server *srv, uint64_t **ids, size_t *n)
{
	return store_node_jobs(srv->store, srv->cluster->node, ids, n);
}

void
cluster_turn_over(struct server *srv, int rc, const struct run *runs,
    size_t nruns)
{
	struct cluster *cl = srv->cluster;

	if (rc == 0 && cl->unsure_settled)
		cl->nunsure = 0;
	cl->unsure_settled = 0;
	if (rc == 0)
		return;
	for (size_t i = 0; i < nruns; i++) {
		struct unsure_claim *u;

		if (vec_grow(&cl->unsure, &cl->capunsure, cl->nunsure + 1,
		    sizeof(*cl->unsure)) < 0)
			fatalx("cluster: out of memory");
		u = &cl->unsure[cl->nunsure++];
		u->id = runs[i].job.id;
		u->attempt = runs[i].job.attempts;
		snprintf(u->queue, sizeof(u->queue), "%s", runs[i].job.queue);
	}
}

int
cluster_db_up(struct server *srv)
{
	return srv->cluster == NULL || store_link_up(srv->store);
}

/* The database is back: beat, look and claim at once. */
static void
db_up(void *arg)
{
	struct server	*srv = arg;
	struct cluster	*cl = srv->cluster;

	if (cl->stopping)
		return;
	cl->up_mono = clock_mono_ms();
	cl->beat_next = 0;
	cl->counts_at = 0;
	cl->missed = 1;
	uv_timer_start(&cl->tick, on_tick, 0, (uint64_t)cl->tick_ms);
	/* The reports kept meanwhile, and the dispatcher. */
	core_store_back(srv);
}

/* ---- counts ------------------------------------------------------------ */

struct deltas {
	struct count_delta	*d;
	size_t			 nd, capd;
	struct minute_delta	*m;
	size_t			 nm, capm;
};

static void
delta(struct deltas *ds, const char *queue, int state, int64_t n)
{
	size_t i;

	for (i = 0; i < ds->nd; i++)
		if ((int)ds->d[i].state == state &&
		    strcmp(ds->d[i].queue, queue) == 0)
			break;
	if (i == ds->nd) {
		if (vec_grow(&ds->d, &ds->capd, ds->nd + 1, sizeof(*ds->d)) < 0)
			fatalx("cluster: out of memory");	/* or counts drift */
		memset(&ds->d[i], 0, sizeof(ds->d[i]));
		snprintf(ds->d[i].queue, sizeof(ds->d[i].queue), "%s", queue);
		ds->d[i].state = state;
		ds->nd++;
	}
	ds->d[i].n += n;
}

static void
minute(struct deltas *ds, int64_t finished_at)
{
	int64_t	 m = finished_at / 60000 * 60000;
	size_t	 i;

	for (i = 0; i < ds->nm && ds->m[i].minute_ms != m; i++)
		;
	if (i == ds->nm) {
		if (vec_grow(&ds->m, &ds->capm, ds->nm + 1, sizeof(*ds->m)) < 0)
			return;		/* the chart only */
		ds->m[ds->nm++] = (struct minute_delta){m, 0};
	}
	ds->m[i].n++;
}

/*
 * Before the commit: the turn's changes, summed by queue and state, go
 * to this node's counts in the same transaction, as publish() moves
 * srv->counts after it on one node; then what the others must hear.
 */
void
cluster_flush(struct server *srv)
{
	const struct turn	*t = &srv->core->turn;
	struct deltas		 ds = {0};

	for (size_t i = 0; i < t->nchanges; i++) {
		const struct change *ch = &t->changes[i];

		if (ch->from >= 0)
			delta(&ds, ch->queue, ch->from, -1);
		if (ch->to >= 0)
			delta(&ds, ch->queue, ch->to, 1);
		if (ch->to >= 0 && job_state_finished(ch->to) &&
		    ch->from == JOB_RUNNING && ch->finished_at)
			minute(&ds, ch->finished_at);
	}
	/* What a turn moves in and out again (queued, then running) is 0. */
	for (size_t i = 0; i < ds.nd; )
		if (ds.d[i].n == 0)
			ds.d[i] = ds.d[--ds.nd];
		else
			i++;
	/* A failure loses the turn: the changes and the counts together. */
	if (ds.nd || ds.nm)
		store_counts_add(srv->store, srv->cluster->node, ds.d, ds.nd,
		    ds.m, ds.nm);
	free(ds.d);
	free(ds.m);
	notify_flush(srv);
}

static void
add_waiting(void *arg, const char *queue, enum job_state st, int64_t n)
{
	(void)queue;
	if (st == JOB_QUEUED || st == JOB_SCHEDULED)
		*(int64_t *)arg += n;
}

static void
set_queue(void *arg, const char *name, int paused, int concurrency)
{
	struct queue_counts *q = counts_queue(arg, name, 1);

	if (q) {
		q->paused = paused;
		q->concurrency = concurrency;
	}
}

static void
set_minute(void *arg, int64_t minute_ms, int64_t n)
{
	counts_minute_set(arg, minute_ms, n);
}

int
cluster_counts(struct server *srv, int64_t max_age_ms)
{
	struct cluster	*cl = srv->cluster;
	struct counts	*t = srv->counts;
	int64_t		 now = clock_mono_ms();
	int		 rc;

	if (cl == NULL || (cl->counts_at && now - cl->counts_at < max_age_ms))
		return 0;
	/* The last counts read stay while the database is away. */
	if (!store_link_up(srv->store))
		return -ENOTCONN;
	memset(t->by_state, 0, sizeof(t->by_state));
	for (int i = 0; i < t->nqueues; i++)
		memset(t->queues[i].by_state, 0, sizeof(t->queues[i].by_state));
	memset(t->minute_id, 0, sizeof(t->minute_id));
	memset(t->minute_count, 0, sizeof(t->minute_count));
	if ((rc = store_counts(srv->store, counts_add, t)) < 0 ||
	    (rc = store_queues(srv->store, set_queue, t)) < 0 ||
	    (rc = store_minutes(srv->store, clock_now_ms() -
	    COUNTS_MINUTES * 60000LL, set_minute, t)) < 0) {
		cl->counts_at = 0;
		return rc;
	}
	cl->counts_at = now;
	return 0;
}

void
cluster_counts_stale(struct server *srv)
{
	if (srv->cluster)
		srv->cluster->counts_at = 0;
}

int64_t
cluster_waiting(struct server *srv)
{
	struct cluster	*cl = srv->cluster;
	struct turn	*t = &srv->core->turn;
	int64_t		 n = 0;

	/* Read once a turn; the turn's own are counted at its commit. */
	if (!cl->counted && store_counts(srv->store, add_waiting, &n) == 0) {
		cl->waiting_base = n;
		cl->counted = 1;
	}
	return cl->waiting_base + t->waiting + t->held_waiting;
}

/* ---- start and stop ---------------------------------------------------- */

static void
listen_message(void *arg, const char *payload)
{
	notify_message(arg, payload);
}

static void
listen_up(void *arg)
{
	notify_up(arg);
}

static const struct pg_listen_cb listen_cb = {
	.message = listen_message,
	.up = listen_up,
};

static int
node_id(struct server *srv, struct cluster *cl)
{
	if (srv->cfg->node_id[0]) {
		snprintf(cl->node, sizeof(cl->node), "%s", srv->cfg->node_id);
		return 0;
	}
	return datadir_node_id(srv, cl->node, sizeof(cl->node));
}

int
cluster_start(struct server *srv)
{
	const struct config	*cfg = srv->cfg;
	struct cluster		*cl;
	int64_t			 timeout = cfg->node_timeout_ms, lock_ms;
	int			 rc;

	if (!store_clustered(srv->store))
		return 0;
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return -ENOMEM;
	cl->srv = srv;
	srv->cluster = cl;
	if ((rc = node_id(srv, cl)) < 0)
		return rc;
	if (gethostname(cl->host, sizeof(cl->host) - 1) < 0)
		snprintf(cl->host, sizeof(cl->host), "unknown");
	/* Beat three times a timeout; the lease lasts a tick less than a
	 * timeout, so that a dead leader's successor is in within one. */
	cl->beat_ms = timeout / 3;
	cl->tick_ms = cfg->poll_interval_ms < cl->beat_ms ?
	    cfg->poll_interval_ms : cl->beat_ms;
	cl->lease_ms = timeout - cl->tick_ms;
	/* No lock wait, nor a stopped node's open transaction, may outlast
	 * what makes a node dead. */
	lock_ms = timeout / 3 < LOCK_MAX_MS ? timeout / 3 : LOCK_MAX_MS;
	/* (-EEXIST is main's word for a data directory in use.) */
	if ((rc = store_node_session(srv->store, lock_ms, timeout,
	    STATEMENT_MAX_MS)) < 0 || (rc = join(srv)) < 0)
		return rc == -EEXIST ? -EBUSY : rc;
	/* The database's clock from the first stored time on. */
	beat(srv);
	/* A node alone leads from the start (retention runs a second in). */
	lease(srv);
	if ((rc = store_commit(srv->store, 1)) < 0)
		return rc;
	look_peers(srv);
	if (cfg->notify && (rc = pg_listen_start(srv->loop, cfg->database,
	    CLUSTER_CHANNEL, &listen_cb, srv, &cl->listen)) < 0)
		return rc;
	uv_timer_init(srv->loop, &cl->tick);
	uv_timer_init(srv->loop, &cl->retry);
	cl->tick.data = cl->retry.data = srv;
	/* Tried again within a beat: back before anyone declares it dead. */
	if ((rc = store_link_start(srv->store, srv->loop, cl->beat_ms <
	    RECONNECT_MAX_MS ? cl->beat_ms : RECONNECT_MAX_MS, ANSWER_MAX_MS,
	    db_up, srv)) < 0)
		return rc;
	uv_timer_start(&cl->tick, on_tick, (uint64_t)cl->tick_ms,
	    (uint64_t)cl->tick_ms);
	log_info("cluster: node=%s host=%s joined: %d other node(s), node "
	    "timeout %.1fs, notify %s, poll every %.1fs", cl->node, cl->host,
	    cl->peers, (double)timeout / 1000.0, cfg->notify ? "on" : "off",
	    (double)cl->tick_ms / 1000.0);
	return 0;
}

static void
on_closed(uv_handle_t *h)
{
	(void)h;	/* the handles live in struct cluster, freed by cluster_free */
}

void
cluster_stop(struct server *srv)
{
	struct cluster *cl = srv->cluster;

	if (cl == NULL || cl->stopping)
		return;
	cl->stopping = 1;
	cluster_first_drop(srv);
	/* Gone at once: no waiting for a timeout to see it. */
	if (store_node_leave(srv->store, cl->node) < 0 ||
	    store_commit(srv->store, 1) < 0)
		log_warnx("cluster: node=%s could not leave: the others will "
		    "see it silent after --node-timeout", cl->node);
	else
		log_info("cluster: node=%s left", cl->node);
	pg_listen_stop(cl->listen);
	cl->listen = NULL;
	store_link_stop(srv->store);
	if (cl->tick.loop) {
		uv_close((uv_handle_t *)&cl->tick, on_closed);
		uv_close((uv_handle_t *)&cl->retry, on_closed);
	}
}

void
cluster_free(struct server *srv)
{
	struct cluster *cl = srv->cluster;

	if (cl == NULL)
		return;
	claim_round_clear(&cl->round);
	job_clear(&cl->first);
	free(cl->unsure);
	free(cl->wake);
	free(cl->cancels);
	free(cl->canceling);
	free(cl);
	srv->cluster = NULL;
}
