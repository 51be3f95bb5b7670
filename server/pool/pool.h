/*
 * The worker pool: runnel-worker processes spawned with libuv, each fed
 * frames over a socket (docs/protocol.md).  The pool watches them,
 * replaces the dead, writes their output to the output files and reports
 * to its owner through a callback table (struct pool_cb), never by
 * calling the core.  Workers are named by their slot number.
 */
#ifndef RUNNEL_POOL_H
#define RUNNEL_POOL_H

#include <stdint.h>
#include <sys/types.h>

#include "store/job.h"

struct server;
struct pool;

/* How a job's attempt ended: the worker's EXIT and what the pool knows. */
struct job_exit {
	int		 exit_code;	/* -1 if none */
	int		 signal;	/* -1 if none */
	int64_t		 cpu_ms;
	int64_t		 max_rss_kb;
	int64_t		 finished_at;
	const char	*reason;	/* NULL, "timeout", "canceled", "shutdown", ... */
	const char	*error;		/* detail for spawn/verify failures */
	int64_t		 stdout_bytes;
	int64_t		 stderr_bytes;
	int64_t		 timeout_ms;	/* the job's timeout, for the message */
	int64_t		 started_at;
	const char	*queue;
	int		 attempts;	/* this attempt's number */
	int		 max_attempts;
	const char	*node;		/* cluster: the node that ran it; NULL:
					 * this one */
};

/*
 * What the pool reports, to the arg given to pool_start.  Each is called
 * from the loop; pointers passed are valid for the call only.
 */
struct pool_cb {
	/* A worker is idle: a RUN may go to it. */
	void	(*ready)(void *arg);
	/* Job id's attempt ended as its worker said. */
	void	(*exited)(void *arg, uint64_t id, const struct job_exit *);
	/*
	 * Job id's worker died before its EXIT: the attempt is lost.  What
	 * is known of it is in ex (queue, output bytes, started_at, attempts,
	 * max_attempts; the rest absent).
	 */
	void	(*lost)(void *arg, uint64_t id, const struct job_exit *ex);
	/* New output bytes of job id are in its output file. */
	void	(*output)(void *arg, uint64_t id);
	/* 1 while the disk is full: output is then not stored. */
	int	(*storage_full)(void *arg);
	/* Storing output failed with errno err (what: "output"). */
	void	(*storage_error)(void *arg, const char *what, int err);
};

struct worker_info {
	int		 id;
	int		 pid;
	const char	*state;		/* "starting", "idle", "busy" */
	uint64_t	 job;		/* 0 if none */
	int		 attempt;	/* the job's attempt, 0 if none */
	int64_t		 started_at;
	uint64_t	 jobs_done;
};

/*
 * Makes runneld the reaper of its children (pool/child.h) and spawns
 * cfg->workers workers, reporting through cb (kept, as arg) from now on.
 * Returns 0 or a negative code.
 */
int	pool_start(struct server *, const char *worker_path,
	    const struct pool_cb *cb, void *arg);
/* Asks every worker to exit once idle; respawning stops. */
void	pool_stop(struct server *);
void	pool_free(struct server *);
/* SIGKILLs every worker process (a last resort at exit). */
void	pool_kill(struct server *);

/* A worker that said READY and has no job, or -1. */
int	pool_idle(struct pool *);
/* 1 if worker is such a worker, else 0. */
int	pool_is_idle(struct pool *, int worker);
/*
 * Holds an idle worker for job_id, claimed in the turn's transaction:
 * nothing is sent until pool_run, after the commit.  0 or -EPIPE.
 */
int	pool_reserve(struct pool *, int worker, uint64_t job_id);
/* The claim was not committed: the worker is idle again. */
void	pool_release(struct pool *, int worker);
/*
 * Sends RUN for the job its reserved worker holds.  0 (a worker that dies
 * meanwhile reports the job lost); or < 0 when no RUN can be made of the
 * job (logged; the worker is idle again) or the worker holds no such job.
 */
int	pool_run(struct pool *, int worker, const struct job *);
/* Sends CANCEL with reason to the worker running job_id; -ENOENT if none. */
int	pool_cancel(struct pool *, uint64_t job_id, const char *reason);
/* Sends CANCEL with reason for every running job; returns how many. */
int	pool_cancel_all(struct pool *, const char *reason);
/* Fills the live fields (worker, pid, output bytes) of a running job. */
int	pool_job_live(struct pool *, uint64_t job_id, struct job *);
/* Jobs running now, and attempts over whose output is still being stored. */
int	pool_busy(const struct pool *);
/* Attempts over whose end waits for their output to be stored. */
int	pool_draining(const struct pool *);
/* Workers that said HELLO and are not dead. */
int	pool_up(const struct pool *);
int	pool_size(const struct pool *);
/* Workers replaced after dying, since the start. */
uint64_t pool_restarts(const struct pool *);
void	pool_each(const struct pool *,
	    void (*cb)(void *arg, const struct worker_info *), void *arg);

#endif
