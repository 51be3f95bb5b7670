/*
 * The store: every SQL statement of runnel lives behind this interface
 * (a PostgreSQL backend is planned; keep SQLite out of callers).
 * One connection, used only from the loop thread.  Writes go into the
 * turn's transaction (store_begin is idempotent) and become durable at
 * store_commit; readers in the same turn see them.
 */
#ifndef RUNNEL_STORE_H
#define RUNNEL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store/job.h"

struct store;

enum store_durability {
	STORE_DURABLE,		/* an acknowledged commit survives power loss */
	STORE_FAST		/* commits survive a crash of runneld only */
};

/* What a worker reports when a job's process ended. */
struct job_result {
	uint64_t	 id;
	enum job_state	 state;		/* SUCCEEDED, FAILED, CANCELED, or
					 * SCHEDULED for a retry at run_at */
	int64_t		 run_at;
	int		 exit_code;	/* -1 if none */
	int		 signal;	/* -1 if none */
	const char	*error;		/* NULL if none */
	int64_t		 started_at;	/* when the process started; 0: keep the claim's */
	int64_t		 finished_at;
	int64_t		 stdout_bytes;
	int64_t		 stderr_bytes;
	int64_t		 cpu_ms;	/* -1 if unknown */
	int64_t		 max_rss_kb;	/* -1 if unknown */
};

struct job_filter {
	uint32_t	 states;	/* bit per enum job_state; 0 = all */
	uint32_t	 types;		/* bit per enum job_type; 0 = all */
	const char	*queue;		/* NULL = all */
	uint64_t	 before;	/* ids below this; 0 = from the newest */
	int		 limit;
};

/*
 * Opens (creating) the database at path, applies pending migrations and
 * prepares statements.  Refuses a database newer than this binary.
 * Returns 0 or a negative code; the detail is logged.
 */
int	store_open(struct store **out, const char *path, enum store_durability);
void	store_close(struct store *);

/* Starts the turn's transaction if none is open.  Returns 0 or -EIO. */
int	store_begin(struct store *);
int	store_in_txn(const struct store *);
/*
 * Commits the turn's transaction; with sync (and STORE_DURABLE) it is on
 * disk when this returns, as synchronous=FULL would have it.  Without,
 * it survives a crash of runneld but maybe not a power loss.  Returns 0,
 * or -ENOSPC/-EIO after rolling back: none of the turn's writes happened.
 */
int	store_commit(struct store *, int sync);

/*
 * Savepoints make a multi-statement change (a batch) all-or-nothing
 * inside the turn's transaction: store_mark, writes, then
 * store_unmark(keep = 0) undoes them.
 */
int	store_mark(struct store *);
int	store_unmark(struct store *, int keep);

/*
 * Inserts n jobs (state set by the caller); sets their id and created_at.
 * Ids are consecutive and in order.
 */
int	store_submit(struct store *, struct job *jobs, size_t n, int64_t now_ms);
/* Reads job id into *out (job_clear it after).  -ENOENT if none. */
int	store_get(struct store *, uint64_t id, struct job *out);
/*
 * The runnable job of queue that comes first: smallest priority, then
 * smallest id.  Returns 1 and sets *id and *priority, 0 when the queue
 * has none, or < 0.
 */
int	store_head(struct store *, const char *queue, uint64_t *id,
	    int64_t *priority);
/*
 * Claims job id if it is still queued: it becomes running with one more
 * attempt.  Returns 1 and fills *out, 0 if it was not queued, or < 0.
 */
int	store_claim(struct store *, uint64_t id, int worker, int64_t now_ms,
	    struct job *out);
/* Records the end of a running job's attempt.  -ENOENT, -EBUSY if not running. */
int	store_finish(struct store *, const struct job_result *);
/*
 * Moves a job from one state to another, recording error (may be NULL)
 * and finished_at (0 to clear).  -EBUSY when it is not in state from.
 */
int	store_set_state(struct store *, uint64_t id, enum job_state from,
	    enum job_state to, const char *error, int64_t finished_at);
/*
 * Queues a finished (failed or canceled) job again, clearing its
 * previous result; scheduled instead while deps_left > 0 of its
 * dependencies have not succeeded.  undo_attempt also takes back the
 * attempt count (a shutdown ended the run through no fault of the job).
 */
int	store_requeue(struct store *, uint64_t id, enum job_state from,
	    int undo_attempt, int deps_left);
/* Deletes a job row.  -ENOENT if none. */
int	store_delete(struct store *, uint64_t id);

/*
 * Lists jobs newest first.  *jobs gets up to f->limit entries (caller
 * frees with store_free_jobs), *next the cursor for the next page or 0.
 */
int	store_list(struct store *, const struct job_filter *f,
	    struct job **jobs, size_t *n, uint64_t *next);
void	store_free_jobs(struct job *jobs, size_t n);

/* The ids of the jobs in state running (caller frees *ids). */
int	store_running(struct store *, uint64_t **ids, size_t *n);
/* A scheduled job with nothing to wait for becomes queued; -EBUSY if not. */
int	store_promote(struct store *, uint64_t id);

/* Calls cb for every (queue, state) pair with its number of jobs. */
int	store_count(struct store *,
	    void (*cb)(void *arg, const char *queue, enum job_state, int64_t n),
	    void *arg);
/* Calls cb with the finished_at of every job finished since since_ms. */
int	store_finished_since(struct store *, int64_t since_ms,
	    void (*cb)(void *arg, int64_t finished_at), void *arg);

/* Makes sure queue exists in the queues table (in the turn's transaction). */
int	store_queue_add(struct store *, const char *queue);
/* Calls cb for every known queue with its settings. */
int	store_queues(struct store *,
	    void (*cb)(void *arg, const char *name, int paused, int concurrency),
	    void *arg);

/* 0 if a write transaction can be taken (healthz), else < 0. */
int	store_ping(struct store *);

/* ---- flow control ---- */

/* Records that job_id waits for each of deps. */
int	store_add_deps(struct store *, uint64_t job_id, const uint64_t *deps,
	    size_t n);
/* The jobs waiting for dep_id into *ids (caller frees). */
int	store_dependents(struct store *, uint64_t dep_id, uint64_t **ids,
	    size_t *n);
/* One dependency of a scheduled job succeeded.  0, or -EBUSY if it is not waiting. */
int	store_dep_done(struct store *, uint64_t job_id);
/* The earliest run_at of a job waiting only for its time; *run_at 0 if none. */
int	store_next_due(struct store *, int64_t *run_at);
/* Calls cb for up to limit jobs due at now_ms, earliest first; returns how many. */
int	store_due(struct store *, int64_t now_ms, int limit,
	    void (*cb)(void *arg, uint64_t id, const char *queue), void *arg);
/*
 * The record of an Idempotency-Key made since since_ms: returns 1 with
 * the body's hash, the job ids (JSON array, caller frees) and whether it
 * was a batch; 0 when there is none.
 */
int	store_idem_get(struct store *, const char *key, int64_t since_ms,
	    char *sha, size_t shasize, char **jobs_json, int *batch);
int	store_idem_put(struct store *, const char *key, const char *sha,
	    const char *jobs_json, int batch, int64_t now_ms);
/* Forgets keys made before before_ms; returns how many. */
int	store_idem_purge(struct store *, int64_t before_ms);
/* Sets a queue's settings (concurrency <= 0: no limit), creating it. */
int	store_queue_set(struct store *, const char *name, int paused,
	    int concurrency);
/* Calls cb for up to limit jobs finished before before_ms, oldest first. */
int	store_expired(struct store *, int64_t before_ms, int limit,
	    void (*cb)(void *arg, uint64_t id, int attempts), void *arg);

#endif
