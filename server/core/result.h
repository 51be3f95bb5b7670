/*
 * What the core's operations give back: a refusal's detail, and the
 * result handed to a completion callback after the commit.  Apart from
 * core.h so that those who only complete (events.h) need no more.
 */
#ifndef RUNNEL_RESULT_H
#define RUNNEL_RESULT_H

#include <stddef.h>
#include <stdint.h>

struct job;

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

#endif
