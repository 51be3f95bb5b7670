/*
 * The SQLite backend of the store, for store/sqlite*.c only: the
 * connection, its statements (each prepared once, at open) and the
 * helpers every statement runs through.  Callers include store/store.h.
 */
#ifndef RUNNEL_STORE_SQLITE_H
#define RUNNEL_STORE_SQLITE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/backend.h"

/* Inserts: one row, or INSERT_ROWS rows in one statement for batches. */
#define INSERT_JOBS "INSERT INTO jobs (type, name, queue, priority, state, " \
	"command, argv, env, cwd, stdin, timeout_ms, limits, attempts, " \
	"max_attempts, created_at, run_at, file_name, file_size, " \
	"file_sha256, after, deps_left, error, finished_at, schedule_id, " \
	"scheduled_for, webhooks, shell) VALUES "
#define INSERT_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, " \
	"?, ?, ?, ?, ?, ?, ?, ?)"
#define INSERT_PARAMS	26
#define INSERT_ROWS	16

/* A whole job row, in the order row_job (sqlite_jobs.c) reads it. */
#define JOB_COLUMNS \
	"id, type, name, queue, priority, state, command, argv, env, cwd, " \
	"stdin, timeout_ms, limits, attempts, max_attempts, created_at, " \
	"run_at, started_at, finished_at, exit_code, signal, error, worker, " \
	"stdout_bytes, stderr_bytes, cpu_ms, max_rss_kb, file_name, " \
	"file_size, file_sha256, after, deps_left, schedule_id, scheduled_for, " \
	"webhooks, shell"

/* A schedule row, in the order sqlite_sched.c reads it. */
#define SCHED_COLUMNS "id, name, cron, timezone, job, overlap, misfire, " \
	"paused, until, created_at, next_at, last_job, waiting"

/* A delivery row, in the order the backends read it (store/delivery.h). */
#define DELIVERY_COLUMNS "id, job_id, url, event, attempt, created_at, " \
	"state, tries, next_at, last_at, last_status, last_error"

/* Every statement runnel runs; the SQL is in sqlite.c. */
enum stmt_id {
	ST_INSERT,
	ST_GET,
	ST_HEAD,
	ST_CLAIM,
	ST_FINISH,
	ST_SET_STATE,
	ST_REQUEUE,
	ST_DELETE,
	ST_LIST_ALL,
	ST_LIST_STATE,
	ST_LIST_QUEUE,
	ST_LIST_TYPE,
	ST_LIST_SCHEDULE,
	ST_RUNNING,
	ST_COUNT,
	ST_FINISHED_SINCE,
	ST_OV_RETRYING,
	ST_OV_OLDEST,
	ST_OV_FAILED,
	ST_OV_FINISHED,
	ST_OV_RUNNING,
	ST_QUEUES,
	ST_DEP_ADD,
	ST_DEPENDENTS,
	ST_DEP_DONE,
	ST_DEPS_FORGET,
	ST_NEXT_DUE,
	ST_DUE,
	ST_IDEM_GET,
	ST_IDEM_PUT,
	ST_IDEM_PURGE,
	ST_QUEUE_SET,
	ST_EXPIRED,
	ST_PROMOTE,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_MARK,
	ST_UNMARK,
	ST_UNDO,
	ST_SCHED_ADD,
	ST_SCHED_GET,
	ST_SCHED_ALL,
	ST_SCHED_PUT,
	ST_SCHED_REPLAN,
	ST_SCHED_DELETE,
	ST_SCHED_TICKS_DELETE,
	ST_SCHED_NEXT,
	ST_SCHED_DUE,
	ST_SCHED_OWED,
	ST_SCHED_ADVANCE,
	ST_SCHED_MADE,
	ST_SCHED_TICK,
	ST_SCHED_TICK_JOB,
	ST_SCHED_TICKS_PURGE,
	ST_HOOK_NEXT,
	ST_HOOK_DUE,
	ST_HOOK_LEASE,
	ST_HOOK_TRY,
	ST_HOOK_TRIED,
	ST_HOOK_LIST,
	ST_HOOK_TRIES,
	ST_HOOK_QUEUE_SET,
	ST_HOOK_QUEUE_GET,
	ST_HOOK_RECORD,
	ST_HOOK_FORGET,
	ST_HOOK_FORGET_TRIES,
	ST_HOOK_ANY,
	ST_COUNT_MAX
};

struct sqlite_store {
	struct store	 base;		/* first: store.c's handle */
	sqlite3		*db;
	sqlite3_stmt	*st[ST_COUNT_MAX];
	sqlite3_stmt	*insert_many;	/* INSERT_ROWS rows */
	int		 durable;	/* sync the WAL when a commit asks to */
	int		 in_txn;
	int		 txn_lost;	/* SQLite rolled the turn's transaction back */
	int		 txn_error;	/* the code that lost it */
	int		 hooks;		/* a job or queue may have webhooks: a
					 * job's end records its deliveries */
};

/* The backend's table (sqlite.c) and its entries, store.h's contracts. */
extern const struct store_ops sqlite_ops;

static inline struct sqlite_store *
sqlite_of(const struct store *s)
{
	return (struct sqlite_store *)s;
}

void	sqlite_close(struct store *store);
int	sqlite_begin(struct store *store);
int	sqlite_in_txn(const struct store *store);
int	sqlite_commit(struct store *store, int sync);
int	sqlite_mark(struct store *store);
int	sqlite_unmark(struct store *store, int keep);
int	sqlite_ping(struct store *store);
int	sqlite_add_deps(struct store *store, uint64_t job_id,
	    const uint64_t *deps, size_t n);
int	sqlite_dependents(struct store *store, uint64_t dep_id, uint64_t **ids,
	    size_t *n);
int	sqlite_dep_done(struct store *store, uint64_t job_id);
int	sqlite_next_due(struct store *store, int64_t *run_at);
int	sqlite_due(struct store *store, int64_t now_ms, int limit,
	    void (*cb)(void *, uint64_t, const char *), void *arg);
int	sqlite_idem_get(struct store *store, const char *key, int64_t since_ms,
	    char *sha, size_t shasize, char **jobs_json, int *batch);
int	sqlite_idem_put(struct store *store, const char *key, const char *sha,
	    const char *jobs_json, int batch, int64_t now_ms);
int	sqlite_idem_purge(struct store *store, int64_t before_ms);
int	sqlite_submit(struct store *store, struct job *jobs, size_t n,
	    int64_t now_ms);
int	sqlite_get(struct store *store, uint64_t id, struct job *out);
int	sqlite_claim(struct store *store, uint64_t id, int worker,
	    int64_t now_ms, struct job *out);
int	sqlite_finish(struct store *store, const struct job_result *r);
int	sqlite_set_state(struct store *store, uint64_t id, enum job_state from,
	    enum job_state to, const char *error, int64_t finished_at);
int	sqlite_requeue(struct store *store, uint64_t id, enum job_state from,
	    int undo_attempt, int deps_left);
int	sqlite_promote(struct store *store, uint64_t id);
int	sqlite_delete(struct store *store, uint64_t id);
int	sqlite_running(struct store *store, uint64_t **ids, size_t *n);
struct store_overview;
int	sqlite_overview(struct store *store, int64_t now_ms,
	    struct store_overview *out);
int	sqlite_finished_since(struct store *store, int64_t since_ms,
	    void (*cb)(void *, int64_t), void *arg);
int	sqlite_expired(struct store *store, int64_t before_ms, int limit,
	    void (*cb)(void *, uint64_t, int), void *arg);
int	sqlite_list(struct store *store, const struct job_filter *f,
	    struct job **jobs, size_t *n, uint64_t *next);
int	sqlite_head(struct store *store, const char *queue, uint64_t *id,
	    int64_t *priority);
int	sqlite_count(struct store *store, void (*cb)(void *, const char *,
	    enum job_state, int64_t), void *arg);
int	sqlite_queue_set(struct store *store, const char *name, int paused,
	    int concurrency);
int	sqlite_queues(struct store *store, void (*cb)(void *, const char *,
	    int, int), void *arg);
/*
 * Webhooks (sqlite_hooks.c): whether any may exist (s->hooks, at open);
 * job id, just finished, gets a delivery per hook of its own and of its
 * queue that names its state; a job deleted loses its deliveries.  Each
 * does nothing while no webhook was ever set.
 */
int	sqlite_hooks_load(struct sqlite_store *);
int	sqlite_hooks_record(struct sqlite_store *, uint64_t id);
int	sqlite_hooks_forget(struct sqlite_store *, uint64_t id);

extern const struct store_sched_ops sqlite_sched_ops;
extern const struct store_hook_ops sqlite_hook_ops;

/* The schema version this runneld's migrations bring a database to. */
int		 sqlite_schema_latest(void);
/* The SQL of statement id, to name it in a log line. */
const char	*sqlite_sql(enum stmt_id);
/* An SQLite result code as 0 or a negative errno code (store.h). */
int		 sqlite_code(int rc);
/*
 * Logs what failed with SQLite's message; when SQLite rolled the turn's
 * transaction back, marks the turn lost.  Returns sqlite_code(rc).
 */
int		 sqlite_fail(struct sqlite_store *, const char *what, int rc);
/* Steps bound statement id (it returns no rows) and resets it.  0 or a code. */
int		 sqlite_run(struct sqlite_store *, enum stmt_id);
/* sqlite_run, then 0 if it changed one row, none if it changed no row. */
int		 sqlite_change(struct sqlite_store *, enum stmt_id, int none);
/*
 * Steps bound statement id and collects column 0 of every row into *ids
 * (the caller frees it), their number into *n.  Returns 0, or a code
 * with *ids NULL and *n 0.
 */
int		 sqlite_ids(struct sqlite_store *, enum stmt_id, uint64_t **ids,
		    size_t *n);

/* Binds v, or NULL when v is NULL; v must outlive the statement's step. */
static inline void
sqlite_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Binds v when present, else NULL. */
static inline void
sqlite_bind_opt(sqlite3_stmt *st, int i, int64_t v, int present)
{
	if (present)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

/* A copy of text column i (the caller frees it), NULL when NULL. */
static inline char *
sqlite_col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? strdup((const char *)t) : NULL;
}

/* Integer column i, or absent when it is NULL. */
static inline int64_t
sqlite_col_opt(sqlite3_stmt *st, int i, int64_t absent)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return absent;
	return sqlite3_column_int64(st, i);
}

#endif
