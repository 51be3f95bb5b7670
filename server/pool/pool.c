/*
 * The worker pool: its slots (worker.c runs each), its start and stop,
 * the reaper of runneld's children, and what the core asks of it:
 * reserve an idle worker, send it a RUN, cancel, tell who runs what.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pool/pool_int.h"
#include "pool/runmsg.h"
#include "server.h"
#include "store/blobs.h"
#include "store/files.h"

/* Worker processes not reaped yet. */
static int
processes(const struct pool *p)
{
	int n = 0;

	for (int i = 0; i < p->n; i++)
		if (p->w[i].pid > 0 && !p->w[i].exited)
			n++;
	return n;
}

/* A child of runneld ended: 1 if it was a worker (then handled), else 0. */
static int
pool_reaped(void *arg, pid_t pid, int status)
{
	struct pool	*p = arg;
	struct worker	*w = NULL;

	for (int i = 0; i < p->n; i++)
		if (p->w[i].pid == pid && !p->w[i].exited)
			w = &p->w[i];
	if (w == NULL)
		return 0;
	worker_reaped(w, status);
	if (p->stopping && processes(p) == 0)
		child_stop(&p->reaper);
	return 1;
}

static void
pool_env(struct pool *p)
{
	/* The last stands, in tests, for the host's clock, which a worker
	 * reads as runneld does. */
	static const char *names[] = {"PATH", "HOME", "LANG", "TMPDIR",
	    "RUNNEL_TEST_CLOCK_OFFSET_MS"};
	static const char *defaults[] = {"/usr/local/bin:/usr/bin:/bin", "/",
	    "C.UTF-8", NULL, NULL};
	int n = 0;

	for (int i = 0; i < 5; i++) {
		const char *v = getenv(names[i]);

		if (v == NULL)
			v = defaults[i];
		if (v && asprintf(&p->env[n], "%s=%s", names[i], v) >= 0)
			n++;
	}
	p->env[n] = NULL;
}

int
pool_start(struct server *srv, const char *worker_path,
    const struct pool_cb *cb, void *arg)
{
	struct pool	*p;
	int		 n = srv->cfg->workers;

	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->w = calloc(n, sizeof(*p->w))) == NULL) {
		free(p);
		return -ENOMEM;
	}
	p->srv = srv;
	p->cb = cb;
	p->arg = arg;
	p->n = n;
	snprintf(p->path, sizeof(p->path), "%s", worker_path);
	pool_env(p);
	srv->pool = p;
	if (child_start(&p->reaper, srv->loop, pool_reaped, p) < 0)
		return -EIO;
	for (int i = 0; i < n; i++) {
		struct worker *w = &p->w[i];

		w->pool = p;
		w->id = i + 1;
		uv_timer_init(srv->loop, &w->respawn);
		w->respawn.data = w;
		if (worker_spawn(w) < 0)
			return -EIO;
	}
	return 0;
}

/* ---- what the core asks ------------------------------------------------ */

int
pool_idle(struct pool *p)
{
	for (int i = 0; i < p->n; i++)
		if (p->w[i].state == W_IDLE)
			return i + 1;
	return -1;
}

static struct worker *
slot(struct pool *p, int worker)
{
	return worker >= 1 && worker <= p->n ? &p->w[worker - 1] : NULL;
}

int
pool_is_idle(struct pool *p, int worker)
{
	struct worker *w = slot(p, worker);

	return w != NULL && w->state == W_IDLE;
}

int
pool_reserve(struct pool *p, int worker, uint64_t job_id)
{
	struct worker *w = slot(p, worker);

	if (w == NULL || w->state != W_IDLE)
		return -EPIPE;
	w->state = W_RESERVED;
	w->job_id = job_id;
	return 0;
}

void
pool_release(struct pool *p, int worker)
{
	struct worker *w = slot(p, worker);

	if (w && w->state == W_RESERVED) {
		w->state = W_IDLE;
		w->job_id = 0;
	}
}

/* The RUN body of job j.  0, or < 0 (logged) when there can be none. */
static int
run_encode(struct pool *p, const struct job *j, struct msg_body *b)
{
	struct runmsg	 rm;
	const char	*why = NULL;
	char		 path[PATH_MAX + 256];
	int		 rc;

	if (j->type == JOB_UPLOAD && j->file_name)
		files_path(p->srv, j->id, j->file_name, path, sizeof(path));
	if ((rc = runmsg_make(&rm, j, p->srv->cfg->kill_grace_ms,
	    j->type == JOB_UPLOAD && j->file_name ? path : NULL)) == 0)
		rc = msg_run_encode(b, &rm.msg, &why);
	runmsg_clear(&rm);
	if (rc < 0)
		log_warnx("pool: job=%llu: no RUN can be made of it: %s%s%s",
		    (unsigned long long)j->id, why ? why : "", why ? ": " : "",
		    strerror(-rc));
	return rc;
}

int
pool_run(struct pool *p, int worker, const struct job *j)
{
	struct worker	*w = slot(p, worker);
	struct msg_body	 b;
	int		 rc;

	if (w == NULL || w->state != W_RESERVED || w->job_id != j->id)
		return -EPIPE;
	if ((rc = run_encode(p, j, &b)) < 0) {
		w->state = W_IDLE;
		w->job_id = 0;
		return rc;
	}
	w->state = W_BUSY;
	w->job_pid = 0;
	w->job_started_at = j->started_at;
	w->timeout_ms = j->timeout_ms;
	w->attempts = j->attempts;
	w->max_attempts = j->max_attempts;
	snprintf(w->queue, sizeof(w->queue), "%s", j->queue);
	output_init(&w->out, j->id, j->attempts);
	blobs_output_open(p->srv, &w->out);
	w->fetching = 0;
	rc = fetch_then_run(w, j, &b) ? 0 : worker_send(w, j->id, &b);
	msg_body_free(&b);
	if (rc < 0) {
		/* The worker is dying: its death reports the job lost. */
		return 0;
	}
	log_debug("pool: job=%llu worker=%d run", (unsigned long long)j->id,
	    w->id);
	return 0;
}

static int
cancel_one(struct worker *w, const char *reason)
{
	struct msg_cancel	 m = {.reason = reason};
	struct msg_body		 b;
	int			 rc;

	if (w->fetching) {		/* sent after the RUN */
		w->fetch_cancel = reason;
		return 0;
	}
	if ((rc = msg_cancel_encode(&b, &m, NULL)) == 0)
		rc = worker_send(w, w->job_id, &b);
	msg_body_free(&b);
	if (rc < 0)
		log_warnx("pool: job=%llu worker=%d: cancel (%s) not sent: %s",
		    (unsigned long long)w->job_id, w->id, reason, strerror(-rc));
	return rc;
}

int
pool_cancel(struct pool *p, uint64_t job_id, const char *reason)
{
	for (int i = 0; i < p->n; i++)
		if (p->w[i].state == W_BUSY && p->w[i].job_id == job_id) {
			/* Not sent (logged): the worker is going, the job ends lost. */
			cancel_one(&p->w[i], reason);
			return 0;
		}
	return -ENOENT;
}

int
pool_cancel_all(struct pool *p, const char *reason)
{
	int n = 0;

	for (int i = 0; i < p->n; i++)
		if (p->w[i].state == W_BUSY && p->w[i].job_id) {
			cancel_one(&p->w[i], reason);
			n++;
		}
	return n;
}

int
pool_job_live(struct pool *p, uint64_t job_id, struct job *j)
{
	for (int i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];

		if (w->job_id != job_id || w->state != W_BUSY)
			continue;
		j->worker = w->id;
		j->pid = w->job_pid;
		j->started_at = w->job_started_at;
		j->stdout_bytes = w->out.bytes[OUTPUT_STDOUT];
		j->stderr_bytes = w->out.bytes[OUTPUT_STDERR];
		return 0;
	}
	return -ENOENT;
}

int
pool_draining(const struct pool *p)
{
	return p->draining;
}

int
pool_busy(const struct pool *p)
{
	int n = 0;

	for (int i = 0; i < p->n; i++)
		if (p->w[i].job_id)
			n++;
	return n + p->draining;
}

int
pool_up(const struct pool *p)
{
	int n = 0;

	for (int i = 0; i < p->n; i++)
		if (p->w[i].hello && !p->w[i].exited)
			n++;
	return n;
}

int
pool_size(const struct pool *p)
{
	return p->n;
}

uint64_t
pool_restarts(const struct pool *p)
{
	return p->restarts;
}

void
pool_each(const struct pool *p, void (*cb)(void *, const struct worker_info *),
    void *arg)
{
	for (int i = 0; i < p->n; i++) {
		const struct worker	*w = &p->w[i];
		struct worker_info	 info;

		info.id = w->id;
		info.pid = w->state == W_DOWN ? 0 : w->pid;
		info.state = w->state == W_IDLE ? "idle" :
		    w->state == W_BUSY || w->state == W_RESERVED ? "busy" :
		    "starting";
		info.job = w->job_id;
		info.attempt = w->job_id ? w->attempts : 0;
		info.started_at = w->started_at;
		info.jobs_done = w->jobs_done;
		cb(arg, &info);
	}
}

static void
on_timer_closed(uv_handle_t *h)
{
	(void)h;
}

void
pool_stop(struct server *srv)
{
	struct pool	*p = srv->pool;
	struct msg_body	 b;

	if (p == NULL || p->stopping)
		return;
	p->stopping = 1;
	for (int i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];

		uv_timer_stop(&w->respawn);
		uv_close((uv_handle_t *)&w->respawn, on_timer_closed);
		if (w->state != W_DOWN && msg_shutdown_encode(&b) == 0)
			worker_send(w, 0, &b);
	}
	if (processes(p) == 0)
		child_stop(&p->reaper);
}

void
pool_kill(struct server *srv)
{
	struct pool *p = srv->pool;

	for (int i = 0; p && i < p->n; i++)
		if (p->w[i].state != W_DOWN && !p->w[i].exited &&
		    p->w[i].pid > 0)
			kill(p->w[i].pid, SIGKILL);
}

void
pool_free(struct server *srv)
{
	struct pool *p = srv->pool;

	if (p == NULL)
		return;
	for (int i = 0; p->env[i]; i++)
		free(p->env[i]);
	free(p->w);
	free(p);
	srv->pool = NULL;
}
