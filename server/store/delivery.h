/*
 * Webhook deliveries as stored: one per hook of a finished job whose
 * "on" names its state, recorded as the job finishes
 * (SQLite: the store calls that finish a job; PostgreSQL: a trigger on
 * jobs), in its transaction, so none is lost between the finish and its
 * record.  The sender (hook/deliver.c) leases a due one, POSTs it, and
 * stores each try's answer; pending ones are tried again with back-off
 * for up to a day.
 */
#ifndef RUNNEL_STORE_DELIVERY_H
#define RUNNEL_STORE_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

struct store;

enum delivery_state {
	DELIVERY_PENDING,
	DELIVERY_DELIVERED,
	DELIVERY_FAILED,
	DELIVERY_STATE_COUNT
};

/* Absent values: 0 for times, -1 for last_status, NULL for strings. */
struct delivery {
	uint64_t	 id;
	uint64_t	 job_id;
	char		*url;
	char		*event;		/* job.succeeded, job.failed, job.canceled */
	int		 attempt;	/* the job's attempt that finished */
	int64_t		 created_at;
	int		 state;		/* enum delivery_state */
	int		 tries;
	int64_t		 next_at;
	int64_t		 last_at;
	int		 last_status;
	char		*last_error;
};

/* One try and its answer. */
struct delivery_try {
	uint64_t	 delivery_id;
	int		 try;
	int64_t		 at;
	int		 status;	/* -1: no answer */
	char		*error;
	char		*response;	/* the answer's first bytes */
};

void		 delivery_clear(struct delivery *);
void		 delivery_free_all(struct delivery *, size_t n);
void		 delivery_try_free_all(struct delivery_try *, size_t n);
const char	*delivery_state_name(int);
int		 delivery_state_parse(const char *);

/*
 * In the turn's transaction where they write.  0 or a code of store.h;
 * arrays are the caller's to free with the *_free_all above.
 */
/* The first next_at of the pending deliveries, 0 when none. */
int	store_hook_next(struct store *, int64_t *at);
/* At most limit pending deliveries due at now_ms, first due first. */
int	store_hook_due(struct store *, int64_t now_ms, int limit,
	    struct delivery **out, size_t *n);
/*
 * Takes a pending delivery for a try: counts it and moves its next_at to
 * until (a try's lease: a sender lost meanwhile leaves it due again
 * then).  -ESTALE when it is no longer pending or its next_at moved.
 */
int	store_hook_lease(struct store *, uint64_t id, int64_t next_at,
	    int64_t until);
/* Stores try t's answer, and the delivery's state and next try after it. */
int	store_hook_tried(struct store *, const struct delivery_try *t,
	    int state, int64_t next_at);
/* A job's deliveries by id, and all their tries by delivery and try. */
int	store_hook_list(struct store *, uint64_t job_id, struct delivery **out,
	    size_t *n);
int	store_hook_tries(struct store *, uint64_t job_id,
	    struct delivery_try **out, size_t *n);
/* Sets a queue's webhooks (JSON text, NULL: none), creating the queue. */
int	store_hook_queue_set(struct store *, const char *queue,
	    const char *webhooks_json);
/* A queue's webhooks into *json (the caller frees; NULL: none). */
int	store_hook_queue_get(struct store *, const char *queue, char **json);

#endif
