/*
 * The pool wing's own: a worker slot and the pool, shared by pool.c (the
 * pool: start, stop, what the core asks) and worker.c (one worker's
 * process, socket and frames).  Nothing outside server/pool/ includes it.
 */
#ifndef RUNNEL_POOL_INT_H
#define RUNNEL_POOL_INT_H

#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#include "frame.h"
#include "msg.h"
#include "pool/child.h"
#include "pool/pool.h"
#include "store/job.h"
#include "store/output.h"

enum wstate {
	W_DOWN,		/* no process */
	W_STARTING,	/* spawned, no READY yet */
	W_IDLE,		/* said READY (or EXIT), no job */
	W_RESERVED,	/* claimed a job in the turn's transaction: RUN
			 * goes once it is committed */
	W_BUSY		/* RUN sent; idle again at its EXIT */
};

struct worker {
	struct pool		*pool;
	int			 id;
	enum wstate		 state;
	uv_pipe_t		 pipe;
	uv_timer_t		 respawn;
	int			 pipe_open;
	int			 exited;
	int			 eof;
	int			 pid;
	int			 hello;
	int64_t			 started_at;
	int64_t			 spawned_mono;
	int64_t			 backoff_ms;
	uint64_t		 jobs_done;
	struct frame_reader	 reader;
	/* the job, while state is W_RESERVED or W_BUSY */
	uint64_t		 job_id;
	int			 job_pid;
	int64_t			 job_started_at;
	int64_t			 timeout_ms;
	int			 attempts;
	int			 max_attempts;
	char			 queue[JOB_QUEUE_MAX + 1];
	struct output		 out;
	/* cluster mode: the RUN waits for the job's file (pool/fetch.c) */
	int			 fetching;
	const char		*fetch_cancel;	/* a CANCEL's reason meanwhile */
};

struct pool {
	struct server		*srv;
	struct child		 reaper;	/* SIGCHLD: workers and orphans */
	const struct pool_cb	*cb;
	void			*arg;		/* cb's */
	struct worker		*w;
	int			 n;
	int			 stopping;
	int			 draining;	/* attempts over whose output is
						 * still going to the database */
	uint64_t		 restarts;
	char			 path[4096];
	char			*env[6];
};

/*
 * Cluster mode: when job j is an upload whose file this node lacks,
 * fetches it and sends the RUN body b (taken: b is emptied) once it is
 * here, and returns 1; else returns 0 and b is the caller's to send.
 */
int	fetch_then_run(struct worker *w, const struct job *j,
	    struct msg_body *b);

/*
 * Starts slot w's process and watches its socket.  0, or -EIO when it
 * cannot (the slot is then settled as if it had died).
 */
int	worker_spawn(struct worker *w);
/*
 * Sends an encoded body (msg.h) as a frame about job_id.  0, or -EPIPE /
 * -ENOMEM when it cannot: the worker is dying or soon will be.
 */
int	worker_send(struct worker *w, uint64_t job_id, const struct msg_body *);
/* Slot w's process ended with status: settle it once its socket is done too. */
void	worker_reaped(struct worker *w, int status);

#endif
