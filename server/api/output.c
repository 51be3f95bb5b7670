/*
 * GET /api/v1/jobs/{id}/output: a job's stdout or stderr, byte-exact.
 * Without follow, the bytes written so far go out with sendfile; with
 * ?follow=1 a chunked stream sends new bytes as they arrive and ends
 * when the job is finished.
 *
 * In cluster mode a node that has no local file of the attempt (another
 * node ran it) reads the bytes from the database (store/blobs.h) into
 * a buffer, one read at a time, and a follower that has caught up asks
 * again every TAIL_POLL_MS until the job is finished: the node that runs
 * it stores its output at least every 100 ms (store/blobs.h).
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "core/core.h"
#include "core/events.h"
#include "http/reply.h"
#include "server.h"
#include "store/blobs.h"
#include "store/output.h"

#define OCTETS		"application/octet-stream"
#define TAIL_POLL_MS	200
#define TAIL_BUF	(256u << 10)

struct tail {
	struct stream		 stream;	/* first: the stream is the tail */
	struct follower		 f;
	struct server		*srv;
	enum output_stream	 which;
	int			 attempt;	/* 0 until the job has started */
	int			 fd;
	uint64_t		 offset;
	int			 follow;	/* 0: ends where the bytes end */
	/* cluster mode, without a local file: bytes from the database */
	char			*buf;
	size_t			 buf_len;
	uint64_t		 buf_at;	/* offset of buf[0] in the output */
	size_t			 got;
	uint64_t		 asked;		/* offset the read in flight asked for */
	int			 busy;		/* a read is in flight */
	int			 seen_over;	/* one more read after the end */
	int			 eof;
	int			 closed;	/* the response is done */
	int			 timer_open;
	uv_timer_t		 poll;
};

static void	tail_release(struct tail *);

/* Opens the attempt's local file if this node has one. */
static void
local_open(struct tail *t)
{
	char path[4096];

	output_path(t->srv->output_dir, t->f.job_id, t->attempt, t->which, path,
	    sizeof(path));
	t->fd = open(path, O_RDONLY | O_CLOEXEC);
}

/* Opens the attempt's file once the job has one; 1 if the stream is over. */
static int
tail_open(struct tail *t)
{
	struct job	 j;
	char		 path[4096];
	int		 over;

	if (core_job_get(t->srv, t->f.job_id, &j) < 0)
		return 1;	/* deleted */
	/* Unbound: the attempt under way, or the next one if it waits. */
	if (t->attempt == 0)
		t->attempt = j.attempts + (j.state == JOB_QUEUED ||
		    j.state == JOB_SCHEDULED);
	/* Finished, or retried past the attempt we follow. */
	over = job_state_finished(j.state) || j.attempts > t->attempt;
	job_clear(&j);
	if (t->fd < 0 && t->attempt > 0) {
		output_path(t->srv->output_dir, t->f.job_id, t->attempt,
		    t->which, path, sizeof(path));
		t->fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	return over;
}

static void
on_poll(uv_timer_t *h)
{
	struct tail *t = h->data;

	stream_wake(&t->stream);
}

static void
on_remote_read(void *arg, int rc)
{
	struct tail	*t = arg;
	int		 over;

	t->busy = 0;
	if (t->closed) {
		tail_release(t);
		return;
	}
	if (rc == 0 && t->got > 0) {
		t->buf_at = t->asked;
		t->buf_len = t->got;
		t->seen_over = 0;
		stream_wake(&t->stream);
		return;
	}
	if (!t->follow) {
		t->eof = 1;	/* a snapshot: what is stored so far */
		stream_wake(&t->stream);
		return;
	}
	over = tail_open(t) || events_stopping(t->srv);
	if (t->fd >= 0 || (over && !t->seen_over)) {
		/* The job runs here after all; or it is over: whatever was
		 * stored before the end is visible to one more read. */
		t->seen_over = over;
		stream_wake(&t->stream);
		return;
	}
	if (over) {
		t->eof = 1;
		stream_wake(&t->stream);
		return;
	}
	if (!t->timer_open) {
		uv_timer_init(t->srv->loop, &t->poll);
		t->poll.data = t;
		t->timer_open = 1;
	}
	uv_timer_start(&t->poll, on_poll, rc < 0 ? 5 * TAIL_POLL_MS :
	    TAIL_POLL_MS, 0);
}

/* The database's bytes at off: 0 while a read is under way. */
static ssize_t
remote_read(struct tail *t, uint64_t off, char *buf, size_t max)
{
	if (t->buf_len && off >= t->buf_at && off < t->buf_at + t->buf_len) {
		size_t k = (size_t)(t->buf_at + t->buf_len - off);

		k = k < max ? k : max;
		memcpy(buf, t->buf + (off - t->buf_at), k);
		return (ssize_t)k;
	}
	if (t->eof)
		return -1;
	if (t->busy || (t->timer_open && uv_is_active((uv_handle_t *)&t->poll)))
		return 0;
	if (t->buf == NULL && (t->buf = malloc(TAIL_BUF)) == NULL)
		return -1;
	t->asked = off;
	t->got = 0;
	if (blobs_output_read(t->srv, t->f.job_id, t->attempt, (int)t->which,
	    off, t->buf, TAIL_BUF, &t->got, on_remote_read, t) < 0)
		return -1;
	t->busy = 1;
	return 0;
}

static ssize_t
tail_read(struct stream *s, uint64_t pos, char *buf, size_t max)
{
	struct tail	*t = (struct tail *)s;
	ssize_t		 n;
	int		 over;

	if (!t->follow)
		return remote_read(t, t->offset + pos, buf, max);
	if (t->fd < 0 && blobs_shared(t->srv)) {
		/* Not run here (yet): the database has what another node ran. */
		if (t->attempt == 0 && tail_open(t))
			return -1;	/* deleted */
		if (t->fd < 0)
			local_open(t);
		if (t->fd < 0)
			return remote_read(t, t->offset + pos, buf, max);
	}
	if (t->fd >= 0) {
		n = pread(t->fd, buf, max, (off_t)(t->offset + pos));
		if (n > 0)
			return n;
	}
	/* Caught up: is more to come? */
	over = tail_open(t) || events_stopping(t->srv);
	if (t->fd >= 0) {
		n = pread(t->fd, buf, max, (off_t)(t->offset + pos));
		if (n > 0)
			return n;
	}
	return over ? -1 : 0;
}

static void
tail_wake(struct follower *f)
{
	struct tail *t = (struct tail *)((char *)f - offsetof(struct tail, f));

	stream_wake(&t->stream);
}

static void
on_poll_closed(uv_handle_t *h)
{
	struct tail *t = h->data;

	t->timer_open = 0;
	tail_release(t);
}

/* Frees t once nothing refers to it: no read in flight, timer closed. */
static void
tail_release(struct tail *t)
{
	if (t->busy)
		return;
	if (t->timer_open) {
		if (!uv_is_closing((uv_handle_t *)&t->poll))
			uv_close((uv_handle_t *)&t->poll, on_poll_closed);
		return;
	}
	free(t->buf);
	free(t);
}

static void
tail_free(struct stream *s)
{
	struct tail *t = (struct tail *)s;

	if (t->follow)
		events_unfollow(t->srv, &t->f);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->closed = 1;
	tail_release(t);
}

static int
output_follow(struct request *req, uint64_t id, enum output_stream which,
    uint64_t offset, int attempt, int follow)
{
	struct tail *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return reply_errno(req, -ENOMEM);
	t->srv = req->srv;
	t->f.job_id = id;
	t->f.wake = tail_wake;
	t->stream.read = tail_read;
	t->stream.free = tail_free;
	t->which = which;
	t->fd = -1;
	t->offset = offset;
	t->attempt = attempt;
	t->follow = follow;
	if (follow)
		events_follow(req->srv, &t->f);
	response_stream(&req->resp, OCTETS, &t->stream);
	return API_DONE;
}

static int
output_snapshot(struct request *req, const struct job *j,
    enum output_stream which, uint64_t offset, int attempt)
{
	struct stat	 st;
	char		 path[4096];
	int		 fd = -1;

	req->resp.status = 200;
	req->resp.content_type = OCTETS;
	if (attempt == 0)
		return API_DONE;
	output_path(req->srv->output_dir, j->id, attempt, which, path,
	    sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		/* Another node ran it: what it stored in the database. */
		if (errno == ENOENT && blobs_shared(req->srv))
			return output_follow(req, j->id, which, offset, attempt, 0);
		if (errno == ENOENT)
			return API_DONE;	/* no output (yet) */
		return reply_errno(req, -EIO);
	}
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size <= offset) {
		close(fd);
		return API_DONE;
	}
	req->resp.fd = fd;
	req->resp.fd_offset = offset;
	req->resp.fd_len = (uint64_t)st.st_size - offset;
	return API_DONE;
}

static int
flag(struct request *req, const char *key, int *out)
{
	const char *v = request_query(req, key);

	*out = 0;
	if (v == NULL || strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		return 0;
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || *v == '\0') {
		*out = 1;
		return 0;
	}
	reply_fail(req, 400, "invalid_field", key, "%s must be 1 or 0", key);
	return -1;
}

int
api_output_get(struct request *req)
{
	const char		*sv = request_query(req, "stream");
	enum output_stream	 which = OUTPUT_STDOUT;
	struct job		 j;
	uint64_t		 id;
	int64_t			 offset, attempt;
	int			 follow, rc;

	if (api_path_id(req, &id) < 0 ||
	    api_query_int(req, "offset", 0, INT64_MAX, 0, &offset) < 0 ||
	    api_query_int(req, "attempt", 1, 100000, 0, &attempt) < 0 ||
	    flag(req, "follow", &follow) < 0)
		return API_DONE;
	if (sv && strcmp(sv, "stderr") == 0)
		which = OUTPUT_STDERR;
	else if (sv && strcmp(sv, "stdout") != 0)
		return reply_fail(req, 400, "invalid_field", "stream",
		    "stream must be stdout or stderr");
	if ((rc = core_job_get(req->srv, id, &j)) < 0)
		return reply_errno(req, rc);
	if (attempt > j.attempts && !(follow && attempt == j.attempts + 1)) {
		rc = reply_fail(req, 404, "not_found", "attempt", "job %llu has "
		    "made %d attempt(s)", (unsigned long long)id, j.attempts);
	} else if (follow && (!job_state_finished(j.state) ||
	    (attempt && attempt < j.attempts))) {
		/* An earlier attempt is over: its file ends the stream. */
		rc = output_follow(req, id, which, (uint64_t)offset, (int)attempt,
		    1);
	} else {
		rc = output_snapshot(req, &j, which, (uint64_t)offset,
		    attempt ? (int)attempt : j.attempts);
	}
	job_clear(&j);
	return rc;
}
