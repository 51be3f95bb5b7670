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
#include "http/request.h"
#include "pool/pool.h"		/* struct job_exit */

struct server;

int	core_start(struct server *);
/* Commits what is pending and closes the handles; core_free after the loop ran. */
void	core_stop(struct server *);
void	core_free(struct server *);
/* Schedules the end-of-turn work (dispatch, commit, publish). */
void	core_dirty(struct server *);
/* Runs the end-of-turn work now. */
void	core_flush(struct server *);

/*
 * Request-side mutations.  Each returns API_PENDING (the request is
 * answered after the commit) or API_DONE with an error in req->resp.
 * core_submit takes ownership of jobs.
 */
int	core_submit(struct server *, struct job *jobs, size_t n, int batch,
	    struct request *req);
/*
 * Submits an upload job (file_name, file_size and file_sha256 set) whose
 * complete file is at tmp_path: the job is inserted and the file moved
 * to data/files/<id>/ in the turn's transaction, committed together.
 * Takes ownership of job; on failure tmp_path is left for the caller.
 * With a key (NULL: none) it goes as core_submit_idem, request_sha
 * standing for the body.
 */
int	core_submit_upload(struct server *, struct job *job, const char *tmp_path,
	    const char *key, const char *request_sha, struct request *req);
int	core_cancel(struct server *, uint64_t id, struct request *req);
int	core_retry(struct server *, uint64_t id, struct request *req);
int	core_delete(struct server *, uint64_t id, struct request *req);
/*
 * Sets a queue's settings: paused (-1: keep) and concurrency (-1: keep,
 * 0: no limit), creating the queue.  Answers the queue after the commit.
 */
int	core_queue_set(struct server *, const char *name, int paused,
	    int concurrency, struct request *req);
/*
 * Submits with an Idempotency-Key: a key seen in the last 24 hours with
 * the same body (body_sha) answers 200 with the jobs it made; with
 * another body 422; a new key submits and remembers.  Takes jobs.
 */
int	core_submit_idem(struct server *, const char *key, const char *body_sha,
	    struct job *jobs, size_t n, int batch, const char *tmp_path,
	    struct request *req);

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
/* Renders jobs as the API's job objects, answering req with status. */
int	core_reply_job(struct server *, struct request *req, int status,
	    uint64_t id);

/*
 * The disk became full (reports kept over a failed commit are applied
 * again at once: the reserve was just given up) or has room again
 * (dispatch goes on).
 */
void	core_storage_changed(struct server *);

/* Start-up: rebuild the counts from the store. */
int	core_load(struct server *);

#endif
