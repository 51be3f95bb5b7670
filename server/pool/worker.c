/*
 * One worker of the pool: its process and the socket to it (fd 3 in the
 * worker), the frames it sends and those sent to it, its death and its
 * respawn.  A worker is gone when both its process exited and its socket
 * reached end-of-file, so that an EXIT frame sent just before dying is
 * still read; only then is a job it held declared lost and the slot
 * respawned (with back-off if workers die young).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "pool/pool_int.h"
#include "server.h"
#include "store/blobs.h"

#define RESPAWN_MIN_MS		100
#define RESPAWN_MAX_MS		10000
#define YOUNG_MS		1000
#define READ_CHUNK		(64u * 1024u + FRAME_HEADER_SIZE)

struct wreq {
	uv_write_t	 req;
	char		 body[];
};

static struct server *
srv_of(struct worker *w)
{
	return w->pool->srv;
}

static void
on_written(uv_write_t *req, int status)
{
	if (status < 0 && status != UV_ECANCELED && status != UV_EPIPE)
		log_warnx("pool: write to worker: %s", uv_strerror(status));
	free(req);
}

int
worker_send(struct worker *w, uint64_t job_id, const struct msg_body *b)
{
	struct wreq	*wr;
	uint8_t		 hdr[FRAME_HEADER_SIZE];
	uv_buf_t	 bufs[2];
	const void	*body = b->data;
	size_t		 len = b->length, total = FRAME_HEADER_SIZE + len, done;
	int		 rc;

	if (w->eof || w->exited || len > FRAME_MAX_BODY)
		return -EPIPE;
	frame_header_encode(hdr, b->type, b->flags, job_id, (uint32_t)len);
	bufs[0] = uv_buf_init((char *)hdr, FRAME_HEADER_SIZE);
	bufs[1] = uv_buf_init((char *)(uintptr_t)body, (unsigned)len);
	/* Most frames go out at once, without a trip through epoll. */
	rc = uv_try_write((uv_stream_t *)&w->pipe, bufs, len ? 2 : 1);
	if (rc == (int)total)
		return 0;
	if (rc < 0 && rc != UV_EAGAIN)
		return -EPIPE;
	done = rc > 0 ? (size_t)rc : 0;
	/* The rest waits in a request of its own. */
	if ((wr = malloc(sizeof(*wr) + total - done)) == NULL)
		return -ENOMEM;
	if (done < FRAME_HEADER_SIZE) {
		memcpy(wr->body, hdr + done, FRAME_HEADER_SIZE - done);
		memcpy(wr->body + FRAME_HEADER_SIZE - done, body, len);
	} else {
		memcpy(wr->body, (const char *)body + done - FRAME_HEADER_SIZE,
		    total - done);
	}
	bufs[0] = uv_buf_init(wr->body, (unsigned)(total - done));
	if (uv_write(&wr->req, (uv_stream_t *)&w->pipe, bufs, 1,
	    on_written) < 0) {
		free(wr);
		return -EPIPE;
	}
	return 0;
}

static void
worker_kill(struct worker *w, const char *why)
{
	log_warnx("pool: worker=%d pid=%d: %s: killing it", w->id, w->pid, why);
	if (!w->exited && w->pid > 0)
		kill(w->pid, SIGKILL);
}

/* ---- frames from the worker -------------------------------------------- */

static int
protocol(const char **why, const char *what)
{
	*why = what;
	return -EPROTO;
}

static int
on_hello(struct worker *w, const struct frame *f, const char **why)
{
	struct msg_hello	 m;
	int			 rc;

	if (w->hello)
		return protocol(why, "a second HELLO");
	if ((rc = msg_hello_decode(f, &m, why)) < 0)
		return rc;
	if (m.version != FRAME_VERSION) {
		log_error("pool: worker=%d speaks protocol %d, runneld %d: "
		    "install matching runneld and runnel-worker binaries",
		    w->id, m.version, FRAME_VERSION);
		return protocol(why, "another protocol version");
	}
	w->hello = 1;
	return 0;
}

static int
on_ready(struct worker *w, const struct frame *f, const char **why)
{
	int	 rc;

	if (w->state != W_STARTING)
		return protocol(why, "READY only once, after HELLO");
	if ((rc = msg_ready_decode(f, why)) < 0)
		return rc;
	w->state = W_IDLE;
	w->backoff_ms = 0;
	w->pool->cb->ready(w->pool->arg);
	return 0;
}

/* A frame about the job the worker runs, and only then. */
static int
running(const struct worker *w, const struct frame *f, const char **why)
{
	if (w->state != W_BUSY || w->job_id == 0 || f->job_id != w->job_id)
		return protocol(why, "not about the job it runs");
	return 0;
}

static int
on_started(struct worker *w, const struct frame *f, const char **why)
{
	struct msg_started	 m;
	int			 rc;

	if ((rc = running(w, f, why)) < 0 ||
	    (rc = msg_started_decode(f, &m, why)) < 0)
		return rc;
	w->job_pid = m.pid;
	/* The process's own start, not the claim's: what users measure.
	 * The worker reads the host's clock; stored times follow ours. */
	w->job_started_at = clock_from_host_ms(m.started_at);
	return 0;
}

static int
on_output(struct worker *w, const struct frame *f, const char **why)
{
	struct pool		*p = w->pool;
	struct msg_output	 m;
	enum output_stream	 which;
	int			 rc;

	if ((rc = running(w, f, why)) < 0 ||
	    (rc = msg_output_decode(f, &m, why)) < 0)
		return rc;
	which = m.stream == FRAME_STDOUT ? OUTPUT_STDOUT : OUTPUT_STDERR;
	/* Once a byte is lost, the rest would only be a gap further on. */
	if (w->out.error == 0) {
		rc = p->cb->storage_full(p->arg) ? -ENOSPC :
		    output_append(p->srv->output_dir, &w->out, which, m.data,
		    m.length);
		if (rc < 0) {
			w->out.error = -rc;
			log_warnx("pool: job=%llu: its output is not stored from "
			    "byte %lld of %s on: %s", (unsigned long long)w->job_id,
			    (long long)w->out.bytes[which],
			    which == OUTPUT_STDOUT ? "stdout" : "stderr",
			    strerror(-rc));
			p->cb->storage_error(p->arg, "output", -rc);
		} else {
			blobs_output_wrote(p->srv, &w->out);
		}
	}
	p->cb->output(p->arg, w->job_id);
	return 0;
}

/* An attempt's end, kept until its output is in the database. */
struct exit_wait {
	struct pool	*pool;
	uint64_t	 id;
	struct job_exit	 ex;
	char		 error[MSG_ERROR_MAX + 1];
	char		 queue[JOB_QUEUE_MAX + 1];
};

static void
exit_report(void *arg, int rc)
{
	struct exit_wait	*e = arg;
	struct pool		*p = e->pool;
	char			 lost[96];

	/* As with a full disk: output that not every node can read makes
	 * the job fail, never look clean. */
	if (rc < 0 && e->ex.reason == NULL) {
		snprintf(lost, sizeof(lost), "output not stored: the database "
		    "is unavailable");
		e->ex.reason = "output";
		e->ex.error = lost;
	}
	p->draining--;
	p->cb->exited(p->arg, e->id, &e->ex);
	p->cb->ready(p->arg);
	free(e);
}

/* A lost attempt's output goes on to the database as far as it can. */
static void
lost_drained(void *arg, int rc)
{
	(void)arg;
	(void)rc;
}

static int
on_exit_frame(struct worker *w, const struct frame *f, const char **why)
{
	struct msg_exit	 m;
	struct job_exit	 ex;
	uint64_t	 id = w->job_id;
	char		 lost[96];
	int		 rc;

	if ((rc = running(w, f, why)) < 0 ||
	    (rc = msg_exit_decode(f, &m, why)) < 0)
		return rc;
	memset(&ex, 0, sizeof(ex));
	ex.exit_code = m.exit_code;
	ex.signal = m.signal;
	ex.cpu_ms = m.cpu_ms;
	ex.max_rss_kb = m.max_rss_kb;
	ex.finished_at = clock_from_host_ms(m.finished_at);
	ex.reason = m.reason;
	ex.error = m.error[0] ? m.error : NULL;
	/* Output it could not keep makes a job fail, never look clean. */
	if (w->out.error && ex.reason == NULL) {
		output_error(w->out.error, lost, sizeof(lost));
		ex.reason = "output";
		ex.error = lost;
	}
	output_close(&w->out);
	ex.stdout_bytes = w->out.bytes[OUTPUT_STDOUT];
	ex.stderr_bytes = w->out.bytes[OUTPUT_STDERR];
	ex.timeout_ms = w->timeout_ms;
	ex.started_at = w->job_started_at;
	ex.queue = w->queue;
	ex.attempts = w->attempts;
	ex.max_attempts = w->max_attempts;
	w->job_id = 0;
	w->job_pid = 0;
	w->jobs_done++;
	/* EXIT also says the worker is ready for its next RUN. */
	w->state = W_IDLE;
	if (w->out.shared == NULL) {
		w->pool->cb->exited(w->pool->arg, id, &ex);
		w->pool->cb->ready(w->pool->arg);
		return 0;
	}
	/* Cluster mode: reported once the output is where every node reads
	 * it, so that whoever sees the job finished finds all of it. */
	{
		struct exit_wait *e = calloc(1, sizeof(*e));

		if (e == NULL) {
			blobs_output_drain(w->pool->srv, &w->out, lost_drained,
			    NULL);
			w->pool->cb->exited(w->pool->arg, id, &ex);
			w->pool->cb->ready(w->pool->arg);
			return 0;
		}
		e->pool = w->pool;
		e->id = id;
		e->ex = ex;
		if (ex.error) {
			snprintf(e->error, sizeof(e->error), "%s", ex.error);
			e->ex.error = e->error;
		}
		snprintf(e->queue, sizeof(e->queue), "%s", ex.queue);
		e->ex.queue = e->queue;
		w->pool->draining++;
		blobs_output_drain(w->pool->srv, &w->out, exit_report, e);
	}
	return 0;
}

/* What a worker may send; the rest is runneld's to send. */
static int (*const on_frame_type[FRAME_TYPE_MAX + 1])(struct worker *,
    const struct frame *, const char **) = {
	[FRAME_HELLO] = on_hello,
	[FRAME_READY] = on_ready,
	[FRAME_STARTED] = on_started,
	[FRAME_OUTPUT] = on_output,
	[FRAME_EXIT] = on_exit_frame,
};

/* Handles one frame; < 0 means the worker broke the protocol (*why). */
static int
on_frame(struct worker *w, const struct frame *f, const char **why)
{
	if (f->type > FRAME_TYPE_MAX || on_frame_type[f->type] == NULL)
		return protocol(why, "not a frame a worker sends");
	if (!w->hello && f->type != FRAME_HELLO)
		return protocol(why, "before HELLO");
	return on_frame_type[f->type](w, f, why);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct worker	*w = h->data;
	uint8_t		*p;
	size_t		 n;

	(void)suggested;
	if (frame_reader_space(&w->reader, READ_CHUNK, &p, &n) < 0) {
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	*buf = uv_buf_init((char *)p, (unsigned)n);
}

static void	worker_gone(struct worker *);

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct worker	*w = s->data;
	struct frame	 f;
	const char	*why = NULL;
	char		 what[160];
	int		 rc;

	(void)buf;
	if (nread == UV_ENOBUFS) {
		worker_kill(w, "frame buffer exhausted");
		return;
	}
	if (nread < 0) {
		uv_read_stop(s);
		w->eof = 1;
		/* Stopping, a worker closes its socket as it exits. */
		if (!w->exited && !w->pool->stopping)
			worker_kill(w, "socket closed");
		worker_gone(w);
		return;
	}
	frame_reader_commit(&w->reader, (size_t)nread);
	while ((rc = frame_reader_next(&w->reader, &f)) == 1) {
		if ((rc = on_frame(w, &f, &why)) < 0)
			break;
	}
	if (rc < 0) {
		/* Nothing more is read from it: its socket is done with. */
		uv_read_stop(s);
		w->eof = 1;
		if (why != NULL)
			snprintf(what, sizeof(what), "protocol error: %s job=%llu: "
			    "%s", frame_type_name(f.type),
			    (unsigned long long)f.job_id, why);
		else
			snprintf(what, sizeof(what), "protocol error: a bad "
			    "frame header");
		worker_kill(w, what);
		worker_gone(w);
	}
}

/* ---- life and death ---------------------------------------------------- */

static void
on_respawn(uv_timer_t *t)
{
	struct worker *w = t->data;

	if (!w->pool->stopping && w->state == W_DOWN)
		worker_spawn(w);
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct worker	*w = h->data;
	int64_t		 lived, delay;

	w->pipe_open = 0;
	w->state = W_DOWN;
	frame_reader_close(&w->reader);
	if (w->pool->stopping)
		return;
	/* Young deaths back off so a broken binary does not spin. */
	lived = clock_mono_ms() - w->spawned_mono;
	if (lived < YOUNG_MS) {
		w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : RESPAWN_MIN_MS;
		if (w->backoff_ms > RESPAWN_MAX_MS)
			w->backoff_ms = RESPAWN_MAX_MS;
		delay = w->backoff_ms;
	} else {
		w->backoff_ms = 0;
		delay = 0;
	}
	w->pool->restarts++;
	uv_timer_start(&w->respawn, on_respawn, (uint64_t)delay, 0);
}

/* Both the process and its socket are finished: settle the slot. */
static void
worker_gone(struct worker *w)
{
	uint64_t id = w->job_id;

	if (!w->exited || !w->eof)
		return;
	if (id) {
		struct job_exit ex = {
			.exit_code = -1, .signal = -1, .cpu_ms = -1,
			.max_rss_kb = -1, .queue = w->queue,
			.attempts = w->attempts, .max_attempts = w->max_attempts,
			.started_at = w->job_started_at,
		};

		output_close(&w->out);
		blobs_output_drain(w->pool->srv, &w->out, lost_drained, NULL);
		w->fetching = 0;
		w->job_id = 0;
		ex.stdout_bytes = w->out.bytes[OUTPUT_STDOUT];
		ex.stderr_bytes = w->out.bytes[OUTPUT_STDERR];
		w->pool->cb->lost(w->pool->arg, id, &ex);
	}
	if (w->pipe_open && !uv_is_closing((uv_handle_t *)&w->pipe))
		uv_close((uv_handle_t *)&w->pipe, on_handle_closed);
	else if (!w->pipe_open)
		on_handle_closed((uv_handle_t *)&w->pipe);
}

void
worker_reaped(struct worker *w, int status)
{
	w->exited = 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) || !w->pool->stopping)
		log_info("pool: worker=%d pid=%d exited status=%d signal=%d",
		    w->id, w->pid, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	/*
	 * Its job, if any, is our child now (we are the subreaper): end its
	 * process group.  Unless we reaped the leader already, its number
	 * cannot have been reused.
	 */
	if (w->job_id && w->job_pid > 0 &&
	    !child_reaped_lately(&w->pool->reaper, w->job_pid))
		kill(-w->job_pid, SIGKILL);
	worker_gone(w);
}

int
worker_spawn(struct worker *w)
{
	struct server		*srv = srv_of(w);
	static const char	*levels[] = {"debug", "info", "warn", "error"};
	char			 id[16];
	char			*args[8];
	pid_t			 pid;
	int			 fd, rc;

	snprintf(id, sizeof(id), "%d", w->id);
	args[0] = w->pool->path;
	args[1] = "--id";
	args[2] = id;
	args[3] = "--scratch";
	args[4] = srv->scratch_dir;
	args[5] = "--log-level";
	args[6] = (char *)levels[srv->cfg->log_level];
	args[7] = NULL;
	w->exited = w->eof = w->hello = 0;
	w->pid = 0;
	w->job_id = 0;
	w->spawned_mono = clock_mono_ms();
	w->started_at = clock_now_ms();
	w->state = W_STARTING;
	frame_reader_init(&w->reader);
	if ((rc = child_spawn(w->pool->path, args, w->pool->env, &pid, &fd)) < 0) {
		log_warnx("pool: spawn %s: %s", w->pool->path, strerror(-rc));
		w->exited = w->eof = 1;
		worker_gone(w);
		return -EIO;
	}
	w->pid = pid;
	uv_pipe_init(srv->loop, &w->pipe, 0);
	w->pipe.data = w;
	w->pipe_open = 1;
	if ((rc = uv_pipe_open(&w->pipe, fd)) < 0) {
		/* Its death, reaped later, settles the slot. */
		close(fd);
		w->eof = 1;
		worker_kill(w, "cannot watch its socket");
		return -EIO;
	}
	uv_read_start((uv_stream_t *)&w->pipe, on_alloc, on_read);
	log_debug("pool: worker=%d pid=%d started", w->id, w->pid);
	return 0;
}
