/*
 * The worker pool: runnel-worker processes spawned with libuv, each fed
 * frames over a socket (docs/protocol.md).  The pool watches them,
 * replaces the dead, forwards their output to the output files and their
 * reports to the core.  Workers are named by their slot number.
 */
#ifndef RUNNEL_POOL_H
#define RUNNEL_POOL_H

#include <stdint.h>
#include <sys/types.h>

#include "store/job.h"

struct server;
struct pool;

struct worker_info {
	int		 id;
	int		 pid;
	const char	*state;		/* "starting", "idle", "busy" */
	uint64_t	 job;		/* 0 if none */
	int64_t		 started_at;
	uint64_t	 jobs_done;
};

/* Spawns cfg->workers workers.  Returns 0 or a negative code. */
int	pool_start(struct server *, const char *worker_path);
/* Asks every worker to exit once idle; respawning stops. */
void	pool_stop(struct server *);
void	pool_free(struct server *);
/* SIGKILLs every worker process (a last resort at exit). */
void	pool_kill(struct server *);
/* A child of runneld ended: 1 if it was a worker (then handled), else 0. */
int	pool_reaped(struct server *, pid_t pid, int status);

/* A worker that said READY and has no job, or -1. */
int	pool_idle(struct pool *);
/*
 * Holds an idle worker for job_id, claimed in the turn's transaction:
 * nothing is sent until pool_run, after the commit.  0 or -EPIPE.
 */
int	pool_reserve(struct pool *, int worker, uint64_t job_id);
/* The claim was not committed: the worker is idle again. */
void	pool_release(struct pool *, int worker);
/* Sends RUN for the job its reserved worker holds.  0, or < 0 if it cannot. */
int	pool_run(struct pool *, int worker, const struct job *);
/* Sends CANCEL with reason to the worker running job_id; -ENOENT if none. */
int	pool_cancel(struct pool *, uint64_t job_id, const char *reason);
/* Sends CANCEL with reason for every running job; returns how many. */
int	pool_cancel_all(struct pool *, const char *reason);
/* Fills the live fields (worker, pid, output bytes) of a running job. */
int	pool_job_live(struct pool *, uint64_t job_id, struct job *);
/* Jobs running now. */
int	pool_busy(const struct pool *);
/* Workers whose process is alive. */
int	pool_alive(const struct pool *);
/* Workers that said HELLO and are not dead. */
int	pool_up(const struct pool *);
int	pool_size(const struct pool *);
void	pool_each(const struct pool *,
	    void (*cb)(void *arg, const struct worker_info *), void *arg);

#endif
