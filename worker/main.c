/*
 * runnel-worker: one process of runneld's pool.  This file is the wiring:
 * options, start-up (fd 3, signals, subreaper, scratch root), HELLO and
 * READY, and the idle loop that dispatches frames from runneld through a
 * table; run.c runs each job.  The worker is single-threaded and polls.
 *
 * Exit status: 0 after SHUTDOWN, when runneld is gone or on SIGTERM;
 * 2 for a usage or protocol error; 1 when start-up fails.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "frame.h"
#include "log.h"
#include "msg.h"
#include "proc.h"
#include "run.h"
#include "scratch.h"

#define WORKER_FD	3

struct worker {
	int		 id;
	char		 scratch[PATH_MAX];
	struct chan	 chan;
	struct run_ctx	 ctx;
	struct run	 run;
	int		 busy;		/* run holds a job */
	int		 shutdown;	/* SHUTDOWN seen: exit once idle */
};

typedef int (*worker_handler)(struct worker *, const struct frame *);

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: runnel-worker --id N --scratch DIR "
	    "[--log-level debug|info|warn|error]\n"
	    "fd 3 must be a connected socket to runneld\n");
	exit(2);
}

/* HELLO, then READY: the first frames, once. */
static int
worker_send_hello(struct worker *w)
{
	struct msg_hello	 hello = {.version = FRAME_VERSION,
				    .pid = (int)getpid()};
	struct msg_body		 b;
	int			 rc;

	if ((rc = msg_hello_encode(&b, &hello, NULL)) == 0)
		rc = chan_send_body(&w->chan, 0, &b);
	msg_body_free(&b);
	if (rc == 0 && (rc = msg_ready_encode(&b)) == 0)
		rc = chan_send_body(&w->chan, 0, &b);
	return rc;
}

/* A frame from runneld that its codec refused. */
static int
worker_bad_frame(const struct frame *f, const char *why, int rc)
{
	if (rc == -EPROTO)
		log_warnx("protocol error: bad %s job=%llu: %s",
		    frame_type_name(f->type), (unsigned long long)f->job_id, why);
	return rc;
}

static int
worker_on_run(struct worker *w, const struct frame *f)
{
	struct msg_run	 spec;
	const char	*why = NULL;
	int		 rc, recycled;

	if (w->busy) {
		log_warnx("protocol error: RUN job=%llu while busy",
		    (unsigned long long)f->job_id);
		return -EPROTO;
	}
	if ((rc = msg_run_decode(f, &spec, &why)) < 0) {
		rc = worker_bad_frame(f, why, rc);
		goto out;
	}
	chan_trim(&w->chan);	/* the spec is decoded: the body can go */
	w->busy = 1;
	rc = run_job(&w->run, &w->ctx, f->job_id, &spec);
	w->busy = 0;
	/* After EXIT, while runneld picks the next job: see scratch.h. */
	recycled = w->run.used_scratch &&
	    scratch_recycle(w->scratch, w->run.scratch) == 0;
	if (w->run.used_scratch && !recycled)
		(void)scratch_remove(w->run.scratch);
	if (rc == 0 && !recycled && scratch_spare(w->scratch) < 0)
		log_warnx("cannot make the spare scratch directory in %s",
		    w->scratch);
	if (rc < 0)
		goto out;
	/* EXIT said we are ready: no READY after a job. */
	if (w->shutdown)
		rc = -ESHUTDOWN;
out:
	msg_run_free(&spec);
	return rc;
}

static int
worker_on_cancel(struct worker *w, const struct frame *f)
{
	struct msg_cancel	 m;
	const char		*why = NULL;
	int			 rc;

	if ((rc = msg_cancel_decode(f, &m, &why)) < 0)
		return worker_bad_frame(f, why, rc);
	/* The reason is the codec's own string: it outlives the run. */
	if (w->busy && f->job_id == w->run.job_id)
		run_cancel(&w->run, m.reason);
	else
		log_debug("CANCEL job=%llu not running: ignored",
		    (unsigned long long)f->job_id);
	return 0;
}

static int
worker_on_shutdown(struct worker *w, const struct frame *f)
{
	const char	*why = NULL;
	int		 rc;

	if ((rc = msg_shutdown_decode(f, &why)) < 0)
		return worker_bad_frame(f, why, rc);
	log_info("shutdown requested%s", w->busy ? ": after the job" : "");
	w->shutdown = 1;
	return w->busy ? 0 : -ESHUTDOWN;
}

static const worker_handler worker_handlers[FRAME_TYPE_MAX + 1] = {
	[FRAME_RUN] = worker_on_run,
	[FRAME_CANCEL] = worker_on_cancel,
	[FRAME_SHUTDOWN] = worker_on_shutdown,
};

static int
worker_on_frame(const struct frame *f, void *arg)
{
	struct worker	*w = arg;

	if (f->type > FRAME_TYPE_MAX || worker_handlers[f->type] == NULL) {
		log_warnx("protocol error: unexpected %s frame from runneld",
		    frame_type_name(f->type));
		return -EPROTO;
	}
	return worker_handlers[f->type](w, f);
}

/* Leaves with the status the end reason calls for. */
static void __attribute__((noreturn))
worker_exit(int rc)
{
	switch (rc) {
	case -ESHUTDOWN:
		log_info("exiting: shutdown");
		exit(0);
	case -EPIPE:
	case -ECONNRESET:
		log_info("exiting: runneld is gone");
		exit(0);
	case -EINTR:
		log_info("exiting: SIGTERM");
		exit(0);
	case -EPROTO:
		log_warnx("exiting: protocol error");
		exit(2);
	default:
		errno = -rc;
		log_warn("exiting");
		exit(1);
	}
}

/* Idle: wait for frames, reap stray children, leave on SIGTERM or EOF. */
static void __attribute__((noreturn))
worker_loop(struct worker *w)
{
	struct pollfd	 pfd[2];
	int		 rc, seen;

	for (;;) {
		pfd[0].fd = w->chan.fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = w->ctx.sigfd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[1].revents) {
			seen = proc_signals(w->ctx.sigfd);
			if (seen & PROC_SIGCHLD)
				proc_reap();
			if (seen & PROC_SIGTERM)
				worker_exit(-EINTR);
		}
		if (pfd[0].revents == 0)
			continue;
		if ((rc = chan_fill(&w->chan)) == 0)
			worker_exit(-EPIPE);
		if (rc < 0 && rc != -EAGAIN)
			worker_exit(rc);
		if ((rc = chan_dispatch(&w->chan, worker_on_frame, w)) < 0)
			worker_exit(rc);
	}
}

/* fds 0-2 must be open, or a pipe could land there and be clobbered. */
static void
worker_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			fatal("open /dev/null");
}

static void
worker_scratch(struct worker *w, const char *dir)
{
	struct stat	 st;
	size_t		 n;

	if (mkdir(dir, S_IRWXU) < 0 && errno != EEXIST)
		fatal("mkdir %s", dir);
	if (realpath(dir, w->scratch) == NULL)
		fatal("realpath %s", dir);
	if (stat(w->scratch, &st) < 0 || !S_ISDIR(st.st_mode))
		fatalx("scratch %s is not a directory", w->scratch);
	n = strlen(w->scratch);
	if (snprintf(w->scratch + n, sizeof(w->scratch) - n, "/w%d", w->id) >=
	    (int)(sizeof(w->scratch) - n))
		fatalx("scratch path too long");
	if (scratch_prepare(w->scratch) < 0 || scratch_spare(w->scratch) < 0)
		fatalx("cannot make scratch directory %s", w->scratch);
}

static void
worker_args(struct worker *w, int argc, char **argv)
{
	static const struct option opts[] = {
		{"id", required_argument, NULL, 'i'},
		{"scratch", required_argument, NULL, 's'},
		{"log-level", required_argument, NULL, 'l'},
		{NULL, 0, NULL, 0}
	};
	const char	*scratch = NULL;
	char		*end;
	long		 id = -1;
	int		 c, level = LOG_INFO;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			errno = 0;
			id = strtol(optarg, &end, 10);
			if (errno || *end != '\0' || id < 0 || id > INT_MAX)
				usage();
			break;
		case 's':
			scratch = optarg;
			break;
		case 'l':
			if ((level = log_level_parse(optarg)) < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || id < 0 || scratch == NULL || scratch[0] == '\0')
		usage();
	w->id = (int)id;
	log_init("runnel-worker", (enum log_level)level);
	worker_scratch(w, scratch);
}

int
main(int argc, char **argv)
{
	static struct worker	 w;
	int			 rc;

	worker_std_fds();
	worker_args(&w, argc, argv);
	/* Keep the worker small: big buffers go back to the system on free. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	if ((rc = chan_init(&w.chan, WORKER_FD)) < 0) {
		errno = -rc;
		fatal("fd %d (the socket to runneld)", WORKER_FD);
	}
	if ((w.ctx.sigfd = proc_setup()) < 0) {
		errno = -w.ctx.sigfd;
		fatal("signals");
	}
	if ((w.ctx.devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		fatal("open /dev/null");
	w.ctx.chan = &w.chan;
	w.ctx.scratch_dir = w.scratch;
	w.ctx.on_frame = worker_on_frame;
	w.ctx.arg = &w;
	log_info("started worker=%d scratch=%s", w.id, w.scratch);
	if ((rc = worker_send_hello(&w)) < 0)
		worker_exit(rc);
	worker_loop(&w);
}
