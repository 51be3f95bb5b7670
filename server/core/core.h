/*
 * The core: the one place where jobs change state.  Mutations of one
 * loop turn share one transaction (group commit); at the end of the turn
 * the dispatcher claims jobs for idle workers, the transaction commits,
 * and only then are RUN frames sent, requests answered and events
 * published.  Nothing here polls: a submit, a worker becoming free or a
 * finished job schedules the end-of-turn work.
 */
#ifndef RUNNEL_CORE_H
#define RUNNEL_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "store/job.h"

struct server;

/* How a worker says a job's process ended (docs/protocol.md, EXIT). */
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
};

/*
 * Why a request-side operation was refused, beside its negative code:
 * -ENOENT no such job, -EBUSY the job's state does not allow it,
 * -EAGAIN too many jobs wait (--max-queued), -EINVAL a dependency that
 * does not exist, -EEXIST an Idempotency-Key used for another request,
 * -ESHUTDOWN draining, -ENOSPC/-EIO storage, -ENOMEM.
 */
struct core_error {
	char		 field[96];	/* the field at fault; "" if none */
	char		 message[256];	/* "" when the code says it all */
	int64_t		 retry_after_s;	/* -EAGAIN: when room is expected */
};

/*
 * What a pending operation did, given to its completion callback once
 * the turn's transaction committed (rc 0) or failed (rc < 0: none of it
 * happened).  Valid during the call only.
 */
struct core_result {
	int		 rc;
	int		 created;	/* submit: 1 new jobs, 0 a replayed key */
	const struct job *jobs;		/* submit: the jobs */
	size_t		 njobs;
	int		 batch;		/* submit: the request was a batch */
	uint64_t	 id;		/* cancel, retry, delete, wait: the job */
	const char	*queue;		/* queue settings: its name */
};

/* Completion of a pending operation; arg is the caller's. */
typedef void (*core_done_cb)(void *arg, const struct core_result *);

int	core_start(struct server *);
/* Commits what is pending and closes the handles; core_free after the loop ran. */
void	core_stop(struct server *);
void	core_free(struct server *);
/* Schedules the end-of-turn work (dispatch, commit, publish). */
void	core_dirty(struct server *);
/* Runs the end-of-turn work now. */
void	core_flush(struct server *);

/*
 * Request-side mutations.  Each returns 0 when done will be called after
 * the turn's commit, or a negative code with *err filled (done is then
 * never called).  The submits take ownership of their jobs either way.
 */
int	core_submit(struct server *, struct job *jobs, size_t n, int batch,
	    core_done_cb done, void *arg, struct core_error *err);
/*
 * Submits with an Idempotency-Key: a key seen in the last 24 hours with
 * the same body (body_sha) completes with the jobs it made (created 0);
 * with another body -EEXIST; a new key submits and remembers.
 */
int	core_submit_idem(struct server *, const char *key, const char *body_sha,
	    struct job *jobs, size_t n, int batch, core_done_cb done,
	    void *arg, struct core_error *err);
/*
 * Submits an upload job (file_name, file_size and file_sha256 set) whose
 * complete file is at tmp_path: the job is inserted and the file moved
 * to data/files/<id>/ in the turn's transaction, committed together.
 * With a key (NULL: none) it goes as core_submit_idem, request_sha
 * standing for the body.  On failure tmp_path is left for the caller.
 */
int	core_submit_upload(struct server *, struct job *job, const char *tmp_path,
	    const char *key, const char *request_sha, core_done_cb done,
	    void *arg, struct core_error *err);
/*
 * Cancels a waiting job (completes after the commit) or ends a running
 * one (completes once its process group is gone).  Returns 1 when the
 * end cannot be waited for (runneld is stopping): done is never called,
 * the job is as it is now.
 */
int	core_cancel(struct server *, uint64_t id, core_done_cb done, void *arg,
	    struct core_error *err);
/* Queues a failed or canceled job again, behind its dependencies. */
int	core_retry(struct server *, uint64_t id, core_done_cb done, void *arg,
	    struct core_error *err);
/* Deletes a finished job with its output and files. */
int	core_delete(struct server *, uint64_t id, core_done_cb done, void *arg,
	    struct core_error *err);
/*
 * Sets a queue's settings: paused (-1: keep) and concurrency (-1: keep,
 * 0: no limit), creating the queue.
 */
int	core_queue_set(struct server *, const char *name, int paused,
	    int concurrency, core_done_cb done, void *arg,
	    struct core_error *err);

/* Start-up: jobs a dead runneld left running are retried or failed. */
int	core_recover(struct server *);
/* Deletes a finished job without a request (retention). */
void	core_expire(struct server *, uint64_t id);
/* A scheduled job's time came, or its last dependency succeeded. */
int	core_promote(struct server *, uint64_t id, const char *queue);

/* Worker-side events, from the pool. */
void	core_worker_ready(struct server *);
void	core_job_exited(struct server *, uint64_t id, const struct job_exit *);
void	core_job_lost(struct server *, uint64_t id, const char *queue,
	    int64_t stdout_bytes, int64_t stderr_bytes, int64_t started_at);

/* Reads job id into *j with its live fields (pid, output bytes) filled. */
int	core_job_get(struct server *, uint64_t id, struct job *j);

/*
 * The disk became full (reports kept over a failed commit are applied
 * again at once: the reserve was just given up) or has room again
 * (dispatch goes on).
 */
void	core_storage_changed(struct server *);

/* Start-up: rebuild the counts from the store. */
int	core_load(struct server *);

#endif
