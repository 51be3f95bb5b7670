/*
 * One job, from RUN to EXIT: its spec, its process group and the poll
 * loop that serves it.  The loop forwards the job's stdout and stderr as
 * OUTPUT frames, feeds its stdin, enforces the timeout, hears CANCEL and
 * the loss of runneld, and learns of exits from the signalfd.  The job
 * ends when its main process exits: the group is killed while the zombie
 * leader still pins the group id, then everything is reaped; orphans
 * that left the group (a setsid daemon) come to the worker, the job's
 * subreaper, and are killed until none is left; the pipes are drained,
 * and only then is EXIT sent.  The worker removes the scratch directory
 * after (scratch.h).
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "proc.h"
#include "run.h"
#include "scratch.h"
#include "spawn.h"
#include "verify.h"

/* A pipe that filled a whole read is grown to this, to cut wakeups. */
#define RUN_PIPE_SIZE		(1024 * 1024)
/* Reads of one stream per wakeup before the other fds get a turn. */
#define RUN_READS_PER_WAKE	16
/* How often to look for orphans that left the group, once it is dead. */
#define RUN_SWEEP_MS		100

/* Output chunks: one buffer for the worker's life, no copy per frame. */
static uint8_t	run_buf[FRAME_OUTPUT_CHUNK];

static void
run_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The worker ends this run: no more frames to runneld, kill the job now. */
static void
run_lose(struct run *r, int rc)
{
	if (r->lost == 0)
		r->lost = rc;
	if (r->pid > 0 && !r->reaped && r->signalled != SIGKILL) {
		kill(-r->pid, SIGKILL);
		r->signalled = SIGKILL;
	}
}

void
run_cancel(struct run *r, const char *reason)
{
	if (r->verifying && r->reason == NULL) {
		r->reason = reason;	/* no process yet: the check stops */
		return;
	}
	if (r->pid <= 0 || r->reaped || r->signalled != 0)
		return;
	log_info("job=%llu ending reason=%s pid=%d",
	    (unsigned long long)r->job_id, reason, (int)r->pid);
	r->reason = reason;
	kill(-r->pid, SIGTERM);
	kill(-r->pid, SIGCONT);		/* a stopped process must see the TERM */
	r->signalled = SIGTERM;
	r->kill_at = clock_mono_ms() + r->spec->kill_grace_ms;
	if (r->spec->kill_grace_ms == 0) {
		kill(-r->pid, SIGKILL);
		r->signalled = SIGKILL;
	}
}

/* Writes what the job's stdin pipe takes now; closes it when done. */
static void
run_feed(struct run *r)
{
	const struct msg_run	*spec = r->spec;
	ssize_t			 n;

	while (r->fd_in >= 0 && r->in_off < spec->stdin_len) {
		n = write(r->fd_in, spec->stdin_data + r->in_off,
		    spec->stdin_len - r->in_off);
		if (n > 0)
			r->in_off += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && errno == EAGAIN)
			return;
		else
			break;	/* EPIPE: the job does not read its stdin */
	}
	run_close(&r->fd_in);
}

static int
run_pipe(int child_end_is_read, int *parent, int *child)
{
	int	 p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	*child = p[child_end_is_read ? 0 : 1];
	*parent = p[child_end_is_read ? 1 : 0];
	if (fcntl(*parent, F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* The job's fds 0, 1 and 2 into child[], the worker's ends into r. */
static int
run_open_pipes(struct run *r, int child[3])
{
	int	 rc;

	child[0] = r->file_fd >= 0 ? r->file_fd : r->ctx->devnull;
	if (r->spec->stdin_len > 0) {
		if ((rc = run_pipe(1, &r->fd_in, &child[0])) < 0)
			return rc;
		run_feed(r);	/* most stdin fits the pipe: done before exec */
	}
	if ((rc = run_pipe(0, &r->fd_out, &child[1])) < 0 ||
	    (rc = run_pipe(0, &r->fd_err, &child[2])) < 0)
		return rc;
	return 0;
}

static void
run_close_child(const struct run *r, int child[3])
{
	for (int i = 0; i < 3; i++)
		if (child[i] >= 0 && child[i] != r->ctx->devnull &&
		    child[i] != r->file_fd)
			close(child[i]);
}

/* Starts the job's process.  On failure r->error says why. */
static int
run_spawn(struct run *r)
{
	const struct msg_run	*spec = r->spec;
	struct spawn		 s;
	const char		*cwd = spec->cwd;
	int			 child[3] = {-1, -1, -1}, rc;

	memset(&s, 0, sizeof(s));
	if (cwd == NULL) {
		if ((rc = scratch_take(r->ctx->scratch_dir, r->job_id,
		    spec->attempt, r->scratch, sizeof(r->scratch))) < 0) {
			snprintf(r->error, sizeof(r->error),
			    "scratch directory failed: %s", strerror(-rc));
			return rc;
		}
		cwd = r->scratch;
		r->used_scratch = 1;
	}
	if ((rc = spawn_prepare(&s, r->job_id, spec, cwd)) < 0)
		goto fail;
	if ((rc = run_open_pipes(r, child)) < 0) {
		s.stage = SPAWN_PIPE;
		goto fail;
	}
	s.fd_in = child[0];
	s.fd_out = child[1];
	s.fd_err = child[2];
	if ((rc = spawn_start(&s)) < 0)
		goto fail;
	r->pid = s.pid;
fail:
	if (rc < 0)
		snprintf(r->error, sizeof(r->error), "%s: %s",
		    spawn_stage_text(s.stage), strerror(-rc));
	run_close_child(r, child);
	spawn_free(&s);
	return rc;
}

static void
run_started(struct run *r)
{
	struct msg_started	 m = {.pid = (int)r->pid,
				    .started_at = clock_now_ms()};
	struct msg_body		 b;
	int			 rc;

	if ((rc = msg_started_encode(&b, &m, NULL)) == 0)
		rc = chan_send_body(r->ctx->chan, r->job_id, &b);
	msg_body_free(&b);
	if (rc < 0)
		run_lose(r, rc);
}

/*
 * The main process has exited and is still a zombie: its pid is still
 * the group's id, so killing the group now cannot hit a stranger.  Only
 * then is it reaped.
 */
static void
run_reap_main(struct run *r)
{
	int64_t	 now;

	kill(-r->pid, SIGKILL);
	while (wait4(r->pid, &r->status, 0, &r->ru) < 0 && errno == EINTR)
		;
	r->reaped = 1;
	now = clock_mono_ms();
	r->drain_until = now + RUN_DRAIN_MS;
	r->sweep_at = now;	/* escaped orphans: at once */
	r->orphans_until = now + RUN_ORPHANS_MS;
	run_close(&r->fd_in);
	log_debug("job=%llu main exited pid=%d status=%#x",
	    (unsigned long long)r->job_id, (int)r->pid, r->status);
}

/* Reaps every exited child; peeks first so the main one is seen as a zombie. */
static void
run_reap(struct run *r)
{
	siginfo_t	 si;

	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
			r->children = 0;	/* ECHILD: none left at all */
			return;
		}
		if (si.si_pid == 0) {
			r->children = 1;	/* some alive, none exited */
			/* A swept orphan died and its children came to us. */
			if (r->reaped && r->swept)
				r->sweep_at = 0;
			return;
		}
		if (si.si_pid == r->pid && !r->reaped)
			run_reap_main(r);
		else
			waitpid(si.si_pid, NULL, WNOHANG);
	}
}

/*
 * Forwards n bytes of output.  Past limits.output_mb the output is cut
 * at the limit and the job ended: its group is killed at once, as a
 * job that floods its output would not stop at a SIGTERM.
 */
static void
run_output(struct run *r, uint16_t stream, size_t n)
{
	struct msg_output	 m = {stream, run_buf, n};
	struct msg_body		 b;
	int64_t			 max = r->spec->limits.output_mb << 20;
	int			 rc;

	if (r->lost || r->reason != NULL)
		return;		/* runneld is gone, or the job is ending: drop */
	if (max > 0 && r->output_bytes + (int64_t)n > max) {
		n = (size_t)(max - r->output_bytes);
		r->reason = "output limit";
		snprintf(r->error, sizeof(r->error), "output limit: more than "
		    "%lld MiB", (long long)r->spec->limits.output_mb);
		if (r->pid > 0 && !r->reaped) {
			kill(-r->pid, SIGKILL);
			r->signalled = SIGKILL;
		}
		if (n == 0)
			return;
	}
	r->output_bytes += (int64_t)n;
	m.length = n;
	if ((rc = msg_output_encode(&b, &m, NULL)) == 0)
		rc = chan_send_body(r->ctx->chan, r->job_id, &b);
	if (rc < 0)
		run_lose(r, rc);
}

/*
 * Reads one stream while it keeps filling whole chunks; a short read
 * means the pipe is empty for now.  A stream that fills a chunk gets a
 * bigger pipe, so a heavy writer blocks, and wakes us, less often.
 */
static void
run_read(struct run *r, int *fd, uint16_t stream, int *big)
{
	ssize_t	 n;

	for (int i = 0; i < RUN_READS_PER_WAKE; i++) {
		if ((n = read(*fd, run_buf, sizeof(run_buf))) > 0) {
			run_output(r, stream, (size_t)n);
			if ((size_t)n < sizeof(run_buf))
				return;
			if (!*big) {
				*big = 1;
				(void)fcntl(*fd, F_SETPIPE_SZ, RUN_PIPE_SIZE);
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)
			log_warn("job=%llu read output",
			    (unsigned long long)r->job_id);
		run_close(fd);	/* end of file: every writer is gone */
		return;
	}
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/*
 * Acts on the deadlines that have passed: timeout, the grace before
 * SIGKILL, the sweep for escaped orphans.  Returns poll's timeout for
 * the next one, -1 for none.
 */
static int
run_timers(struct run *r)
{
	int64_t	 now = clock_mono_ms(), next = INT64_MAX;

	if (!r->reaped) {
		if (r->timeout_at > 0 && r->signalled == 0) {
			if (now >= r->timeout_at)
				run_cancel(r, "timeout");
			else
				next = r->timeout_at;
		}
		if (r->signalled == SIGTERM) {
			if (now >= r->kill_at) {
				kill(-r->pid, SIGKILL);
				r->signalled = SIGKILL;
			} else
				next = min64(next, r->kill_at);
		}
	} else {
		next = r->children ? r->orphans_until : r->drain_until;
		if (r->children && now >= r->sweep_at) {
			int n = proc_kill_children();

			log_debug("job=%llu killed %d escaped processes",
			    (unsigned long long)r->job_id, n);
			r->swept = 1;
			r->sweep_at = now + RUN_SWEEP_MS;
		}
		if (r->children)
			next = min64(next, r->sweep_at);
	}
	if (next == INT64_MAX)
		return -1;
	return next <= now ? 0 : (int)min64(next - now, 60000);
}

/*
 * Over when the main process is reaped, no other process of the job is
 * left (they are killed at each sweep), and the pipes are closed or have
 * had their time.  A process that will not die (stuck in the kernel)
 * holds the job up for RUN_ORPHANS_MS at most.
 */
static int
run_over(const struct run *r)
{
	int64_t now;

	if (!r->reaped)
		return 0;
	now = clock_mono_ms();
	if (r->children) {
		if (now < r->orphans_until)
			return 0;
		log_warnx("job=%llu: processes of the job did not die within "
		    "%d s of SIGKILL: reporting its end anyway",
		    (unsigned long long)r->job_id, RUN_ORPHANS_MS / 1000);
		return 1;
	}
	return (r->fd_out < 0 && r->fd_err < 0) || now >= r->drain_until;
}

/* Frames from runneld: read what is there, hand over whole frames. */
static void
run_chan(struct run *r, int readable)
{
	const struct run_ctx	*ctx = r->ctx;
	int			 rc;

	if (readable) {
		if ((rc = chan_fill(ctx->chan)) == 0) {
			log_warnx("job=%llu runneld is gone: killing the job",
			    (unsigned long long)r->job_id);
			run_lose(r, -EPIPE);
			return;
		}
		if (rc < 0 && rc != -EAGAIN) {
			errno = -rc;
			log_warn("read from runneld");
			run_lose(r, rc);
			return;
		}
	}
	if ((rc = chan_dispatch(ctx->chan, ctx->on_frame, ctx->arg)) < 0)
		run_lose(r, rc);
}

/* Handles the frames runneld sent, if any, without waiting. */
static void
run_poll_chan(struct run *r)
{
	struct pollfd pfd = {.fd = r->ctx->chan->fd, .events = POLLIN};

	if (r->lost)
		return;
	if (poll(&pfd, 1, 0) > 0)
		run_chan(r, 1);
	else
		run_chan(r, 0);
}

static void
run_signals(struct run *r)
{
	int	 seen = proc_signals(r->ctx->sigfd);

	if (seen & PROC_SIGCHLD)
		run_reap(r);
	if (seen & PROC_SIGTERM) {
		log_warnx("job=%llu SIGTERM: killing the job",
		    (unsigned long long)r->job_id);
		run_lose(r, -EINTR);
	}
}

enum { PFD_CHAN, PFD_SIG, PFD_OUT, PFD_ERR, PFD_IN, PFD_N };

static void
run_loop(struct run *r)
{
	struct pollfd	 pfd[PFD_N];
	int		 timeout;

	if (!r->lost)
		run_chan(r, 0);		/* frames that came with the RUN */
	while (!run_over(r)) {
		timeout = run_timers(r);
		pfd[PFD_CHAN].fd = r->lost ? -1 : r->ctx->chan->fd;
		pfd[PFD_CHAN].events = POLLIN;
		pfd[PFD_SIG].fd = r->ctx->sigfd;
		pfd[PFD_SIG].events = POLLIN;
		pfd[PFD_OUT].fd = r->fd_out;
		pfd[PFD_OUT].events = POLLIN;
		pfd[PFD_ERR].fd = r->fd_err;
		pfd[PFD_ERR].events = POLLIN;
		pfd[PFD_IN].fd = r->fd_in;
		pfd[PFD_IN].events = POLLOUT;
		if (poll(pfd, PFD_N, timeout) < 0) {
			if (errno != EINTR)
				fatal("poll");
			continue;
		}
		if (pfd[PFD_SIG].revents)
			run_signals(r);
		if (pfd[PFD_OUT].revents)
			run_read(r, &r->fd_out, FRAME_STDOUT, &r->out_big);
		if (pfd[PFD_ERR].revents)
			run_read(r, &r->fd_err, FRAME_STDERR, &r->err_big);
		if (pfd[PFD_IN].revents)
			run_feed(r);
		if (pfd[PFD_CHAN].revents && !r->lost)
			run_chan(r, 1);
	}
}

/* Between the pieces of a file check: a CANCEL, or runneld gone. */
static int
run_verify_stop(void *arg)
{
	struct run *r = arg;

	run_poll_chan(r);
	return r->lost || r->reason != NULL;
}

/* An upload job's file: 0, or -1 with r->reason (and r->error) set. */
static int
run_verify(struct run *r)
{
	const struct msg_file	*file = &r->spec->file;
	struct verify_watch	 watch = {r->timeout_at, run_verify_stop, r};
	int			 rc;

	r->verifying = 1;	/* no process yet: a CANCEL stops the check */
	rc = verify_file(file->path, file->size, file->sha256, &watch,
	    &r->file_fd, r->error, sizeof(r->error));
	r->verifying = 0;
	if (rc == 0) {
		r->verified = 1;
		return 0;
	}
	if (rc == -ETIMEDOUT)
		r->reason = "timeout";
	else if (rc != -ECANCELED)
		r->reason = "verify";
	return -1;
}

static int
run_send_exit(struct run *r)
{
	const struct rusage	*ru = &r->ru;
	struct msg_exit		 ex;
	struct msg_body		 b;
	const char		*why = NULL;
	int			 st = r->status, rc;

	memset(&ex, 0, sizeof(ex));
	ex.exit_code = ex.signal = -1;
	ex.cpu_ms = ((int64_t)ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) *
	    1000 + ((int64_t)ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000;
	ex.max_rss_kb = ru->ru_maxrss;
	ex.finished_at = clock_now_ms();
	if (r->pid <= 0 && r->verified && r->error[0] == '\0') {
		ex.exit_code = 0;	/* an upload job without a command */
	} else if (r->pid <= 0 && r->reason != NULL) {
		ex.reason = r->reason;
	} else if (r->pid <= 0) {	/* never started */
		ex.exit_code = 127;
		ex.reason = "spawn";
	} else {
		if (WIFEXITED(st))
			ex.exit_code = WEXITSTATUS(st);
		if (WIFSIGNALED(st))
			ex.signal = WTERMSIG(st);
		ex.reason = r->reason;
	}
	if (ex.reason != NULL)
		snprintf(ex.error, sizeof(ex.error), "%s", r->error);
	if ((rc = msg_exit_encode(&b, &ex, &why)) < 0)
		log_warnx("job=%llu: EXIT not sent: %s: %s",
		    (unsigned long long)r->job_id, why, strerror(-rc));
	else
		rc = chan_send_body(r->ctx->chan, r->job_id, &b);
	msg_body_free(&b);
	return rc;
}

int
run_job(struct run *r, const struct run_ctx *ctx, uint64_t job_id,
    const struct msg_run *spec)
{
	int	 rc;

	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->job_id = job_id;
	r->spec = spec;
	r->fd_in = r->fd_out = r->fd_err = r->file_fd = -1;
	if (spec->timeout_ms > 0)
		r->timeout_at = clock_mono_ms() + spec->timeout_ms;
	if (spec->file.path != NULL && run_verify(r) < 0) {
		log_info("job=%llu not run: %s %s", (unsigned long long)job_id,
		    r->lost ? "lost" : r->reason, r->error);
	} else if (spec->command == NULL && spec->argc == 0) {
		log_debug("job=%llu: file checked, no command",
		    (unsigned long long)job_id);
	} else if (run_spawn(r) < 0) {
		log_info("job=%llu spawn failed: %s",
		    (unsigned long long)job_id, r->error);
	} else {
		log_debug("job=%llu started pid=%d",
		    (unsigned long long)job_id, (int)r->pid);
		run_started(r);
		run_loop(r);
	}
	run_close(&r->file_fd);
	run_close(&r->fd_in);
	run_close(&r->fd_out);
	run_close(&r->fd_err);
	rc = r->lost ? r->lost : run_send_exit(r);
	return rc < 0 ? rc : 0;
}
