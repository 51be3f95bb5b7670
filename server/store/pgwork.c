/*
 * The loop's half of output and files in PostgreSQL (store/pgwork.h):
 * each call becomes an op run by a thread of libuv's pool with
 * store/pgio.c's blocking functions; its callback comes back on the
 * loop.  An attempt's output copy (struct pgwork_out) lives from
 * pgwork_output_open until its drain is over, also past its worker.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "clock.h"
#include "log.h"
#include "server.h"
#include "store/output.h"
#include "store/pgio.h"
#include "store/pgwork.h"

#define COPY_MAX		(4u << 20)	/* bytes one flush op moves */
#define COLLECT_EVERY_MS	60000
#define RETRY_FIRST_MS		100
#define RETRY_MAX_MS		5000

struct pgwork {
	struct server	*srv;
	struct pgio	*io;
	uv_timer_t	 collect;
	int		 collecting;
	int		 collect_again;
	int		 stopped;
	/* Ops whose run has not ended: a thread may still use io.  Counted
	 * here, not by the loop, since the loop may be stopped first. */
	uv_mutex_t	 lock;
	uv_cond_t	 idle;
	int		 running;
};

/* The copy of one attempt's output to job_output. */
struct pgwork_out {
	struct pgwork	*pw;
	uint64_t	 job_id;
	int		 attempt;
	int64_t		 bytes[2];	/* what the local files hold */
	int64_t		 stored[2];	/* what job_output holds */
	int		 busy;		/* a flush op runs */
	uv_timer_t	 timer;
	int		 draining;
	pgwork_cb	 done;
	void		*arg;
	int64_t		 failing_since;	/* ms; 0 while all is well */
	int		 retry_ms;
	int		 error;		/* errno that stopped the copy; 0 */
	int		 over;		/* done was called: free once closed */
};

struct op {
	uv_work_t		 req;
	struct pgwork		*pw;
	int			(*run)(struct op *);
	void			(*after)(struct op *);
	pgwork_cb		 cb;
	void			*arg;
	int			 rc;
	uint64_t		 job_id;
	int			 attempt;
	int			 stream;
	uint64_t		 off;
	void			*buf;
	size_t			 max;
	size_t			*n;
	uint64_t		 size;
	int64_t			*pin;
	int64_t			 pin_id;
	char			 sha[72];
	char			 path[PATH_MAX + 300];
	struct pgwork_out	*out;
};

int
pgwork_on(const struct server *srv)
{
	return srv->pgwork != NULL;
}

/* ---- ops ------------------------------------------------------------- */

static void
op_work(uv_work_t *req)
{
	struct op	*op = req->data;
	struct pgwork	*pw = op->pw;

	op->rc = op->run(op);
	uv_mutex_lock(&pw->lock);
	if (--pw->running == 0)
		uv_cond_signal(&pw->idle);
	uv_mutex_unlock(&pw->lock);
}

static void
op_after_work(uv_work_t *req, int status)
{
	struct op *op = req->data;

	if (status == UV_ECANCELED)
		op->rc = -ECANCELED;
	if (op->after)
		op->after(op);
	else if (op->cb)
		op->cb(op->arg, op->rc);
	free(op);
}

static struct op *
op_new(struct server *srv, int (*run)(struct op *), pgwork_cb cb, void *arg)
{
	struct op *op;

	if (srv->pgwork == NULL || (op = calloc(1, sizeof(*op))) == NULL)
		return NULL;
	op->pw = srv->pgwork;
	op->run = run;
	op->cb = cb;
	op->arg = arg;
	op->req.data = op;
	return op;
}

static int
op_queue(struct op *op)
{
	struct pgwork	*pw = op->pw;
	int		 rc;

	uv_mutex_lock(&pw->lock);
	pw->running++;
	uv_mutex_unlock(&pw->lock);
	if ((rc = uv_queue_work(pw->srv->loop, &op->req, op_work,
	    op_after_work)) < 0) {
		uv_mutex_lock(&pw->lock);
		pw->running--;
		uv_mutex_unlock(&pw->lock);
		free(op);
		return -EIO;
	}
	return 0;
}

/* ---- the collector of blobs no job carries ---------------------------- */

static int
run_collect(struct op *op)
{
	int gone = pg_files_collect(op->pw->io);

	if (gone > 0)
		log_info("pgwork: removed %d file(s) from the database that no "
		    "job carries", gone);
	return gone < 0 ? gone : 0;
}

static void collect_start(struct pgwork *);

static void
after_collect(struct op *op)
{
	struct pgwork *pw = op->pw;

	pw->collecting = 0;
	if (pw->collect_again && !pw->stopped) {
		pw->collect_again = 0;
		collect_start(pw);
	}
}

static void
collect_start(struct pgwork *pw)
{
	struct op *op;

	if (pw->collecting) {
		pw->collect_again = 1;
		return;
	}
	if ((op = op_new(pw->srv, run_collect, NULL, NULL)) == NULL)
		return;
	op->after = after_collect;
	pw->collecting = 1;
	if (op_queue(op) < 0)
		pw->collecting = 0;
}

static void
on_collect_timer(uv_timer_t *t)
{
	collect_start(t->data);
}

void
pgwork_collect(struct server *srv)
{
	if (srv->pgwork && !srv->pgwork->stopped)
		collect_start(srv->pgwork);
}

/* ---- start and stop ---------------------------------------------------- */

int
pgwork_start(struct server *srv, const char *conninfo)
{
	struct pgwork *pw = calloc(1, sizeof(*pw));

	/* As many connections as libuv's pool has threads (4 unless
	 * UV_THREADPOOL_SIZE says otherwise). */
	if (pw == NULL || (pw->io = pgio_new(conninfo, 4)) == NULL) {
		free(pw);
		return -ENOMEM;
	}
	if (uv_mutex_init(&pw->lock) < 0 || uv_cond_init(&pw->idle) < 0) {
		pgio_free(pw->io);
		free(pw);
		return -ENOMEM;
	}
	pw->srv = srv;
	uv_timer_init(srv->loop, &pw->collect);
	pw->collect.data = pw;
	uv_timer_start(&pw->collect, on_collect_timer, COLLECT_EVERY_MS,
	    COLLECT_EVERY_MS);
	uv_unref((uv_handle_t *)&pw->collect);
	srv->pgwork = pw;
	return 0;
}

void
pgwork_stop(struct server *srv)
{
	struct pgwork *pw = srv->pgwork;

	if (pw == NULL || pw->stopped)
		return;
	pw->stopped = 1;
	uv_close((uv_handle_t *)&pw->collect, NULL);
}

void
pgwork_free(struct server *srv)
{
	struct pgwork *pw = srv->pgwork;

	if (pw == NULL)
		return;
	/* A loop stopped with ops in flight (workers that would not go):
	 * their threads use io until their run ends. */
	uv_mutex_lock(&pw->lock);
	while (pw->running > 0)
		uv_cond_wait(&pw->idle, &pw->lock);
	uv_mutex_unlock(&pw->lock);
	uv_cond_destroy(&pw->idle);
	uv_mutex_destroy(&pw->lock);
	pgio_free(pw->io);
	free(pw);
	srv->pgwork = NULL;
}

/* ---- output ------------------------------------------------------------ */

static void	out_kick(struct pgwork_out *);

static int
run_flush(struct op *op)
{
	struct pgwork_out	*o = op->out;
	char			 path[PATH_MAX + 64];
	ssize_t			 got = 0;
	int			 fd, rc;

	output_path(op->path, o->job_id, o->attempt, op->stream, path,
	    sizeof(path));
	if ((op->buf = malloc(op->max)) == NULL)
		return -ENOMEM;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_warn("pgwork: open %s", path);
		return -errno;
	}
	/* Bytes below o->bytes were written before the loop counted them. */
	while ((size_t)got < op->max) {
		ssize_t n = pread(fd, (char *)op->buf + got, op->max -
		    (size_t)got, (off_t)(op->off + (uint64_t)got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	if ((size_t)got != op->max) {
		log_warnx("pgwork: %s is shorter than written", path);
		return -EIO;
	}
	rc = pg_output_put(op->pw->io, o->job_id, o->attempt, op->stream,
	    op->off, op->buf, op->max);
	return rc;
}

static void
out_close_cb(uv_handle_t *h)
{
	free(h->data);
}

static void
after_flush(struct op *op)
{
	struct pgwork_out	*o = op->out;
	int64_t			 now = clock_mono_ms();

	free(op->buf);
	o->busy = 0;
	if (op->rc == 0) {
		o->stored[op->stream] += (int64_t)op->max;
		o->failing_since = 0;
		o->retry_ms = 0;
	} else if (op->rc == -ENOENT) {
		o->error = ENOENT;	/* the job is gone: nothing to keep */
	} else {
		/* The database away is no reason to give up: the attempt's
		 * end cannot be stored before it is back either. */
		if (op->rc == -ENOTCONN)
			o->failing_since = 0;
		else if (o->failing_since == 0)
			o->failing_since = now;
		if (o->failing_since &&
		    now - o->failing_since >= PGWORK_GIVE_UP_MS) {
			log_warnx("pgwork: job=%llu attempt=%d: its output is not "
			    "stored in the database from byte %lld of %s on",
			    (unsigned long long)o->job_id, o->attempt,
			    (long long)o->stored[op->stream],
			    op->stream ? "stderr" : "stdout");
			o->error = op->rc == -ENOMEM ? ENOMEM : EIO;
		} else {
			o->retry_ms = o->retry_ms ? o->retry_ms * 2 :
			    RETRY_FIRST_MS;
			if (o->retry_ms > RETRY_MAX_MS)
				o->retry_ms = RETRY_MAX_MS;
			uv_timer_stop(&o->timer);
		}
	}
	out_kick(o);
}

static void	on_out_timer(uv_timer_t *);

static void
flush_start(struct pgwork_out *o, int stream)
{
	struct op	*op;
	int64_t		 len = o->bytes[stream] - o->stored[stream];

	if ((op = op_new(o->pw->srv, run_flush, NULL, NULL)) == NULL) {
		uv_timer_start(&o->timer, on_out_timer, RETRY_FIRST_MS, 0);
		return;		/* out of memory: try again soon */
	}
	op->after = after_flush;
	op->out = o;
	op->stream = stream;
	op->off = (uint64_t)o->stored[stream];
	op->max = len > COPY_MAX ? COPY_MAX : (size_t)len;
	snprintf(op->path, sizeof(op->path), "%s", o->pw->srv->output_dir);
	if (op_queue(op) == 0)
		o->busy = 1;
	else
		uv_timer_start(&o->timer, on_out_timer, RETRY_FIRST_MS, 0);
}

static void
on_out_timer(uv_timer_t *t)
{
	struct pgwork_out *o = t->data;

	if (o->busy)
		return;
	for (int s = 0; s < 2; s++)
		if (o->error == 0 && o->bytes[s] > o->stored[s]) {
			flush_start(o, s);
			return;
		}
	out_kick(o);
}

/* What to do next: flush now, flush later, or finish the drain. */
static void
out_kick(struct pgwork_out *o)
{
	int64_t pending = 0;

	if (o->busy || o->over)
		return;
	if (o->error == 0)
		pending = (o->bytes[0] - o->stored[0]) +
		    (o->bytes[1] - o->stored[1]);
	if (pending == 0) {
		if (o->draining) {
			o->over = 1;
			uv_timer_stop(&o->timer);
			o->done(o->arg, o->error && o->error != ENOENT ?
			    -o->error : 0);
			uv_close((uv_handle_t *)&o->timer, out_close_cb);
		}
		return;
	}
	if (o->retry_ms) {		/* failing: wait before the next try */
		if (!uv_is_active((uv_handle_t *)&o->timer))
			uv_timer_start(&o->timer, on_out_timer, (uint64_t)o->retry_ms, 0);
		return;
	}
	if (o->draining || pending >= PGWORK_FLUSH_BYTES) {
		uv_timer_stop(&o->timer);
		on_out_timer(&o->timer);
		return;
	}
	if (!uv_is_active((uv_handle_t *)&o->timer))
		uv_timer_start(&o->timer, on_out_timer, PGWORK_FLUSH_MS, 0);
}

void
pgwork_output_open(struct server *srv, struct output *out)
{
	struct pgwork_out *o;

	out->shared = NULL;
	if (srv->pgwork == NULL || (o = calloc(1, sizeof(*o))) == NULL)
		return;
	o->pw = srv->pgwork;
	o->job_id = out->job_id;
	o->attempt = out->attempt;
	uv_timer_init(srv->loop, &o->timer);
	o->timer.data = o;
	out->shared = o;
}

void
pgwork_output_wrote(struct server *srv, struct output *out)
{
	struct pgwork_out *o = out->shared;

	(void)srv;
	if (o == NULL)
		return;
	o->bytes[0] = out->bytes[0];
	o->bytes[1] = out->bytes[1];
	out_kick(o);
}

void
pgwork_output_drain(struct server *srv, struct output *out, pgwork_cb done,
    void *arg)
{
	struct pgwork_out *o = out->shared;

	(void)srv;
	if (o == NULL) {
		done(arg, 0);
		return;
	}
	out->shared = NULL;
	o->bytes[0] = out->bytes[0];
	o->bytes[1] = out->bytes[1];
	o->draining = 1;
	o->done = done;
	o->arg = arg;
	out_kick(o);
}

static int
run_output_read(struct op *op)
{
	return pg_output_read(op->pw->io, op->job_id, op->attempt,
	    op->stream, op->off, op->buf, op->max, op->n);
}

int
pgwork_output_read(struct server *srv, uint64_t job_id, int attempt,
    int stream, uint64_t off, void *buf, size_t max, size_t *n, pgwork_cb cb,
    void *arg)
{
	struct op *op = op_new(srv, run_output_read, cb, arg);

	if (op == NULL)
		return srv->pgwork ? -ENOMEM : -ENOTSUP;
	op->job_id = job_id;
	op->attempt = attempt;
	op->stream = stream;
	op->off = off;
	op->buf = buf;
	op->max = max;
	op->n = n;
	return op_queue(op);
}

/* ---- files ------------------------------------------------------------- */

static int
run_put(struct op *op)
{
	return pg_files_put(op->pw->io, op->path, op->size, op->sha, op->pin);
}

int
pgwork_blob_put(struct server *srv, const char *path, uint64_t size,
    const char *sha, int64_t *pin, pgwork_cb cb, void *arg)
{
	struct op *op = op_new(srv, run_put, cb, arg);

	if (op == NULL)
		return srv->pgwork ? -ENOMEM : -ENOTSUP;
	snprintf(op->path, sizeof(op->path), "%s", path);
	snprintf(op->sha, sizeof(op->sha), "%s", sha);
	op->size = size;
	op->pin = pin;
	return op_queue(op);
}

static int
run_unpin(struct op *op)
{
	return pg_files_unpin(op->pw->io, op->pin_id);
}

void
pgwork_unpin(struct server *srv, int64_t pin)
{
	struct op *op;

	if (pin <= 0 || (op = op_new(srv, run_unpin, NULL, NULL)) == NULL)
		return;		/* a pin left is dropped after an hour */
	op->pin_id = pin;
	op_queue(op);
}

static int
run_fetch(struct op *op)
{
	return pg_files_fetch(op->pw->io, op->sha, op->size, op->path);
}

int
pgwork_blob_fetch(struct server *srv, const char *sha, uint64_t size,
    const char *path, pgwork_cb cb, void *arg)
{
	struct op *op = op_new(srv, run_fetch, cb, arg);

	if (op == NULL)
		return srv->pgwork ? -ENOMEM : -ENOTSUP;
	snprintf(op->path, sizeof(op->path), "%s", path);
	snprintf(op->sha, sizeof(op->sha), "%s", sha);
	op->size = size;
	return op_queue(op);
}

static int
run_blob_read(struct op *op)
{
	return pg_files_read(op->pw->io, op->sha, op->off, op->buf, op->max,
	    op->n);
}

int
pgwork_blob_read(struct server *srv, const char *sha, uint64_t off,
    void *buf, size_t max, size_t *n, pgwork_cb cb, void *arg)
{
	struct op *op = op_new(srv, run_blob_read, cb, arg);

	if (op == NULL)
		return srv->pgwork ? -ENOMEM : -ENOTSUP;
	snprintf(op->sha, sizeof(op->sha), "%s", sha);
	op->off = off;
	op->buf = buf;
	op->max = max;
	op->n = n;
	return op_queue(op);
}
