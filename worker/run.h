/*
 * Running one job: a run from the RUN message (msg.h, docs/protocol.md)
 * to its EXIT.
 */
#ifndef RUNNEL_RUN_H
#define RUNNEL_RUN_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "chan.h"
#include "msg.h"

/* How long the pipes may stay open once the main process is gone. */
#define RUN_DRAIN_MS		1000
/* How long to go on killing a job's leftover processes before giving up. */
#define RUN_ORPHANS_MS		10000

/* What a run needs from its worker; all of it stays owned by the worker. */
struct run_ctx {
	struct chan	*chan;
	int		 sigfd;		/* signalfd for SIGCHLD and SIGTERM */
	int		 devnull;	/* O_RDONLY, close-on-exec */
	const char	*scratch_dir;	/* absolute: the worker's root, see scratch.h */
	chan_frame_cb	 on_frame;	/* frames that arrive while the job runs */
	void		*arg;
};

struct run {
	const struct run_ctx	*ctx;
	uint64_t		 job_id;
	const struct msg_run	*spec;
	int		 used_scratch;	/* ran in its own scratch directory */
	char		 scratch[PATH_MAX];
	int		 file_fd;	/* an upload job's file, or -1 */
	int		 verifying;	/* checking it: no process yet */
	int		 verified;	/* checked and found whole */
	int64_t		 output_bytes;	/* stdout and stderr forwarded */
	pid_t		 pid;		/* main process; its pid is the group's id */
	int		 fd_in;		/* write end of the job's stdin, or -1 */
	int		 fd_out;	/* read ends of stdout and stderr, or -1 */
	int		 fd_err;
	size_t		 in_off;	/* stdin bytes written so far */
	int		 out_big;	/* pipe already grown for heavy output */
	int		 err_big;
	int		 reaped;	/* main process waited for */
	int		 status;	/* its wait status */
	struct rusage	 ru;
	int		 children;	/* other children may still be alive */
	int		 signalled;	/* last signal sent to the group, or 0 */
	int		 lost;		/* <0: runneld is gone or broke the protocol */
	const char	*reason;	/* why the worker ended it, or NULL */
	char		 error[160];	/* spawn failure, or "" */
	int64_t		 timeout_at;	/* monotonic ms, 0 when none */
	int64_t		 kill_at;	/* SIGKILL due once SIGTERM was sent */
	int64_t		 drain_until;	/* set when the main process is reaped */
	int64_t		 sweep_at;	/* next look for orphans that escaped the group */
	int64_t		 orphans_until;	/* give up on unkillable leftovers then */
	int		 swept;		/* some were found: look again at each exit */
};

/*
 * Runs spec, the RUN of job job_id, to its end: sends STARTED, OUTPUT
 * and exactly one EXIT on ctx->chan (EXIT also says the worker is
 * ready), feeding ctx->on_frame the frames that arrive meanwhile.  spec
 * must outlive the run.  Every process of the job is gone
 * before EXIT; its scratch directory, if it had one (r->used_scratch,
 * r->scratch), is the caller's to remove.
 * Returns 0 once EXIT is sent; or a negative errno code when
 * runneld went away (-EPIPE), broke the protocol (-EPROTO, or whatever
 * on_frame returned) or the worker got SIGTERM (-EINTR): the job is then
 * killed, reaped and its scratch directory removed before returning.
 */
int	run_job(struct run *r, const struct run_ctx *ctx, uint64_t job_id,
	    const struct msg_run *spec);

/*
 * Starts ending the running job for reason ("canceled", "shutdown"):
 * SIGTERM to its group now, SIGKILL after the spec's grace.  A job
 * already being ended keeps its first reason.  reason must outlive r.
 */
void	run_cancel(struct run *r, const char *reason);

#endif
