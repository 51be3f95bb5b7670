/*
 * The core: the turn, the dispatcher and group commit.
 *
 * A turn of the loop gathers mutations (submits, cancels, finishes) into
 * one open transaction (submit.c, action.c, finish.c, deps.c, delay.c
 * and retain.c make them; turn.c records them).  The uv_check handle
 * runs after the loop's I/O: it claims jobs for idle workers in the same
 * transaction, commits once, and only then completes the waiting
 * operations and publishes events.  When the commit fails nothing of
 * the turn happened: operations complete with the error, claims are
 * undone, and worker reports are applied again a second later (while
 * the database is away, as soon as it is back: they wait in c->redo,
 * and the jobs they end keep running in the store's eyes meanwhile).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core/core.h"
#include "core/cluster.h"
#include "core/core_int.h"
#include "core/counts.h"
#include "core/events.h"
#include "core/finish.h"
#include "core/runq.h"
#include "log.h"
#include "pool/pool.h"
#include "server.h"
#include "store/files.h"
#include "store/output.h"
#include "store/space.h"
#include "store/store.h"
#include "store/trash.h"
#include "vec.h"

#define REDO_DELAY_MS	1000

static void	on_redo(uv_timer_t *);
static void	load_queue(void *, const char *, int, int);


int
core_job_get(struct server *srv, uint64_t id, struct job *j)
{
	int rc;

	if ((rc = store_get(srv->store, id, j)) < 0)
		return rc;
	/* No worker has it: its end is known but not stored yet. */
	if (j->state == JOB_RUNNING && pool_job_live(srv->pool, id, j) < 0)
		finish_overlay(srv, j);
	return 0;
}

void
core_touch(struct server *srv)
{
	turn_dirty(srv);
}

int
core_turn_open(const struct server *srv)
{
	return srv->store && store_in_txn(srv->store);
}

void
core_worker_ready(struct server *srv)
{
	turn_dirty(srv);
}

/* ---- end of turn ------------------------------------------------------- */

/* The next idle worker: the one a job claimed with a finish waits for
 * first (cluster mode), so that it starts where the store says. */
static int
next_idle(struct server *srv)
{
	int w = srv->cluster ? cluster_first_worker(srv) : 0;

	if (w > 0 && pool_is_idle(srv->pool, w))
		return w;
	return pool_idle(srv->pool);
}

/*
 * Claims runnable jobs for idle workers, inside the turn's transaction.
 * Their RUN frames go out only after the commit (turn_start): a job
 * whose claim, or whose own submission, did not reach the database never
 * starts, so a refused request never runs.
 */
static void
dispatch(struct server *srv)
{
	struct core	*c = srv->core;
	struct turn	*t = &c->turn;
	int64_t		 now = clock_now_ms();
	const char	*queue;
	struct change	*ch;
	struct run	*run;
	uint64_t	 id;
	int		 w, rc;

	if (srv->cluster && cluster_first_worker(srv))
		c->runnable = 1;
	/* A full disk could store neither their output nor their end. */
	while (!srv->draining && c->runnable && srv->pool &&
	    (w = next_idle(srv)) >= 0 && !space_full(srv)) {
		if (vec_grow(&t->runs, &t->capruns, t->nruns + 1, sizeof(*t->runs)) < 0)
			break;
		run = &t->runs[t->nruns];
		if (srv->cluster) {
			/* Other nodes claim too: the store picks, not runq. */
			if ((rc = cluster_claim(srv, w, now, &run->job)) <= 0) {
				if (rc == 0)
					c->runnable = 0;
				break;
			}
			id = run->job.id;
		} else {
			if ((rc = runq_pick(srv, &id, &queue)) <= 0) {
				if (rc == 0)
					c->runnable = 0;
				break;
			}
			rc = store_claim(srv->store, id, w, now, &run->job);
			runq_taken(srv, queue);
			if (rc < 0)
				break;
			if (rc == 0)
				continue;	/* canceled meanwhile: pick again */
		}
		pool_reserve(srv->pool, w, id);
		run->worker = w;
		run->job.worker = w;
		t->nruns++;
		ch = turn_change(c, id, JOB_QUEUED, JOB_RUNNING, run->job.queue);
		ch->started_at = run->job.started_at;
		turn_snapshot(srv, ch, &run->job);
		runq_started(srv, run->job.queue);
	}
}


/* The turn's claims are committed: their workers start them. */
static void
turn_start(struct server *srv, struct turn *t)
{
	for (size_t i = 0; i < t->nruns; i++) {
		struct job *j = &t->runs[i].job;

		if (pool_run(srv->pool, t->runs[i].worker, j) < 0) {
			struct job_exit lost = {
				.queue = j->queue, .started_at = j->started_at,
				.attempts = j->attempts,
				.max_attempts = j->max_attempts,
			};

			finish_lost(srv, j->id, &lost);
		}
	}
}

/* A repeated Idempotency-Key: the jobs it made, as they are now. */
static void
done_replay(struct server *srv, struct pending *p, struct core_result *r)
{
	struct job	*jobs = calloc(p->njobs ? p->njobs : 1, sizeof(*jobs));
	size_t		 n = 0;

	if (jobs == NULL) {
		r->rc = -ENOMEM;
		p->done(p->arg, r);
		return;
	}
	for (size_t i = 0; i < p->njobs; i++)
		if (core_job_get(srv, p->ids[i], &jobs[n]) == 0)
			n++;
	/* The one job a single submit made is gone. */
	if (n == 0 && !p->batch)
		r->rc = -ENOENT;
	r->jobs = jobs;
	r->njobs = n;
	p->done(p->arg, r);
	job_free_all(jobs, n);
}

/* The settings were applied at the request: dispatch under them. */
static void
queue_applied(struct server *srv, struct pending *p)
{
	if (counts_queue(srv->counts, p->queue, 1) == NULL)
		return;
	runq_mark(srv, p->queue);
	srv->core->runnable = 1;
	turn_dirty(srv);
}

void
core_keep_report(struct core *c, uint64_t id, const struct job_exit *ex)
{
	struct pending *r;

	if (vec_grow(&c->redo, &c->capredo, c->nredo + 1, sizeof(*r)) < 0)
		fatalx("core: out of memory");
	r = &c->redo[c->nredo++];
	finish_keep(r, id, ex);
	if (!uv_is_active((uv_handle_t *)&c->redo_timer))
		uv_timer_start(&c->redo_timer, on_redo, REDO_DELAY_MS, 0);
}

static void
pending_done(struct server *srv, struct pending *p, int rc)
{
	struct core_result r = {.rc = rc, .id = p->id, .batch = p->batch};

	switch (p->kind) {
	case P_SUBMIT:
		/* Rolled back: the job is gone, so is its file. */
		if (rc < 0 && p->upload)
			files_remove(srv, p->jobs[0].id);
		r.created = 1;
		r.jobs = p->jobs;
		r.njobs = p->njobs;
		if (p->done)
			p->done(p->arg, &r);
		job_free_all(p->jobs, p->njobs);
		return;
	case P_REPLAY:
		if (rc == 0 && p->done)
			done_replay(srv, p, &r);
		else if (p->done)
			p->done(p->arg, &r);
		free(p->ids);
		return;
	case P_JOB:
		break;
	case P_QUEUE:
		if (rc == 0)
			queue_applied(srv, p);
		r.queue = p->queue;
		break;
	case P_DELETE:
		/* DELETE answers once the files are gone; retention's
		 * and bulk deletes' go on a thread, the loop not waiting. */
		if (rc == 0 && (!p->files_later ||
		    trash_add(srv, p->id, p->attempts) < 0)) {
			output_remove(srv->output_dir, p->id, p->attempts);
			files_remove(srv, p->id);
		}
		break;
	case P_EXIT:
		if (rc < 0)
			core_keep_report(srv->core, p->id, finish_kept(p));
		return;
	}
	if (p->done)
		p->done(p->arg, &r);
}

/* An operator's line per finished job: id, state, exit, duration. */
static void
log_finish(const struct change *ch)
{
	char	 exit[16] = "-", sig[24] = "", err[sizeof(ch->error) + 16] = "";
	char	 dur[32] = "-";

	if (ch->exit_code >= 0)
		snprintf(exit, sizeof(exit), "%d", ch->exit_code);
	if (ch->signal > 0)
		snprintf(sig, sizeof(sig), " signal=%d", ch->signal);
	if (ch->started_at > 0 && ch->finished_at >= ch->started_at)
		snprintf(dur, sizeof(dur), "%.3fs",
		    (double)(ch->finished_at - ch->started_at) / 1000.0);
	if (ch->error[0])
		snprintf(err, sizeof(err), " error=\"%s\"", ch->error);
	log_info("job=%llu state=%s exit=%s%s duration=%s%s",
	    (unsigned long long)ch->id, job_state_name(ch->to), exit, sig, dur,
	    err);
}

static void
publish(struct server *srv, const struct change *ch)
{
	if (ch->to >= 0 && job_state_finished(ch->to))
		log_finish(ch);
	/* A node's copy of the cluster's counts went behind: read again.
	 * One node's counts are exact: going below zero is a bug. */
	if (counts_move(srv->counts, ch->queue, ch->from, ch->to)) {
		if (srv->cluster)
			cluster_counts_stale(srv);
		else
			log_warnx("core: job=%llu queue=%s: a count went below "
			    "zero (kept at 0)", (unsigned long long)ch->id,
			    ch->queue);
	}
	if (ch->to >= 0 && job_state_finished(ch->to) && ch->finished_at &&
	    ch->from == JOB_RUNNING)
		counts_finish(srv->counts, ch->finished_at,
		    ch->finished_at - ch->started_at);
	events_job(srv, ch->id, ch->to, ch->snap);
	if (ch->to >= 0 && job_state_finished(ch->to)) {
		sched_job_finished(srv, ch->id);
		if (srv->job_finished)
			srv->job_finished(srv, ch->id);
	}
}

/*
 * Only what is answered to a client must survive a power loss before the
 * answer goes out.  Claims and finishes alone survive a crash of runneld;
 * after a power loss such a job may run again (at least once).
 */
static int
turn_acknowledges(struct server *srv, const struct turn *t)
{
	for (size_t i = 0; i < t->npending; i++)
		if (t->pending[i].done)
			return 1;
	/* A client waiting for a job's end is answered after this commit. */
	for (size_t i = 0; i < t->nchanges; i++)
		if (t->changes[i].to >= 0 && job_state_finished(t->changes[i].to) &&
		    events_waiting(srv, t->changes[i].id))
			return 1;
	return 0;
}

void
core_flush(struct server *srv)
{
	struct core	*c = srv->core;
	struct turn	 t;
	int		 rc;

	c->dirty = 0;
	uv_idle_stop(&c->idle);
	if (c->turn.nheld)
		submit_flush(srv);
	dispatch(srv);
	if (srv->cluster) {
		/* A job claimed with a finish that nothing could start. */
		cluster_first_drop(srv);
		cluster_flush(srv);
	}
	rc = store_commit(srv->store, turn_acknowledges(srv, &c->turn));
	if (srv->cluster) {
		notify_committed(srv, rc);
		cluster_turn_over(srv, rc, c->turn.runs, c->turn.nruns);
	}
	/* Take the turn: what the callbacks below add goes to the next one. */
	t = c->turn;
	memset(&c->turn, 0, sizeof(c->turn));
	if (rc < 0) {
		/* A turn that found the database away changed nothing: the
		 * loss itself was logged. */
		if (rc != -ENOTCONN || t.nchanges)
			log_warnx("core: commit failed (%s): %zu changes undone",
			    strerror(-rc), t.nchanges);
		/* Their claims are undone, and nothing was sent. */
		for (size_t i = 0; i < t.nruns; i++)
			pool_release(srv->pool, t.runs[i].worker);
		c->runnable = 1;
		store_queues(srv->store, load_queue, srv->counts);
		runq_reset(srv);
		delay_rearm(srv);
	} else {
		turn_start(srv, &t);
		for (size_t i = 0; i < t.nchanges; i++)
			publish(srv, &t.changes[i]);
	}
	for (size_t i = 0; i < t.npending; i++)
		pending_done(srv, &t.pending[i], t.pending[i].rc ?
		    t.pending[i].rc : rc);
	turn_free(&t);
	if (rc < 0)
		space_hit(srv, "database", -rc);
}

void
core_storage_changed(struct server *srv)
{
	struct core *c = srv->core;

	if (c == NULL)
		return;
	/* Full: the reserve was just given up; room: it is there again. */
	if (c->nredo)
		uv_timer_start(&c->redo_timer, on_redo, 0, 0);
	if (!space_full(srv)) {
		c->runnable = 1;
		turn_dirty(srv);
	}
}

void
core_store_back(struct server *srv)
{
	core_storage_changed(srv);
}

size_t
core_reports_waiting(const struct server *srv)
{
	return srv->core ? srv->core->nredo : 0;
}

static void
on_check(uv_check_t *h)
{
	struct server *srv = h->data;

	if (srv->core->dirty || store_in_txn(srv->store))
		core_flush(srv);
	/* The reads that came meanwhile see what is committed now. */
	if (srv->turn_over)
		srv->turn_over(srv);
}

static void
on_redo(uv_timer_t *h)
{
	struct server	*srv = h->data;
	struct core	*c = srv->core;
	struct pending	*redo = c->redo;
	size_t		 n = c->nredo;
	struct job	 live;

	/* Nothing to store them in yet: its return calls again. */
	if (!cluster_db_up(srv)) {
		uv_timer_start(&c->redo_timer, on_redo, REDO_DELAY_MS, 0);
		return;
	}
	c->redo = NULL;
	c->nredo = c->capredo = 0;
	for (size_t i = 0; i < n; i++) {
		/* A worker here runs the job again: the report is of an
		 * earlier attempt, which is over for good. */
		if (srv->pool && pool_job_live(srv->pool, redo[i].id,
		    &live) == 0) {
			log_warnx("core: job=%llu attempt=%d: its kept end is "
			    "dropped: the job runs again here",
			    (unsigned long long)redo[i].id, redo[i].ex.attempts);
			continue;
		}
		finish_apply(srv, redo[i].id, finish_kept(&redo[i]));
	}
	free(redo);
}

/* ---- start-up ---------------------------------------------------------- */

static void
load_queue(void *arg, const char *name, int paused, int concurrency)
{
	struct queue_counts *q = counts_queue(arg, name, 1);

	if (q) {
		q->paused = paused;
		q->concurrency = concurrency;
	}
}

static void
load_minute(void *arg, int64_t finished_at)
{
	counts_minute_add(arg, finished_at);
}

int
core_load(struct server *srv)
{
	int64_t	 since = clock_now_ms() - COUNTS_MINUTES * 60000LL;
	int	 rc;

	/* The cluster's counts are kept by the store, not counted here. */
	if (srv->cluster) {
		cluster_counts(srv, 0);
		runq_reset(srv);
		return 0;
	}
	if ((rc = store_queues(srv->store, load_queue, srv->counts)) < 0 ||
	    (rc = store_count(srv->store, counts_add, srv->counts)) < 0 ||
	    (rc = store_finished_since(srv->store, since, load_minute,
	    srv->counts)) < 0)
		return rc;
	runq_reset(srv);
	return 0;
}

int
core_recover(struct server *srv)
{
	int rc;

	if ((rc = finish_recover(srv)) < 0)
		return rc;
	core_flush(srv);
	/* Scheduled jobs wait on: the timer takes the first of them. */
	delay_rearm(srv);
	/* And schedules theirs; a run owed before the restart is looked at. */
	srv->core->sched_owed = 1;
	sched_rearm(srv);
	return 0;
}

int
core_start(struct server *srv)
{
	struct core *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->srv = srv;
	c->runnable = 1;
	srv->core = c;
	uv_check_init(srv->loop, &c->check);
	uv_idle_init(srv->loop, &c->idle);
	uv_timer_init(srv->loop, &c->redo_timer);
	c->check.data = c->idle.data = c->redo_timer.data = srv;
	uv_check_start(&c->check, on_check);
	delay_init(srv);
	retain_init(srv);
	sched_init(srv);
	return 0;
}

static void
on_closed(uv_handle_t *h)
{
	(void)h;	/* the handles live in struct core, freed by core_free */
}

void
core_stop(struct server *srv)
{
	struct core *c = srv->core;

	if (c == NULL)
		return;
	if (c->dirty || store_in_txn(srv->store))
		core_flush(srv);
	uv_close((uv_handle_t *)&c->check, on_closed);
	uv_close((uv_handle_t *)&c->idle, on_closed);
	uv_close((uv_handle_t *)&c->redo_timer, on_closed);
	uv_close((uv_handle_t *)&c->due_timer, on_closed);
	uv_close((uv_handle_t *)&c->retain_timer, on_closed);
	uv_close((uv_handle_t *)&c->sched_timer, on_closed);
}

void
core_free(struct server *srv)
{
	struct core *c = srv->core;

	if (c == NULL)
		return;
	turn_free(&c->turn);
	free(c->redo);
	free(c);
	srv->core = NULL;
}
