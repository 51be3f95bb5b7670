/*
 * The follow loop: one libcurl multi handle with a transfer per stream
 * (GET .../output?follow=1&attempt=A&offset=N), run until each ends with
 * a whole answer.  A transfer that fails is started again after a pause
 * from the offset it reached; then the job says whether another attempt
 * follows.  Only bytes of a 200 answer reach the descriptors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "follow.h"
#include "submit.h"
#include "term.h"

#define PAUSE_MIN_MS	100
#define PAUSE_MAX_MS	2000

struct tail {
	struct follow	*f;
	int		 which;		/* 0 stdout, 1 stderr */
	int		 fd;
	uint64_t	 offset;	/* bytes of the attempt written */
	uint64_t	 start_offset;	/* offset when the transfer began */
	CURL		*h;
	int		 busy;		/* in the multi handle */
	int		 over;		/* ended with a whole 200 answer */
	int64_t		 retry_at;	/* monotonic ms; 0: none */
	long		 pause_ms;
	int64_t		 down_since;	/* failing since (monotonic ms) */
	int		 write_errno;
	char		 url[512];
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static size_t
on_bytes(char *p, size_t size, size_t n, void *arg)
{
	struct tail	*t = arg;
	size_t		 len = size * n;
	long		 code = 0;
	int		 rc;

	curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		return len;	/* an error's body: the status says it */
	if ((rc = write_all(t->fd, p, len)) < 0) {
		t->write_errno = -rc;
		return 0;
	}
	t->offset += len;
	return len;
}

static int
tail_start(struct tail *t, CURLM *m)
{
	struct follow	*f = t->f;
	char		 path[256];

	char		 attempt[32] = "";

	if (f->attempt > 0)
		snprintf(attempt, sizeof(attempt), "&attempt=%d", f->attempt);
	snprintf(path, sizeof(path), "/api/v1/jobs/%llu/output?offset=%" PRIu64
	    "%s%s%s", f->id, t->offset, attempt, f->once ? "" : "&follow=1",
	    t->which ? "&stream=stderr" : "");
	if (client_url(&f->cli->client, path, t->url, sizeof(t->url)) < 0)
		return EXIT_USAGE;
	if (t->h == NULL && (t->h = curl_easy_init()) == NULL)
		return EXIT_FAIL;
	curl_easy_reset(t->h);
	client_setup(&f->cli->client, t->h);
	curl_easy_setopt(t->h, CURLOPT_URL, t->url);
	curl_easy_setopt(t->h, CURLOPT_WRITEFUNCTION, on_bytes);
	curl_easy_setopt(t->h, CURLOPT_WRITEDATA, t);
	/* a stalled connection (a node that vanished) is a dropped one:
	 * the server sends nothing while the job is quiet, so only the
	 * kernel's keep-alive can tell */
	curl_easy_setopt(t->h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(t->h, CURLOPT_TCP_KEEPIDLE, 10L);
	curl_easy_setopt(t->h, CURLOPT_TCP_KEEPINTVL, 5L);
	t->over = 0;
	t->retry_at = 0;
	t->start_offset = t->offset;
	if (curl_multi_add_handle(m, t->h) != CURLM_OK)
		return EXIT_FAIL;
	t->busy = 1;
	return 0;
}

/* A transfer has ended: over, to be tried again, or an exit status. */
static int
tail_ended(struct tail *t, CURLcode cc)
{
	struct follow	*f = t->f;
	long		 code = 0;
	int64_t		 now = mono_ms();

	curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &code);
	if (t->write_errno != 0) {
		if (t->write_errno != EPIPE)
			cli_warnx("writing job %llu's output: %s", f->id,
			    strerror(t->write_errno));
		return t->write_errno == EPIPE ? 128 + 13 : EXIT_FAIL;
	}
	if (cc == CURLE_OK && code == 200) {
		t->over = 1;
		t->down_since = 0;
		t->pause_ms = PAUSE_MIN_MS;
		return 0;
	}
	if (cc == CURLE_OK && (code == 401 || code == 403)) {
		cli_warnx("job %llu's output: unauthorized (HTTP %ld)", f->id, code);
		return EXIT_AUTH;
	}
	if (cc == CURLE_OK && code == 404) {
		if (f->attempt > 0)
			cli_warnx("job %llu: no such job or attempt %d", f->id,
			    f->attempt);
		else
			cli_warnx("job %llu: no such job", f->id);
		return EXIT_NOT_FOUND;
	}
	if (cc == CURLE_OK && code != 503 && code < 500) {
		cli_warnx("job %llu's output: HTTP %ld", f->id, code);
		return EXIT_REFUSED;
	}
	/* the connection broke, or the server is going away: again at once
	 * when bytes came (a proxy cut it), else after a growing pause */
	if (t->offset > t->start_offset) {
		t->down_since = 0;
		t->pause_ms = 0;
	}
	if (t->down_since == 0) {
		t->down_since = now;
		if (f->notes && t->which == 0)
			cli_warnx("connection lost (%s); resuming",
			    cc != CURLE_OK ? curl_easy_strerror(cc) : "HTTP 503");
	} else if (now - t->down_since > (int64_t)f->retry_s * 1000) {
		cli_warnx("job %llu: no server at %s for %ds: giving up", f->id,
		    f->cli->client.url, f->retry_s);
		return EXIT_UNREACHABLE;
	}
	t->retry_at = now + t->pause_ms;
	t->pause_ms = t->pause_ms < PAUSE_MIN_MS ? PAUSE_MIN_MS :
	    t->pause_ms < PAUSE_MAX_MS ? t->pause_ms * 2 : PAUSE_MAX_MS;
	return 0;
}

static int
signal_check(struct follow *f, int *status)
{
	int sig = term_interrupted();

	if (sig == 0)
		return 0;
	term_interrupt_clear();
	if (f->on_signal == NULL)
		f->stop_status = 128 + sig;
	else if (f->on_signal(f, sig) != FOLLOW_STOP)
		return 0;
	f->stopped = 1;
	*status = f->stop_status;
	return 1;
}

/* Runs the tails until each has ended for the attempt: 0 or a status. */
static int
attempt_follow(struct follow *f, struct tail *tails, CURLM *m)
{
	struct CURLMsg	*msg;
	int		 running, left, rc = 0, waiting, status;
	int64_t		 now, next;
	long		 wait_ms;

	for (int i = 0; i < 2 && rc == 0; i++)
		if (tails[i].fd >= 0)
			rc = tail_start(&tails[i], m);
	while (rc == 0) {
		if (signal_check(f, &status))
			return status;
		curl_multi_perform(m, &running);
		while (rc == 0 && (msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			for (int i = 0; i < 2; i++) {
				if (tails[i].h != msg->easy_handle)
					continue;
				curl_multi_remove_handle(m, tails[i].h);
				tails[i].busy = 0;
				rc = tail_ended(&tails[i], msg->data.result);
			}
		}
		if (rc != 0)
			break;
		waiting = 0;
		now = mono_ms();
		next = now + 200;
		for (int i = 0; i < 2 && rc == 0; i++) {
			struct tail *t = &tails[i];

			if (t->fd < 0 || t->over || t->busy)
				continue;
			waiting = 1;
			if (t->retry_at <= now)
				rc = tail_start(t, m);
			else if (t->retry_at < next)
				next = t->retry_at;
		}
		if (rc != 0)
			break;
		if (!waiting && running == 0) {
			int all = 1;

			for (int i = 0; i < 2; i++)
				all &= tails[i].fd < 0 || tails[i].over;
			if (all)
				return 0;
		}
		wait_ms = (long)(next - now);
		curl_multi_poll(m, NULL, 0, wait_ms < 1 ? 1 : (int)wait_ms, NULL);
	}
	return rc;
}

static void
note_attempt(struct follow *f, const cJSON *job, int next)
{
	const char *err = job_str(job, "error");

	if (!f->notes)
		return;
	cli_warnx("job %llu: attempt %d %s%s%s; attempt %d of %lld next", f->id,
	    next - 1, err ? "failed (" : "is over", err ? err : "",
	    err ? ")" : "", next, job_int(job, "max_attempts"));
}

/* Where to go once each stream of the attempt has ended: 1 done, 0 on. */
static int
attempt_next(struct follow *f, struct tail *tails, const cJSON *job)
{
	const char	*state = job_str(job, "state");
	long long	 attempts = job_int(job, "attempts");
	int		 finished, waiting;

	finished = state && (strcmp(state, "succeeded") == 0 ||
	    strcmp(state, "failed") == 0 || strcmp(state, "canceled") == 0);
	waiting = state && (strcmp(state, "queued") == 0 ||
	    strcmp(state, "scheduled") == 0);
	if (finished && attempts <= f->attempt)
		return 1;
	if (attempts > f->attempt || (attempts == f->attempt && waiting)) {
		/* this attempt is over, and its stream ended whole */
		if (!f->all_attempts)
			return 1;
		f->attempt++;
		tails[0].offset = tails[1].offset = 0;
		note_attempt(f, job, f->attempt);
		return 0;
	}
	/* the attempt goes on (the server ended the stream early) or runs
	 * again after a restart: the same attempt, from the same offset */
	client_pause_ms(PAUSE_MIN_MS);
	return 0;
}

int
follow_run(struct follow *f, cJSON **job)
{
	struct tail	 tails[2];
	struct reply	 r;
	CURLM		*m = NULL;
	char		 path[128];
	int		 rc;

	*job = NULL;
	memset(tails, 0, sizeof(tails));
	if ((m = curl_multi_init()) == NULL)
		return EXIT_FAIL;
	for (int i = 0; i < 2; i++) {
		tails[i].f = f;
		tails[i].which = i;
		tails[i].fd = f->fds[i];
	}
	snprintf(path, sizeof(path), "/api/v1/jobs/%llu", f->id);
	for (;;) {
		rc = attempt_follow(f, tails, m);
		if (rc != 0 || f->stopped || f->once)
			break;
		rc = client_call_retry(&f->cli->client, "GET", path, NULL, &r,
		    f->retry_s);
		if (rc != 0)
			break;
		if (r.status != 200) {
			rc = client_fail(&r, "job");
			reply_clear(&r);
			break;
		}
		if (attempt_next(f, tails, r.json)) {
			*job = r.json;
			r.json = NULL;
			reply_clear(&r);
			break;
		}
		reply_clear(&r);
	}
	for (int i = 0; i < 2; i++) {
		if (tails[i].busy)
			curl_multi_remove_handle(m, tails[i].h);
		if (tails[i].h != NULL)
			curl_easy_cleanup(tails[i].h);
	}
	curl_multi_cleanup(m);
	return rc;
}
