/*
 * The core: job state changes, the dispatcher and group commit.
 *
 * A turn of the loop gathers mutations (submits, cancels, finishes) into
 * one open transaction.  The uv_check handle runs after the loop's I/O:
 * it claims jobs for idle workers in the same transaction, commits once,
 * and only after a successful commit sends RUN frames, answers requests
 * and publishes events.  When the commit fails nothing of the turn
 * happened: requests get 503, claims are undone, and worker reports are
 * applied again a second later.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core.h"
#include "events.h"
#include "files.h"
#include "jw.h"
#include "log.h"
#include "output.h"
#include "pool.h"
#include "reply.h"
#include "runq.h"
#include "server.h"
#include "spec.h"
#include "store.h"
#include "tally.h"

#define REDO_DELAY_MS	1000

static void	on_redo(uv_timer_t *);

struct change {
	uint64_t	 id;
	int		 from;		/* -1: the job is new */
	int		 to;		/* -1: the job was deleted */
	char		 queue[JOB_QUEUE_MAX + 1];
	int64_t		 started_at;
	int64_t		 finished_at;
	char		*event;		/* the job as it was, for subscribers */
};

enum pending_kind {
	P_SUBMIT,	/* answer 201 with the submitted jobs */
	P_REPLY,	/* answer with the job */
	P_DELETE,	/* remove the job's files, answer 204 */
	P_EXIT		/* a worker's report: apply again if the commit fails */
};

struct pending {
	enum pending_kind	 kind;
	struct request		*req;
	uint64_t		 id;
	int			 attempts;
	int			 upload;	/* P_SUBMIT: its file was moved in */
	struct job		*jobs;
	size_t			 njobs;
	int			 batch;
	/* P_EXIT: a copy of the report */
	struct job_exit		 ex;
	char			 queue[JOB_QUEUE_MAX + 1];
	char			 reason[32];
	char			 error[256];
	int			 lost;
};

struct run {
	int		 worker;
	uint64_t	 id;
};

struct turn {
	struct change	*changes;
	size_t		 nchanges, capchanges;
	struct pending	*pending;
	size_t		 npending, cappending;
	struct run	*runs;
	size_t		 nruns, capruns;
};

struct core {
	struct server	*srv;
	uv_check_t	 check;
	uv_idle_t	 idle;
	uv_timer_t	 redo_timer;
	int		 dirty;
	int		 runnable;	/* a queued job may exist */
	struct turn	 turn;
	struct pending	*redo;		/* reports to apply again */
	size_t		 nredo, capredo;
};

static int
grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t	 c;
	void	*np;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	if ((np = realloc(*p, c * size)) == NULL)
		return -ENOMEM;
	*p = np;
	*cap = c;
	return 0;
}

static struct change *
change_add(struct core *c, uint64_t id, int from, int to, const char *queue)
{
	struct turn	*t = &c->turn;
	struct change	*ch;

	if (grow((void **)&t->changes, &t->capchanges, t->nchanges,
	    sizeof(*ch)) < 0)
		fatalx("core: out of memory");	/* cannot keep counts honest */
	ch = &t->changes[t->nchanges++];
	memset(ch, 0, sizeof(*ch));
	ch->id = id;
	ch->from = from;
	ch->to = to;
	snprintf(ch->queue, sizeof(ch->queue), "%s", queue ? queue : "");
	return ch;
}

/*
 * Renders the job as this change left it, while later changes of the
 * same turn (a claim right after a submit) have not touched it yet.
 * Only when someone listens.
 */
static void
change_event(struct server *srv, struct change *ch, const struct job *j)
{
	struct job	 got;
	struct jw	 w;
	size_t		 len;

	if (events_subscribers(srv) == 0 || ch->to < 0)
		return;
	if (j == NULL) {
		if (core_job_get(srv, ch->id, &got) < 0)
			return;
		j = &got;
	}
	jw_init(&w);
	job_json(&w, j);
	if (j == &got)
		job_clear(&got);
	ch->event = jw_take(&w, &len);
}

static struct pending *
pending_add(struct core *c, enum pending_kind kind, struct request *req,
    uint64_t id)
{
	struct turn	*t = &c->turn;
	struct pending	*p;

	if (grow((void **)&t->pending, &t->cappending, t->npending,
	    sizeof(*p)) < 0)
		fatalx("core: out of memory");
	p = &t->pending[t->npending++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->req = req;
	p->id = id;
	return p;
}

static void
on_idle(uv_idle_t *h)
{
	(void)h;	/* only keeps the loop from blocking before the check */
}

void
core_dirty(struct server *srv)
{
	struct core *c = srv->core;

	if (c->dirty)
		return;
	c->dirty = 1;
	uv_idle_start(&c->idle, on_idle);
}

int
core_reply_job(struct server *srv, struct request *req, int status,
    uint64_t id)
{
	struct job	 j;
	int		 rc;

	struct jw	 w;

	if ((rc = core_job_get(srv, id, &j)) < 0)
		return reply_errno(req, rc);
	jw_init(&w);
	job_json(&w, &j);
	job_clear(&j);
	return reply_jw(req, status, &w);
}

int
core_job_get(struct server *srv, uint64_t id, struct job *j)
{
	int rc;

	if ((rc = store_get(srv->store, id, j)) < 0)
		return rc;
	if (j->state == JOB_RUNNING)
		pool_job_live(srv->pool, id, j);
	return 0;
}

/* ---- requests ---------------------------------------------------------- */

int
core_submit(struct server *srv, struct job *jobs, size_t n, int batch,
    struct request *req)
{
	struct core	*c = srv->core;
	int64_t		 now = clock_now_ms();
	struct pending	*p;
	size_t		 i;
	int		 rc;

	if (srv->draining) {
		rc = -ESHUTDOWN;
		goto fail;
	}
	if ((rc = store_mark(srv->store)) < 0)
		goto fail;
	for (i = 0; i < n; i++)
		jobs[i].state = JOB_QUEUED;
	if ((rc = store_submit(srv->store, jobs, n, now)) < 0) {
		store_unmark(srv->store, 0);
		goto fail;
	}
	if ((rc = store_unmark(srv->store, 1)) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		change_event(srv, change_add(c, jobs[i].id, -1, JOB_QUEUED,
		    jobs[i].queue), &jobs[i]);
		if (i == 0 || strcmp(jobs[i].queue, jobs[i - 1].queue) != 0)
			runq_mark(srv, jobs[i].queue);
	}
	p = pending_add(c, P_SUBMIT, req, 0);
	p->jobs = jobs;
	p->njobs = n;
	p->batch = batch;
	c->runnable = 1;
	core_dirty(srv);
	return API_PENDING;
fail:
	spec_free_jobs(jobs, n);
	return reply_errno(req, rc);
}

int
core_submit_upload(struct server *srv, struct job *job, const char *tmp_path,
    struct request *req)
{
	struct core	*c = srv->core;
	struct pending	*p;
	int		 rc;

	if (srv->draining) {
		rc = -ESHUTDOWN;
		goto fail;
	}
	job->state = JOB_QUEUED;
	if ((rc = store_mark(srv->store)) < 0)
		goto fail;
	if ((rc = store_submit(srv->store, job, 1, clock_now_ms())) < 0 ||
	    (rc = files_store(srv, job->id, job->file_name, tmp_path,
	    srv->cfg->durability == STORE_DURABLE)) < 0) {
		store_unmark(srv->store, 0);
		goto fail;
	}
	if ((rc = store_unmark(srv->store, 1)) < 0) {
		files_remove(srv, job->id);
		goto fail;
	}
	change_event(srv, change_add(c, job->id, -1, JOB_QUEUED, job->queue),
	    job);
	runq_mark(srv, job->queue);
	p = pending_add(c, P_SUBMIT, req, 0);
	p->jobs = job;
	p->njobs = 1;
	p->upload = 1;
	c->runnable = 1;
	core_dirty(srv);
	return API_PENDING;
fail:
	spec_free_jobs(job, 1);
	return reply_errno(req, rc);
}

static int
load_state(struct server *srv, uint64_t id, struct request *req,
    struct job *j)
{
	int rc;

	if ((rc = store_get(srv->store, id, j)) < 0) {
		reply_errno(req, rc);
		return rc;
	}
	return 0;
}

static int
conflict(struct request *req, struct job *j, const char *what)
{
	int rc = reply_fail(req, 409, "conflict", NULL, "cannot %s job %llu: "
	    "it is %s", what, (unsigned long long)j->id,
	    job_state_name(j->state));

	job_clear(j);
	return rc;
}

int
core_cancel(struct server *srv, uint64_t id, struct request *req)
{
	struct core	*c = srv->core;
	struct job	 j;
	int		 rc;

	if (load_state(srv, id, req, &j) < 0)
		return API_DONE;
	if (j.state == JOB_RUNNING) {
		job_clear(&j);
		if ((rc = pool_cancel(srv->pool, id, "canceled")) < 0)
			return reply_errno(req, rc);
		/* Answered once the process group is gone. */
		return events_wait(srv, id, req,
		    srv->cfg->kill_grace_ms + 30000);
	}
	if (j.state != JOB_QUEUED && j.state != JOB_SCHEDULED)
		return conflict(req, &j, "cancel");
	rc = store_set_state(srv->store, id, j.state, JOB_CANCELED, "canceled",
	    clock_now_ms());
	if (rc < 0) {
		job_clear(&j);
		return reply_errno(req, rc);
	}
	change_event(srv, change_add(c, id, j.state, JOB_CANCELED, j.queue), NULL);
	pending_add(c, P_REPLY, req, id);
	job_clear(&j);
	core_dirty(srv);
	return API_PENDING;
}

int
core_retry(struct server *srv, uint64_t id, struct request *req)
{
	struct core	*c = srv->core;
	struct job	 j;
	int		 rc;

	if (load_state(srv, id, req, &j) < 0)
		return API_DONE;
	if (j.state != JOB_FAILED && j.state != JOB_CANCELED)
		return conflict(req, &j, "retry");
	if (srv->draining) {
		job_clear(&j);
		return reply_errno(req, -ESHUTDOWN);
	}
	if ((rc = store_requeue(srv->store, id, j.state, 0)) < 0) {
		job_clear(&j);
		return reply_errno(req, rc);
	}
	change_event(srv, change_add(c, id, j.state, JOB_QUEUED, j.queue), NULL);
	runq_mark(srv, j.queue);
	pending_add(c, P_REPLY, req, id);
	job_clear(&j);
	c->runnable = 1;
	core_dirty(srv);
	return API_PENDING;
}

int
core_delete(struct server *srv, uint64_t id, struct request *req)
{
	struct core	*c = srv->core;
	struct pending	*p;
	struct job	 j;
	int		 rc;

	if (load_state(srv, id, req, &j) < 0)
		return API_DONE;
	if (!job_state_finished(j.state))
		return conflict(req, &j, "delete");
	if ((rc = store_delete(srv->store, id)) < 0) {
		job_clear(&j);
		return reply_errno(req, rc);
	}
	change_add(c, id, j.state, -1, j.queue);
	p = pending_add(c, P_DELETE, req, id);
	p->attempts = j.attempts;
	job_clear(&j);
	core_dirty(srv);
	return API_PENDING;
}

/* ---- worker reports ---------------------------------------------------- */

void
core_worker_ready(struct server *srv)
{
	core_dirty(srv);
}

/* Decides the outcome of an attempt from the worker's report. */
static enum job_state
exit_outcome(const struct job_exit *ex, char *error, size_t n)
{
	const char *r = ex->reason;

	error[0] = '\0';
	if (r && strcmp(r, "canceled") == 0) {
		snprintf(error, n, "canceled");
		return JOB_CANCELED;
	}
	if (r && strcmp(r, "timeout") == 0) {
		snprintf(error, n, "timeout after %gs", ex->timeout_ms / 1000.0);
		return JOB_FAILED;
	}
	if (r) {
		snprintf(error, n, "%s", ex->error ? ex->error : r);
		return JOB_FAILED;
	}
	if (ex->signal > 0) {
		snprintf(error, n, "killed by signal %d", ex->signal);
		return JOB_FAILED;
	}
	if (ex->exit_code != 0) {
		snprintf(error, n, "exit status %d", ex->exit_code);
		return JOB_FAILED;
	}
	return JOB_SUCCEEDED;
}

/* Keeps a copy of a report that must outlive the caller's buffers. */
static void
exit_keep(struct pending *p, uint64_t id, const struct job_exit *ex,
    const char *queue, int lost)
{
	p->id = id;
	p->ex = *ex;
	p->lost = lost;
	snprintf(p->queue, sizeof(p->queue), "%s", queue ? queue : "");
	snprintf(p->reason, sizeof(p->reason), "%s", ex->reason ? ex->reason : "");
	snprintf(p->error, sizeof(p->error), "%s", ex->error ? ex->error : "");
	p->ex.reason = ex->reason ? p->reason : NULL;
	p->ex.error = ex->error ? p->error : NULL;
	p->ex.queue = p->queue;
}

static void
exit_apply(struct server *srv, uint64_t id, const struct job_exit *ex,
    const char *queue)
{
	struct core		*c = srv->core;
	struct job_result	 r;
	struct change		*ch;
	char			 error[256];
	int			 rc;

	memset(&r, 0, sizeof(r));
	if (ex->reason && strcmp(ex->reason, "shutdown") == 0) {
		/* Ended by our shutdown, not by its own doing: the attempt
		 * does not count. */
		rc = store_requeue(srv->store, id, JOB_RUNNING, 1);
		r.state = JOB_QUEUED;
		runq_mark(srv, queue);
	} else {
		r.id = id;
		r.state = exit_outcome(ex, error, sizeof(error));
		r.exit_code = ex->exit_code;
		r.signal = ex->signal;
		r.error = error[0] ? error : NULL;
		r.started_at = ex->started_at;
		r.finished_at = ex->finished_at;
		r.stdout_bytes = ex->stdout_bytes;
		r.stderr_bytes = ex->stderr_bytes;
		r.cpu_ms = ex->cpu_ms;
		r.max_rss_kb = ex->max_rss_kb;
		rc = store_finish(srv->store, &r);
	}
	if (rc == -EBUSY || rc == -ENOENT) {
		log_warnx("core: job=%llu ended but is not running",
		    (unsigned long long)id);
		return;
	}
	/* Kept until the commit: a failed commit applies it again. */
	exit_keep(pending_add(c, P_EXIT, NULL, id), id, ex, queue, 0);
	if (rc == 0) {
		ch = change_add(c, id, JOB_RUNNING, r.state, queue);
		ch->started_at = ex->started_at;
		ch->finished_at = ex->finished_at;
		change_event(srv, ch, NULL);
	}
	core_dirty(srv);
}

void
core_job_exited(struct server *srv, uint64_t id, const struct job_exit *ex)
{
	exit_apply(srv, id, ex, ex->queue);
}

void
core_job_lost(struct server *srv, uint64_t id, const char *queue,
    int64_t stdout_bytes, int64_t stderr_bytes, int64_t started_at)
{
	struct job_exit ex = {
		.exit_code = -1, .signal = -1, .cpu_ms = -1, .max_rss_kb = -1,
		.finished_at = clock_now_ms(), .reason = "worker lost",
		.error = "worker lost", .stdout_bytes = stdout_bytes,
		.stderr_bytes = stderr_bytes, .started_at = started_at,
		.queue = queue,
	};

	log_warnx("core: job=%llu failed: worker lost", (unsigned long long)id);
	exit_apply(srv, id, &ex, queue);
}

/* ---- end of turn ------------------------------------------------------- */

/*
 * Claims runnable jobs for idle workers, inside the turn's transaction,
 * and sends their RUN at once: the worker starts the job while the
 * commit is written.  Should runneld die before the commit is on disk,
 * the worker kills the job (its socket closes) and the job, still queued
 * in the store, runs again after a restart.
 */
static void
dispatch(struct server *srv)
{
	struct core	*c = srv->core;
	struct turn	*t = &c->turn;
	int64_t		 now = clock_now_ms();
	const char	*queue;
	struct change	*ch;
	struct job	 job;
	uint64_t	 id;
	int		 w, rc;

	while (!srv->draining && c->runnable &&
	    (w = pool_idle(srv->pool)) >= 0) {
		if ((rc = runq_pick(srv, &id, &queue)) <= 0) {
			if (rc == 0)
				c->runnable = 0;
			break;
		}
		if (grow((void **)&t->runs, &t->capruns, t->nruns,
		    sizeof(*t->runs)) < 0)
			break;
		rc = store_claim(srv->store, id, w, now, &job);
		runq_taken(srv, queue);
		if (rc < 0)
			break;
		if (rc == 0)
			continue;	/* canceled meanwhile: pick again */
		ch = change_add(c, job.id, JOB_QUEUED, JOB_RUNNING, job.queue);
		ch->started_at = job.started_at;
		job.worker = w;
		change_event(srv, ch, &job);
		t->runs[t->nruns].worker = w;
		t->runs[t->nruns++].id = job.id;
		if (pool_run(srv->pool, w, &job) < 0)
			core_job_lost(srv, job.id, job.queue, 0, 0, job.started_at);
		job_clear(&job);
	}
}

static void
reply_submitted(struct server *srv, struct pending *p)
{
	struct request	*req = p->req;
	struct jw	 w;
	char		 loc[64];

	jw_init(&w);
	if (!p->batch) {
		snprintf(loc, sizeof(loc), "/api/v1/jobs/%llu",
		    (unsigned long long)p->jobs[0].id);
		response_header(&req->resp, "Location", loc);
		job_json(&w, &p->jobs[0]);
		reply_jw(req, 201, &w);
		return;
	}
	jw_lit(&w, "{\"jobs\":[");
	for (size_t i = 0; i < p->njobs; i++) {
		if (i)
			jw_lit(&w, ",");
		job_json(&w, &p->jobs[i]);
	}
	jw_lit(&w, "]}");
	reply_jw(req, 201, &w);
}

static void
redo_later(struct core *c, const struct pending *p)
{
	struct pending *r;

	if (grow((void **)&c->redo, &c->capredo, c->nredo, sizeof(*r)) < 0)
		fatalx("core: out of memory");
	r = &c->redo[c->nredo++];
	*r = *p;
	r->ex.reason = p->ex.reason ? r->reason : NULL;
	r->ex.error = p->ex.error ? r->error : NULL;
	r->ex.queue = r->queue;
	if (!uv_is_active((uv_handle_t *)&c->redo_timer))
		uv_timer_start(&c->redo_timer, on_redo, REDO_DELAY_MS, 0);
}

static void
pending_done(struct server *srv, struct pending *p, int rc)
{
	struct request *req = p->req;

	switch (p->kind) {
	case P_SUBMIT:
		if (rc == 0)
			reply_submitted(srv, p);
		else
			reply_errno(req, rc);
		/* Rolled back: the job is gone, so is its file. */
		if (rc < 0 && p->upload)
			files_remove(srv, p->jobs[0].id);
		spec_free_jobs(p->jobs, p->njobs);
		break;
	case P_REPLY:
		if (req == NULL)
			return;
		if (rc == 0)
			core_reply_job(srv, req, 200, p->id);
		else
			reply_errno(req, rc);
		break;
	case P_DELETE:
		if (rc == 0) {
			output_remove(srv->output_dir, p->id, p->attempts);
			files_remove(srv, p->id);
			response_body(&req->resp, 204, NULL, NULL, 0);
		} else {
			reply_errno(req, rc);
		}
		break;
	case P_EXIT:
		if (rc < 0)
			redo_later(srv->core, p);
		return;
	}
	request_done(req);
}

static void
publish(struct server *srv, const struct change *ch)
{
	tally_move(srv->tally, ch->queue, ch->from, ch->to);
	if (ch->to >= 0 && job_state_finished(ch->to) && ch->finished_at)
		tally_finish(srv->tally, ch->finished_at,
		    ch->finished_at - ch->started_at);
	events_job(srv, ch->id, ch->to, ch->event);
}

static void
turn_free(struct turn *t)
{
	for (size_t i = 0; i < t->nchanges; i++)
		free(t->changes[i].event);
	free(t->changes);
	free(t->pending);
	free(t->runs);
	memset(t, 0, sizeof(*t));
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
		if (t->pending[i].req)
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
	dispatch(srv);
	rc = store_commit(srv->store, turn_acknowledges(srv, &c->turn));
	/* Take the turn: what the callbacks below add goes to the next one. */
	t = c->turn;
	memset(&c->turn, 0, sizeof(c->turn));
	if (rc < 0) {
		log_warnx("core: commit failed (%s): %zu changes undone",
		    strerror(-rc), t.nchanges);
		/* Their claims are undone: stop them, they run again later. */
		for (size_t i = 0; i < t.nruns; i++)
			pool_cancel(srv->pool, t.runs[i].id, "shutdown");
		c->runnable = 1;
		runq_reset(srv);
	} else {
		for (size_t i = 0; i < t.nchanges; i++)
			publish(srv, &t.changes[i]);
	}
	for (size_t i = 0; i < t.npending; i++)
		pending_done(srv, &t.pending[i], rc);
	turn_free(&t);
}

static void
on_check(uv_check_t *h)
{
	struct server *srv = h->data;

	if (srv->core->dirty || store_in_txn(srv->store))
		core_flush(srv);
}

static void
on_redo(uv_timer_t *h)
{
	struct server	*srv = h->data;
	struct core	*c = srv->core;
	struct pending	*redo = c->redo;
	size_t		 n = c->nredo;

	c->redo = NULL;
	c->nredo = c->capredo = 0;
	for (size_t i = 0; i < n; i++)
		exit_apply(srv, redo[i].id, &redo[i].ex, redo[i].queue);
	free(redo);
}

/* ---- start-up ---------------------------------------------------------- */

static void
load_count(void *arg, const char *queue, enum job_state st, int64_t n)
{
	struct tally		*t = arg;
	struct queue_tally	*q = tally_queue(t, queue, 1);

	t->by_state[st] += n;
	if (q)
		q->by_state[st] += n;
}

static void
load_queue(void *arg, const char *name, int paused, int concurrency)
{
	struct queue_tally *q = tally_queue(arg, name, 1);

	if (q) {
		q->paused = paused;
		q->concurrency = concurrency;
	}
}

static void
load_minute(void *arg, int64_t finished_at)
{
	tally_minute_add(arg, finished_at);
}

int
core_load(struct server *srv)
{
	int64_t	 since = clock_now_ms() - TALLY_MINUTES * 60000LL;
	int	 rc;

	if ((rc = store_queues(srv->store, load_queue, srv->tally)) < 0 ||
	    (rc = store_count(srv->store, load_count, srv->tally)) < 0 ||
	    (rc = store_finished_since(srv->store, since, load_minute,
	    srv->tally)) < 0)
		return rc;
	runq_reset(srv);
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
}

/* Frees the core once its handles are closed (after the loop ran). */
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
