/*
 * The store: every query of runnel lives behind this interface, and
 * nothing of the backend that answers it (SQLite: store/sqlite*.c;
 * PostgreSQL: store/pg*.c; store.c picks one) reaches callers.  One connection, used only from the loop thread.
 * Writes go into the turn's transaction (store_begin is idempotent) and
 * become durable at store_commit; readers in the same turn see them.
 *
 * Errors are negative errno codes, the detail logged once by the store:
 *   -ENOMEM  out of memory
 *   -ENOSPC  the disk is full
 *   -EIO     any other failure of the database
 *   -ENOTCONN  the database cannot be reached (PostgreSQL down, cut off
 *            or not answering): nothing was done; the connection is
 *            being made again (store/cluster.h, store_link_*)
 *   -EEXIST  a constraint of the schema refused a write
 * and, where a function says so, -ENOENT, -EBUSY or -EPROTO.  A write
 * that fails with -ENOSPC, -EIO or -ENOTCONN may take the whole turn's
 * transaction with it: then every later write of the turn returns the
 * same code, and store_commit reports it and starts afresh.
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

/* Which of a filter's bounds are set (a zeroed filter has none). */
#define FILTER_CREATED_AFTER	0x01
#define FILTER_CREATED_BEFORE	0x02
#define FILTER_FINISHED_AFTER	0x04
#define FILTER_FINISHED_BEFORE	0x08
#define FILTER_EXIT_CODE	0x10

struct job_filter {
	uint32_t	 states;	/* bit per enum job_state; 0 = all */
	uint32_t	 types;		/* bit per enum job_type; 0 = all */
	const char	*queue;		/* NULL = all */
	uint64_t	 schedule;	/* made by this schedule; 0 = any */
	uint64_t	 before;	/* ids below this; 0 = from the newest */
	int		 limit;
	/* the search's: see store/list_where.h */
	const char	*q;		/* in name, command, argv or file name
					 * (ASCII case folded); NULL = any */
	uint64_t	 q_id;		/* q is this id too; 0 = not a number */
	const char	*name;		/* exactly this name; NULL = any */
	unsigned	 has;		/* FILTER_* bits: the bounds below set */
	int64_t		 created_after_ms;	/* created_at >= it */
	int64_t		 created_before_ms;	/* created_at < it */
	int64_t		 finished_after_ms;	/* finished_at >= it */
	int64_t		 finished_before_ms;	/* finished_at < it */
	int		 exit_code;	/* finished, having exited with it */
	int64_t		 window;	/* ids a search page examines; 0:
					 * LIST_WINDOW (store/list_where.h) */
};

/* ---- the connection and the turn's transaction ---- */

/*
 * Opens the database named by where: a PostgreSQL URI or connection
 * string (store_is_postgresql), else the path of an SQLite file,
 * created if need be.  Applies pending migrations and prepares
 * statements.  Returns 0 with *out set, or a code with *out NULL:
 * -EPROTO for a database made by a newer runneld (refused, untouched).
 */
int	store_open(struct store **out, const char *where, enum store_durability);
/* 1 if where names a PostgreSQL database (a URI or key=value string). */
int	store_is_postgresql(const char *where);
/* The backend's name: "sqlite" or "postgresql". */
const char *store_backend(const struct store *);
/* Commits (and syncs) a turn still open, then closes; NULL is a no-op. */
void	store_close(struct store *);

/* Starts the turn's transaction if none is open.  Returns 0 or a code. */
int	store_begin(struct store *);
/* 1 while the turn's transaction is open, else 0. */
int	store_in_txn(const struct store *);
/*
 * Commits the turn's transaction (0 when none is open).  With sync, and
 * STORE_DURABLE, the commit is on stable storage when this returns and
 * survives a power loss; without, it survives a crash of runneld only.
 * Returns 0, or a code: when the commit failed it was rolled back and
 * none of the turn's writes happened; when only the sync failed they
 * are committed, maybe not yet on stable storage.
 */
int	store_commit(struct store *, int sync);

/*
 * Savepoints make a multi-statement change (a batch) all-or-nothing
 * inside the turn's transaction: store_mark (which begins the turn if
 * needed), writes, then store_unmark(keep = 0) undoes them or
 * store_unmark(keep = 1) keeps them.  Both return 0 or a code, and
 * store_unmark ends the savepoint in every case.  On PostgreSQL a write
 * that fails between them fails the savepoint, not the turn; keep = 1
 * after such a failure keeps nothing: it undoes the savepoint's writes
 * and returns the failed write's code (callers undo on any failure).
 */
int	store_mark(struct store *);
int	store_unmark(struct store *, int keep);

/* 0 if a write transaction can be taken now (healthz), else a code. */
int	store_ping(struct store *);

/* ---- jobs ---- */

/*
 * Inserts n jobs (state set by the caller); sets their id and
 * created_at (now_ms).  Ids ascend in the order of jobs and are never
 * reused; they may not be consecutive (on PostgreSQL other nodes insert
 * meanwhile).  Returns 0 or a code (undo a partial batch with a
 * savepoint).
 */
int	store_submit(struct store *, struct job *jobs, size_t n,
	    int64_t now_ms);
/*
 * Reads job id into *out (job_clear it after).  Returns 0, -ENOENT if
 * there is none, -EIO if its row is unreadable, or a code; on failure
 * *out is empty, as job_init leaves it.
 */
int	store_get(struct store *, uint64_t id, struct job *out);
/*
 * The runnable job of queue that comes first: smallest priority, then
 * smallest id.  Returns 1 and sets *id and *priority, 0 when the queue
 * has none, or a code.
 */
int	store_head(struct store *, const char *queue, uint64_t *id,
	    int64_t *priority);
/*
 * Claims job id if it is still queued: it becomes running on worker,
 * started at now_ms, with one more attempt and its last result cleared.
 * Returns 1 and fills *out (job_clear it), 0 if it was not queued, or a
 * code.
 */
int	store_claim(struct store *, uint64_t id, int worker, int64_t now_ms,
	    struct job *out);
/*
 * Records the end of a running job's attempt.  Returns 0, -EBUSY if the
 * job is not running (or not there), or a code.
 */
int	store_finish(struct store *, const struct job_result *);
/*
 * Moves a job from one state to another, recording error (may be NULL)
 * and finished_at (0 to clear).  Returns 0, -EBUSY when it is not in
 * state from (or not there), or a code.
 */
int	store_set_state(struct store *, uint64_t id, enum job_state from,
	    enum job_state to, const char *error, int64_t finished_at);
/*
 * Queues a job in state from again, clearing its previous result;
 * scheduled instead while deps_left > 0 of its dependencies have not
 * succeeded.  undo_attempt also takes back the attempt count (a
 * shutdown ended the run through no fault of the job).  max_attempts
 * is raised to at least the attempts made so far plus one, so that a
 * job retried by hand runs once more and never shows more attempts
 * than max_attempts.  Returns 0,
 * -EBUSY when it is not in state from (or not there), or a code.
 */
int	store_requeue(struct store *, uint64_t id, enum job_state from,
	    int undo_attempt, int deps_left);
/*
 * A scheduled job with nothing left to wait for becomes queued.
 * Returns 0, -EBUSY if it is not such a job, or a code.
 */
int	store_promote(struct store *, uint64_t id);
/*
 * Deletes a job and its dependency records.  Returns 0, -ENOENT if
 * there is none, or a code.
 */
int	store_delete(struct store *, uint64_t id);

/*
 * Lists jobs newest first.  *jobs gets up to f->limit (> 0) entries
 * (free with job_free_all), *next the cursor for the next page (to
 * pass as f->before) or 0 at the end; a page may hold fewer than limit
 * jobs and still have a next.  Returns 0 or a code, with *jobs NULL and
 * *n 0 on failure.
 */
int	store_list(struct store *, const struct job_filter *f,
	    struct job **jobs, size_t *n, uint64_t *next);

/*
 * The ids of the jobs in state running into *ids (the caller frees it)
 * and their number into *n.  Returns 0, or a code with *ids NULL.
 */
int	store_running(struct store *, uint64_t **ids, size_t *n);

/*
 * Calls cb for every (queue, state) pair that has jobs, with their
 * number.  Returns 0 or a code.
 */
int	store_count(struct store *,
	    void (*cb)(void *arg, const char *queue, enum job_state, int64_t n),
	    void *arg);
/*
 * Calls cb with the finished_at of every job finished at or after
 * since_ms.  Returns 0 or a code.
 */
int	store_finished_since(struct store *, int64_t since_ms,
	    void (*cb)(void *arg, int64_t finished_at), void *arg);
/*
 * Calls cb for up to limit (> 0) jobs finished before before_ms, oldest
 * first, once all are read (cb may delete them).  Returns how many, or
 * a code (then cb was not called).
 */
int	store_expired(struct store *, int64_t before_ms, int limit,
	    void (*cb)(void *arg, uint64_t id, int attempts), void *arg);

/* ---- queues ---- */

/*
 * Sets a queue's settings (concurrency <= 0: no limit), creating it.
 * Returns 0 or a code.
 */
int	store_queue_set(struct store *, const char *name, int paused,
	    int concurrency);
/*
 * Calls cb for every known queue, in name order, with its settings
 * (concurrency -1: no limit).  Returns 0 or a code.
 */
int	store_queues(struct store *,
	    void (*cb)(void *arg, const char *name, int paused, int concurrency),
	    void *arg);

/* ---- flow control: dependencies, time, idempotency ---- */

/*
 * Records that job_id waits for each of deps (a pair recorded already
 * is kept once).  Returns 0 or a code.
 */
int	store_add_deps(struct store *, uint64_t job_id, const uint64_t *deps,
	    size_t n);
/*
 * The jobs waiting for dep_id into *ids (the caller frees it), their
 * number into *n.  Returns 0, or a code with *ids NULL.
 */
int	store_dependents(struct store *, uint64_t dep_id, uint64_t **ids,
	    size_t *n);
/*
 * One dependency of job_id succeeded: a scheduled job waiting for
 * some has one less to wait for.  Returns 0 (also when job_id was not
 * waiting: nothing changes then), or a code.
 */
int	store_dep_done(struct store *, uint64_t job_id);
/*
 * The earliest run_at of a scheduled job waiting only for its time into
 * *run_at, 0 if none.  Returns 0 or a code.
 */
int	store_next_due(struct store *, int64_t *run_at);
/*
 * Calls cb for up to limit (> 0) scheduled jobs with nothing to wait for
 * whose run_at is at or before now_ms, earliest first, once all are
 * read (cb may change them).  Returns how many, or a code (then cb was
 * not called).
 */
int	store_due(struct store *, int64_t now_ms, int limit,
	    void (*cb)(void *arg, uint64_t id, const char *queue), void *arg);
/*
 * The record of an Idempotency-Key made at or after since_ms: returns 1
 * with the body's hash in sha (shasize bytes, NUL-terminated), the job
 * ids (a JSON array, caller frees *jobs_json) and whether it was a
 * batch; 0 when there is none (*jobs_json NULL); or a code.
 */
int	store_idem_get(struct store *, const char *key, int64_t since_ms,
	    char *sha, size_t shasize, char **jobs_json, int *batch);
/*
 * Records (or replaces) what key made, at now_ms.  Returns 0 or a code.
 */
int	store_idem_put(struct store *, const char *key, const char *sha,
	    const char *jobs_json, int batch, int64_t now_ms);
/* Forgets keys made before before_ms.  Returns how many, or a code. */
int	store_idem_purge(struct store *, int64_t before_ms);

#endif
