/*
 * What clients do to existing jobs and queues: cancel, retry, delete,
 * queue settings; and the deletion of expired jobs (retention).  Each
 * request-side action returns 0 when done will be called after the
 * turn's commit, or a negative code with *err filled (done is then
 * never called).
 */
#ifndef RUNNEL_ACTION_H
#define RUNNEL_ACTION_H

#include <stdint.h>

#include "core/result.h"
#include "store/job.h"

struct server;

/*
 * Cancels a waiting job (completes after the commit) or ends a running
 * one (completes once its process group is gone).  Returns 1 when the
 * end cannot be waited for (runneld is stopping): done is never called,
 * the job is as it is now.
 */
int	action_cancel(struct server *, uint64_t id, core_done_cb done, void *arg,
	    struct core_error *err);
/* Queues a failed or canceled job again, behind its dependencies. */
int	action_retry(struct server *, uint64_t id, core_done_cb done, void *arg,
	    struct core_error *err);
/*
 * Deletes a finished job with its output and files: before done is
 * called, or with files_later right after, on a thread (many deletes
 * at once: the loop does not wait for their unlinks).
 */
int	action_delete(struct server *, uint64_t id, int files_later,
	    core_done_cb done, void *arg, struct core_error *err);
/*
 * Sets a queue's settings: paused (-1: keep) and concurrency (-1: keep,
 * 0: no limit), creating the queue.
 */
int	action_queue_set(struct server *, const char *name, int paused,
	    int concurrency, core_done_cb done, void *arg,
	    struct core_error *err);

/*
 * 1 when a job in state st may be canceled, retried or deleted, as far
 * as its state says: the checks the actions below make first (a retry
 * may still be refused for a failed dependency).
 */
int	action_can_cancel(enum job_state st);
int	action_can_retry(enum job_state st);
int	action_can_delete(enum job_state st);

/* Deletes a finished job without a request (retention). */
void	action_expire(struct server *, uint64_t id);

#endif
