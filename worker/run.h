/*
 * Running one job: the RUN spec, and a run from spawn to EXIT.
 *
 * RUN body (docs/protocol.md; absent members take the default shown,
 * members not listed are ignored so that a newer runneld can add some):
 *
 *	{"attempt": 1,
 *	 "command": "echo hi",		shell form: /bin/sh -c COMMAND
 *	 "argv": ["ls", "-l"],		exec form; exactly one of command/argv
 *	 "env": {"K": "V"},		{}: added to the clean environment
 *	 "cwd": "/abs/dir",		null: the worker's empty scratch directory
 *	 "stdin": "text",		null: the job reads /dev/null
 *	 "timeout_ms": 30000,		0: no timeout
 *	 "kill_grace_ms": 5000,		SIGTERM, then SIGKILL this much later
 *	 "limits": {"memory_mb": 64, "cpu_seconds": 10, "open_files": 64,
 *	            "processes": 32, "output_mb": 1},	each optional
 *	 "file": {"path": "/abs", "name": "a.mp4", "size": 12,
 *	          "sha256": "hex"}}	upload jobs: checked, then the job's
 *					stdin; command and argv optional
 */
#ifndef RUNNEL_RUN_H
#define RUNNEL_RUN_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "chan.h"

#define RUN_KILL_GRACE_MS	5000
/* How long the pipes may stay open once the main process is gone. */
#define RUN_DRAIN_MS		1000
/* How long to go on killing a job's leftover processes before giving up. */
#define RUN_ORPHANS_MS		10000

struct run_spec {
	uint64_t	 job_id;
	int		 attempt;
	const char	*command;	/* shell form, or NULL */
	const cJSON	*argv;		/* exec form: non-empty array of strings, or NULL */
	const cJSON	*env;		/* object of strings, or NULL */
	const char	*cwd;		/* absolute, or NULL for a scratch dir */
	const char	*stdin_data;	/* NULL: /dev/null */
	size_t		 stdin_len;
	int64_t		 timeout_ms;	/* 0: none */
	int64_t		 kill_grace_ms;
	/* limits (0: none): rlimits set before exec, output counted here */
	int64_t		 limit_memory_mb;
	int64_t		 limit_cpu_seconds;
	int64_t		 limit_open_files;
	int64_t		 limit_processes;
	int64_t		 limit_output_mb;
	/* upload jobs: the stored file, checked before the job runs */
	const char	*file_path;	/* NULL for command jobs */
	const char	*file_name;
	const char	*file_sha256;	/* 64 lower-case hex digits */
	int64_t		 file_size;
	cJSON		*root;		/* owns everything above */
};

/*
 * Parses a RUN body for job_id into *spec.  Returns 0, or -EPROTO for a
 * body that is not the JSON the protocol describes (logged here), or
 * -ENOMEM.  Free with run_spec_free() whatever the result.
 */
int	run_spec_parse(struct run_spec *spec, uint64_t job_id,
	    const uint8_t *body, size_t length);
void	run_spec_free(struct run_spec *spec);

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
	const struct run_spec	*spec;
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
 * Runs spec to its end: sends STARTED, OUTPUT and exactly one EXIT on
 * ctx->chan (EXIT also says the worker is ready), feeding ctx->on_frame
 * the frames that arrive meanwhile.  Every process of the job is gone
 * before EXIT; its scratch directory, if it had one (r->used_scratch,
 * r->scratch), is the caller's to remove.
 * Returns 0 once EXIT is sent; or a negative errno code when
 * runneld went away (-EPIPE), broke the protocol (-EPROTO, or whatever
 * on_frame returned) or the worker got SIGTERM (-EINTR): the job is then
 * killed, reaped and its scratch directory removed before returning.
 */
int	run_job(struct run *r, const struct run_ctx *ctx,
	    const struct run_spec *spec);

/*
 * Starts ending the running job for reason ("canceled", "shutdown"):
 * SIGTERM to its group now, SIGKILL after the spec's grace.  A job
 * already being ended keeps its first reason.  reason must outlive r.
 */
void	run_cancel(struct run *r, const char *reason);

/* Handles the frames runneld sent, if any, without waiting. */
void	run_poll_chan(struct run *r);

/*
 * Checks an upload job's file against its size and SHA-256 (verify.c).
 * Returns 0 with r->file_fd open at offset 0; or -1 with r->reason
 * ("verify", "canceled", "timeout", ...) and r->error set.
 */
int	run_verify(struct run *r);

#endif
