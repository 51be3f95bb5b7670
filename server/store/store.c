/*
 * The SQLite store: the database file, its pragmas and migrations, and
 * every statement runnel runs, each prepared once.  Errors are logged
 * here once with sqlite3_errmsg and returned as negative errno codes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "embed.h"
#include "log.h"
#include "store/store.h"

extern const struct embed_file schema_files[];

/* Inserts: one row, or INSERT_ROWS rows in one statement for batches. */
#define INSERT_JOBS "INSERT INTO jobs (type, name, queue, priority, state, " \
	"command, argv, env, cwd, stdin, timeout_ms, limits, attempts, " \
	"max_attempts, created_at, run_at, file_name, file_size, " \
	"file_sha256, after, deps_left, error, finished_at) VALUES "
#define INSERT_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, " \
	"?, ?, ?, ?)"
#define INSERT_PARAMS	22
#define INSERT_ROWS	16

#define JOB_COLUMNS \
	"id, type, name, queue, priority, state, command, argv, env, cwd, " \
	"stdin, timeout_ms, limits, attempts, max_attempts, created_at, " \
	"run_at, started_at, finished_at, exit_code, signal, error, worker, " \
	"stdout_bytes, stderr_bytes, cpu_ms, max_rss_kb, file_name, " \
	"file_size, file_sha256, after, deps_left"

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
	ST_RUNNING,
	ST_COUNT,
	ST_FINISHED_SINCE,
	ST_QUEUE_ADD,
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
	ST_COUNT_MAX
};

static const char *stmt_sql[ST_COUNT_MAX] = {
	[ST_INSERT] = INSERT_JOBS INSERT_ROW,
	[ST_GET] = "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?1",
	/* The head of one queue: one seek on the runnable index. */
	[ST_HEAD] = "SELECT id, priority FROM jobs WHERE state = 'queued' "
	    "AND queue = ?1 ORDER BY priority, id LIMIT 1",
	[ST_CLAIM] = "UPDATE jobs SET state = 'running', "
	    "attempts = attempts + 1, started_at = ?2, worker = ?3, "
	    "finished_at = NULL, exit_code = NULL, signal = NULL, "
	    "error = NULL, stdout_bytes = 0, stderr_bytes = 0, "
	    "cpu_ms = NULL, max_rss_kb = NULL "
	    "WHERE id = ?1 AND state = 'queued'",
	/* The end of an attempt: finished, or scheduled again (?12: when). */
	[ST_FINISH] = "UPDATE jobs SET state = ?2, exit_code = ?3, "
	    "signal = ?4, error = ?5, finished_at = ?6, stdout_bytes = ?7, "
	    "stderr_bytes = ?8, cpu_ms = ?9, max_rss_kb = ?10, "
	    "started_at = coalesce(?11, started_at), "
	    "run_at = coalesce(?12, run_at) "
	    "WHERE id = ?1 AND state = 'running'",
	[ST_SET_STATE] = "UPDATE jobs SET state = ?3, error = ?4, "
	    "finished_at = ?5 WHERE id = ?1 AND state = ?2",
	[ST_REQUEUE] = "UPDATE jobs SET state = CASE WHEN ?4 > 0 THEN "
	    "'scheduled' ELSE 'queued' END, deps_left = ?4, "
	    "attempts = attempts - ?3, started_at = NULL, finished_at = NULL, "
	    "exit_code = NULL, signal = NULL, error = NULL, "
	    "stdout_bytes = 0, stderr_bytes = 0, cpu_ms = NULL, "
	    "max_rss_kb = NULL WHERE id = ?1 AND state = ?2",
	[ST_DELETE] = "DELETE FROM jobs WHERE id = ?1",
	/* Listing scans one index newest first; columns after id feed the
	 * filters the index does not cover. */
	[ST_LIST_ALL] = "SELECT id, state, queue, type FROM jobs "
	    "WHERE id < ?2 ORDER BY id DESC LIMIT ?3",
	[ST_LIST_STATE] = "SELECT id, state, queue, type FROM jobs "
	    "WHERE state = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
	[ST_LIST_QUEUE] = "SELECT id, state, queue, type FROM jobs "
	    "WHERE queue = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
	[ST_LIST_TYPE] = "SELECT id, state, queue, type FROM jobs "
	    "WHERE type = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
	[ST_RUNNING] = "SELECT id, attempts, max_attempts FROM jobs "
	    "WHERE state = 'running'",
	[ST_COUNT] = "SELECT queue, state, count(*) FROM jobs "
	    "GROUP BY queue, state",
	[ST_FINISHED_SINCE] = "SELECT finished_at FROM jobs "
	    "WHERE finished_at >= ?1",
	[ST_QUEUE_ADD] = "INSERT OR IGNORE INTO queues (name) VALUES (?1)",
	[ST_QUEUES] = "SELECT name, paused, concurrency FROM queues "
	    "ORDER BY name",
	[ST_DEP_ADD] = "INSERT OR IGNORE INTO job_deps (dep_id, job_id) "
	    "VALUES (?1, ?2)",
	[ST_DEPENDENTS] = "SELECT job_id FROM job_deps WHERE dep_id = ?1",
	[ST_DEP_DONE] = "UPDATE jobs SET deps_left = deps_left - 1 "
	    "WHERE id = ?1 AND state = 'scheduled' AND deps_left > 0",
	[ST_DEPS_FORGET] = "DELETE FROM job_deps WHERE job_id = ?1 OR dep_id = ?1",
	[ST_NEXT_DUE] = "SELECT min(run_at) FROM jobs INDEXED BY jobs_due "
	    "WHERE state = "
	    "'scheduled' AND deps_left = 0 AND run_at IS NOT NULL",
	/* INDEXED BY: the planner would take jobs_state and go through all
	 * that is scheduled (and sort it), for every batch. */
	[ST_DUE] = "SELECT id, queue FROM jobs INDEXED BY jobs_due "
	    "WHERE state = 'scheduled' "
	    "AND deps_left = 0 AND run_at IS NOT NULL AND run_at <= ?1 "
	    "ORDER BY run_at, id LIMIT ?2",
	[ST_IDEM_GET] = "SELECT body_sha, jobs, batch FROM idempotency "
	    "WHERE key = ?1 AND created_at >= ?2",
	[ST_IDEM_PUT] = "INSERT INTO idempotency (key, body_sha, jobs, batch, "
	    "created_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key) DO "
	    "UPDATE SET body_sha = excluded.body_sha, jobs = excluded.jobs, "
	    "batch = excluded.batch, created_at = excluded.created_at",
	[ST_IDEM_PURGE] = "DELETE FROM idempotency WHERE created_at < ?1",
	[ST_QUEUE_SET] = "INSERT INTO queues (name, paused, concurrency) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET "
	    "paused = excluded.paused, concurrency = excluded.concurrency",
	[ST_EXPIRED] = "SELECT id, attempts FROM jobs WHERE finished_at IS "
	    "NOT NULL AND finished_at < ?1 ORDER BY finished_at LIMIT ?2",
	[ST_PROMOTE] = "UPDATE jobs SET state = 'queued' WHERE id = ?1 AND "
	    "state = 'scheduled' AND deps_left = 0",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_MARK] = "SAVEPOINT batch",
	[ST_UNMARK] = "RELEASE batch",
	[ST_UNDO] = "ROLLBACK TO batch",
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*st[ST_COUNT_MAX];
	sqlite3_stmt	*insert_many;	/* INSERT_ROWS rows */
	int		 durable;	/* sync the WAL when a commit asks to */
	int		 in_txn;
	int		 txn_lost;	/* SQLite rolled the turn's transaction back */
	int		 txn_error;	/* the code that lost it */
};

static int
store_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	default:
		return -EIO;
	}
}

/*
 * Some errors (SQLITE_FULL, I/O errors) make SQLite roll back the whole
 * transaction: then every write of the turn is gone and no further write
 * may run outside it, so the turn is marked lost until store_commit.
 */
static int
store_fail(struct store *s, const char *what, int rc)
{
	log_warnx("store: %s: %s (%d)", what, sqlite3_errmsg(s->db), rc);
	if (s->in_txn && !s->txn_lost && sqlite3_get_autocommit(s->db)) {
		s->txn_lost = 1;
		s->txn_error = store_code(rc);
	}
	return store_code(rc);
}

/* Steps a statement that returns no rows, then resets it. */
static int
stmt_exec(struct store *s, enum stmt_id id)
{
	sqlite3_stmt	*st = s->st[id];
	int		 rc;

	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, stmt_sql[id], rc);
	return 0;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void
bind_opt(sqlite3_stmt *st, int i, int64_t v, int present)
{
	if (present)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static int
exec_sql(struct store *s, const char *sql)
{
	char	*err = NULL;
	int	 rc;

	if ((rc = sqlite3_exec(s->db, sql, NULL, NULL, &err)) != SQLITE_OK) {
		log_warnx("store: %s: %s", sql, err ? err : sqlite3_errstr(rc));
		sqlite3_free(err);
		return store_code(rc);
	}
	return 0;
}

static int
user_version(struct store *s, int *v)
{
	sqlite3_stmt	*st;
	int		 rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, "PRAGMA user_version", rc);
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : store_fail(s, "PRAGMA user_version", rc);
}

/* Migrations are named NNN_what.sql; the table is in name order. */
static int
store_migrate(struct store *s)
{
	char	 sql[64];
	int	 have, latest = 0, rc;

	if ((rc = user_version(s, &have)) < 0)
		return rc;
	for (const struct embed_file *f = schema_files; f->name; f++)
		latest = atoi(f->name);
	if (have > latest) {
		log_warnx("store: the database is at schema version %d, newer "
		    "than this runneld knows (%d): upgrade runneld", have, latest);
		return -EPROTO;
	}
	for (const struct embed_file *f = schema_files; f->name; f++) {
		int v = atoi(f->name);

		if (v <= have)
			continue;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
		if ((rc = exec_sql(s, "BEGIN")) < 0)
			return rc;
		if ((rc = exec_sql(s, (const char *)f->data)) < 0 ||
		    (rc = exec_sql(s, sql)) < 0 ||
		    (rc = exec_sql(s, "COMMIT")) < 0) {
			exec_sql(s, "ROLLBACK");
			return rc;
		}
		log_info("store: applied migration %s", f->name);
	}
	return 0;
}

/*
 * The connection commits with synchronous=NORMAL: a commit survives a
 * crash of runneld, and store_commit() adds the fsync of the WAL that
 * synchronous=FULL would do only for the turns that acknowledge
 * something to a client.  The pragma cannot change inside a transaction,
 * and a turn does not know at BEGIN what it will hold.
 */
static int
store_pragmas(struct store *s, enum store_durability d)
{
	int rc;

	sqlite3_busy_timeout(s->db, 5000);
	if ((rc = exec_sql(s, "PRAGMA journal_mode = WAL")) < 0 ||
	    (rc = exec_sql(s, "PRAGMA synchronous = NORMAL")) < 0 ||
	    (rc = exec_sql(s, "PRAGMA foreign_keys = ON")) < 0 ||
	    (rc = exec_sql(s, "PRAGMA cache_size = -16384")) < 0 ||
	    (rc = exec_sql(s, "PRAGMA temp_store = MEMORY")) < 0)
		return rc;
	s->durable = d == STORE_DURABLE;
	if (!s->durable)
		log_info("store: durability=fast: a power loss may lose the "
		    "last acknowledged jobs (a crash of runneld does not)");
	return 0;
}

/* fsyncs the WAL through SQLite's own handle of it. */
static int
store_sync(struct store *s)
{
	sqlite3_file	*wal = NULL;
	int		 rc;

	rc = sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
	    &wal);
	if (rc != SQLITE_OK || wal == NULL || wal->pMethods == NULL)
		return 0;	/* no WAL written yet: nothing to sync */
	if ((rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL)) != SQLITE_OK)
		return store_fail(s, "sync WAL", rc);
	return 0;
}

static int
prepare_insert_many(struct store *s)
{
	char	 sql[sizeof(INSERT_JOBS) + INSERT_ROWS * (sizeof(INSERT_ROW) + 1)];
	size_t	 n = 0;
	int	 rc;

	n += (size_t)snprintf(sql, sizeof(sql), "%s", INSERT_JOBS);
	for (int i = 0; i < INSERT_ROWS; i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s%s",
		    i ? "," : "", INSERT_ROW);
	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &s->insert_many, NULL);
	return rc == SQLITE_OK ? 0 : store_fail(s, "prepare batch insert", rc);
}

int
store_open(struct store **out, const char *path, enum store_durability d)
{
	struct store	*s;
	int		 rc;

	*out = NULL;
	/* One thread uses the store: no allocation statistics, no mutexes. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_warnx("store: open %s: %s", path, s->db ?
		    sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		rc = store_code(rc);
		goto fail;
	}
	if ((rc = store_pragmas(s, d)) < 0 || (rc = store_migrate(s)) < 0)
		goto fail;
	for (int i = 0; i < ST_COUNT_MAX; i++) {
		int src = sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);

		if (src != SQLITE_OK) {
			rc = store_fail(s, stmt_sql[i], src);
			goto fail;
		}
	}
	if ((rc = prepare_insert_many(s)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	return rc;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->in_txn)
		store_commit(s, 1);
	for (int i = 0; i < ST_COUNT_MAX; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_finalize(s->insert_many);
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("store: close: %s", sqlite3_errmsg(s->db));
	free(s);
}

int
store_begin(struct store *s)
{
	int rc;

	if (s->txn_lost)
		return s->txn_error;
	if (s->in_txn)
		return 0;
	if ((rc = stmt_exec(s, ST_BEGIN)) < 0)
		return rc;
	s->in_txn = 1;
	return 0;
}

int
store_in_txn(const struct store *s)
{
	return s->in_txn;
}

int
store_commit(struct store *s, int sync)
{
	int rc;

	if (!s->in_txn)
		return 0;
	if (s->txn_lost) {
		rc = s->txn_error;
		s->in_txn = s->txn_lost = 0;
		return rc;
	}
	s->in_txn = 0;
	if ((rc = stmt_exec(s, ST_COMMIT)) == 0)
		return sync && s->durable ? store_sync(s) : 0;
	/* A failed COMMIT may leave the transaction open: end it. */
	if (!sqlite3_get_autocommit(s->db))
		stmt_exec(s, ST_ROLLBACK);
	return rc;
}

int
store_mark(struct store *s)
{
	int rc;

	if ((rc = store_begin(s)) < 0)
		return rc;
	return stmt_exec(s, ST_MARK);
}

int
store_unmark(struct store *s, int keep)
{
	int rc = 0;

	if (s->txn_lost)
		return s->txn_error;
	if (!keep)
		rc = stmt_exec(s, ST_UNDO);
	if (rc == 0)
		rc = stmt_exec(s, ST_UNMARK);
	return rc;
}

static void
bind_job(sqlite3_stmt *st, int b, const struct job *j)
{
	sqlite3_bind_text(st, b + 1, job_type_name(j->type), -1, SQLITE_STATIC);
	bind_text(st, b + 2, j->name);
	bind_text(st, b + 3, j->queue);
	sqlite3_bind_int64(st, b + 4, j->priority);
	sqlite3_bind_text(st, b + 5, job_state_name(j->state), -1,
	    SQLITE_STATIC);
	bind_text(st, b + 6, j->command);
	bind_text(st, b + 7, j->argv_json);
	bind_text(st, b + 8, j->env_json);
	bind_text(st, b + 9, j->cwd);
	if (j->has_stdin)
		sqlite3_bind_blob64(st, b + 10, j->stdin_data ? j->stdin_data :
		    "", j->stdin_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, b + 10);
	bind_opt(st, b + 11, j->timeout_ms, j->timeout_ms > 0);
	bind_text(st, b + 12, j->limits_json);
	sqlite3_bind_int(st, b + 13, j->max_attempts);
	sqlite3_bind_int64(st, b + 14, j->created_at);
	bind_opt(st, b + 15, j->run_at, j->run_at > 0);
	bind_text(st, b + 16, j->file_name);
	bind_opt(st, b + 17, j->file_size, j->file_name != NULL);
	bind_text(st, b + 18, j->file_sha256);
	bind_text(st, b + 19, j->after_json);
	sqlite3_bind_int(st, b + 20, j->deps_left);
	/* A job born failed (its dependency already had) says why. */
	bind_text(st, b + 21, j->error);
	bind_opt(st, b + 22, j->finished_at, j->finished_at > 0);
}

/*
 * Inserts n (1 or INSERT_ROWS) jobs with one statement.  Rows of one
 * statement get consecutive ids in order: nothing else inserts meanwhile.
 */
static int
insert_rows(struct store *s, sqlite3_stmt *st, struct job *jobs, int n)
{
	uint64_t	 last;
	int		 rc;

	for (int i = 0; i < n; i++)
		bind_job(st, i * INSERT_PARAMS, &jobs[i]);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, "insert jobs", rc);
	last = (uint64_t)sqlite3_last_insert_rowid(s->db);
	for (int i = 0; i < n; i++)
		jobs[i].id = last - (uint64_t)(n - 1 - i);
	return 0;
}

int
store_submit(struct store *s, struct job *jobs, size_t n, int64_t now_ms)
{
	size_t	 i = 0;
	int	 rc;

	if ((rc = store_begin(s)) < 0)
		return rc;
	for (size_t k = 0; k < n; k++)
		jobs[k].created_at = now_ms;
	/* A statement costs about as much as three rows: batches share them. */
	for (; rc == 0 && n - i >= INSERT_ROWS; i += INSERT_ROWS)
		rc = insert_rows(s, s->insert_many, jobs + i, INSERT_ROWS);
	for (; rc == 0 && i < n; i++)
		rc = insert_rows(s, s->st[ST_INSERT], jobs + i, 1);
	return rc;
}

static char *
col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? strdup((const char *)t) : NULL;
}

static int64_t
col_opt(sqlite3_stmt *st, int i, int64_t absent)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return absent;
	return sqlite3_column_int64(st, i);
}

/* Reads a row of JOB_COLUMNS. */
static int
row_job(sqlite3_stmt *st, struct job *j)
{
	int c = 0, t, state;

	job_init(j);
	j->id = (uint64_t)sqlite3_column_int64(st, c++);
	t = job_type_parse((const char *)sqlite3_column_text(st, c++));
	j->name = col_str(st, c++);
	j->queue = col_str(st, c++);
	j->priority = sqlite3_column_int64(st, c++);
	state = job_state_parse((const char *)sqlite3_column_text(st, c++));
	j->command = col_str(st, c++);
	j->argv_json = col_str(st, c++);
	j->env_json = col_str(st, c++);
	j->cwd = col_str(st, c++);
	if (sqlite3_column_type(st, c) != SQLITE_NULL) {
		const void *b = sqlite3_column_blob(st, c);

		j->stdin_len = (size_t)sqlite3_column_bytes(st, c);
		j->has_stdin = 1;
		if ((j->stdin_data = malloc(j->stdin_len + 1)) != NULL) {
			if (j->stdin_len)
				memcpy(j->stdin_data, b, j->stdin_len);
			j->stdin_data[j->stdin_len] = '\0';
		}
	}
	c++;
	j->timeout_ms = col_opt(st, c++, 0);
	j->limits_json = col_str(st, c++);
	j->attempts = sqlite3_column_int(st, c++);
	j->max_attempts = sqlite3_column_int(st, c++);
	j->created_at = sqlite3_column_int64(st, c++);
	j->run_at = col_opt(st, c++, 0);
	j->started_at = col_opt(st, c++, 0);
	j->finished_at = col_opt(st, c++, 0);
	j->exit_code = (int)col_opt(st, c++, -1);
	j->signal = (int)col_opt(st, c++, -1);
	j->error = col_str(st, c++);
	j->worker = (int)col_opt(st, c++, -1);
	j->stdout_bytes = sqlite3_column_int64(st, c++);
	j->stderr_bytes = sqlite3_column_int64(st, c++);
	j->cpu_ms = col_opt(st, c++, -1);
	j->max_rss_kb = col_opt(st, c++, -1);
	j->file_name = col_str(st, c++);
	j->file_size = col_opt(st, c++, -1);
	j->file_sha256 = col_str(st, c++);
	j->after_json = col_str(st, c++);
	j->deps_left = sqlite3_column_int(st, c++);
	if (t < 0 || state < 0)
		return -EIO;
	j->type = t;
	j->state = state;
	return 0;
}

int
store_get(struct store *s, uint64_t id, struct job *out)
{
	sqlite3_stmt	*st = s->st[ST_GET];
	int		 rc;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = row_job(st, out) < 0 ? -EIO : 0;
	else if (rc == SQLITE_DONE)
		rc = -ENOENT;
	else
		rc = store_fail(s, "get job", rc);
	sqlite3_reset(st);
	return rc;
}

int
store_head(struct store *s, const char *queue, uint64_t *id,
    int64_t *priority)
{
	sqlite3_stmt	*st = s->st[ST_HEAD];
	int		 rc;

	sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = (uint64_t)sqlite3_column_int64(st, 0);
		*priority = sqlite3_column_int64(st, 1);
		rc = 1;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = store_fail(s, "queue head", rc);
	}
	sqlite3_reset(st);
	return rc;
}

/*
 * No RETURNING: SQLite gathers RETURNING rows in an ephemeral table,
 * which costs more than reading the row again by its key.
 */
int
store_claim(struct store *s, uint64_t id, int worker, int64_t now_ms,
    struct job *out)
{
	sqlite3_stmt	*st = s->st[ST_CLAIM];
	int		 rc;

	if ((rc = store_begin(s)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_int(st, 3, worker);
	if ((rc = stmt_exec(s, ST_CLAIM)) < 0)
		return rc;
	if (sqlite3_changes(s->db) != 1)
		return 0;
	if ((rc = store_get(s, id, out)) < 0)
		return rc;
	return 1;
}

/* Runs a bound UPDATE/DELETE: -ENOENT/-EBUSY-style result via changes(). */
static int
stmt_change(struct store *s, enum stmt_id id, int none)
{
	int rc;

	if ((rc = stmt_exec(s, id)) < 0)
		return rc;
	return sqlite3_changes(s->db) == 1 ? 0 : none;
}

int
store_finish(struct store *s, const struct job_result *r)
{
	sqlite3_stmt	*st = s->st[ST_FINISH];
	int		 rc;

	if ((rc = store_begin(s)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)r->id);
	sqlite3_bind_text(st, 2, job_state_name(r->state), -1, SQLITE_STATIC);
	bind_opt(st, 3, r->exit_code, r->exit_code >= 0);
	bind_opt(st, 4, r->signal, r->signal > 0);
	bind_text(st, 5, r->error);
	bind_opt(st, 6, r->finished_at, r->state != JOB_SCHEDULED);
	sqlite3_bind_int64(st, 7, r->stdout_bytes);
	sqlite3_bind_int64(st, 8, r->stderr_bytes);
	bind_opt(st, 9, r->cpu_ms, r->cpu_ms >= 0);
	bind_opt(st, 10, r->max_rss_kb, r->max_rss_kb >= 0);
	bind_opt(st, 11, r->started_at, r->started_at > 0);
	bind_opt(st, 12, r->run_at, r->state == JOB_SCHEDULED);
	return stmt_change(s, ST_FINISH, -EBUSY);
}

int
store_set_state(struct store *s, uint64_t id, enum job_state from,
    enum job_state to, const char *error, int64_t finished_at)
{
	sqlite3_stmt	*st = s->st[ST_SET_STATE];
	int		 rc;

	if ((rc = store_begin(s)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_text(st, 2, job_state_name(from), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, job_state_name(to), -1, SQLITE_STATIC);
	bind_text(st, 4, error);
	bind_opt(st, 5, finished_at, finished_at > 0);
	return stmt_change(s, ST_SET_STATE, -EBUSY);
}

int
store_requeue(struct store *s, uint64_t id, enum job_state from,
    int undo_attempt, int deps_left)
{
	sqlite3_stmt	*st = s->st[ST_REQUEUE];
	int		 rc;

	if ((rc = store_begin(s)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_text(st, 2, job_state_name(from), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, undo_attempt ? 1 : 0);
	sqlite3_bind_int(st, 4, deps_left);
	return stmt_change(s, ST_REQUEUE, -EBUSY);
}

int
store_delete(struct store *s, uint64_t id)
{
	int rc;

	if ((rc = store_begin(s)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_DEPS_FORGET], 1, (sqlite3_int64)id);
	if ((rc = stmt_exec(s, ST_DEPS_FORGET)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_DELETE], 1, (sqlite3_int64)id);
	return stmt_change(s, ST_DELETE, -ENOENT);
}

void
store_free_jobs(struct job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		job_clear(&jobs[i]);
	free(jobs);
}

/*
 * Listing.  Each stream scans one index newest first from `before`; rows
 * the index cannot filter (say state=failed&queue=x on the state index)
 * are checked here, at most LIST_BUDGET of them per stream, so a request
 * costs the same whatever the table holds.  When a stream stops at its
 * budget, the page covers ids down to that point only and `next` resumes
 * there: a page may then hold fewer than `limit` jobs.
 */
#define LIST_BUDGET	5000

struct list_scan {
	uint64_t	*ids;
	size_t		 n;
	size_t		 cap;
	uint64_t	 floor;		/* ids below this are not yet looked at */
};

static int
row_matches(sqlite3_stmt *st, const struct job_filter *f)
{
	const char	*queue = (const char *)sqlite3_column_text(st, 2);
	int		 state, type;

	state = job_state_parse((const char *)sqlite3_column_text(st, 1));
	type = job_type_parse((const char *)sqlite3_column_text(st, 3));
	if (f->states && (state < 0 || !(f->states & (1u << state))))
		return 0;
	if (f->types && (type < 0 || !(f->types & (1u << type))))
		return 0;
	return f->queue == NULL || (queue && strcmp(queue, f->queue) == 0);
}

/* Runs one bound stream statement, keeping the ids that match. */
static int
list_stream(struct store *s, enum stmt_id id, const struct job_filter *f,
    int budget, struct list_scan *ls)
{
	sqlite3_stmt	*st = s->st[id];
	int64_t		 before = f->before ? (int64_t)f->before : INT64_MAX;
	uint64_t	 last = 0;
	int		 rc, seen = 0;

	sqlite3_bind_int64(st, 2, before);
	sqlite3_bind_int(st, 3, budget);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		last = (uint64_t)sqlite3_column_int64(st, 0);
		seen++;
		if (!row_matches(st, f))
			continue;
		if (ls->n == ls->cap) {
			size_t		 cap = ls->cap ? ls->cap * 2 : 64;
			uint64_t	*ni = realloc(ls->ids, cap * sizeof(*ni));

			if (ni == NULL) {
				sqlite3_reset(st);
				return -ENOMEM;
			}
			ls->ids = ni;
			ls->cap = cap;
		}
		ls->ids[ls->n++] = last;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, stmt_sql[id], rc);
	if (seen == budget && last > ls->floor)
		ls->floor = last;
	return 0;
}

static int
id_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* Picks the index that narrows most and scans it, one stream per key. */
static int
list_scan(struct store *s, const struct job_filter *f, struct list_scan *ls)
{
	int	 exact = f->limit + 1, budget = exact > LIST_BUDGET ? exact :
		    LIST_BUDGET;
	int	 rc = 0;

	if (f->states) {
		int residual = f->queue || f->types;

		for (int st = 0; st < JOB_STATE_COUNT && rc == 0; st++) {
			if (!(f->states & (1u << st)))
				continue;
			sqlite3_bind_text(s->st[ST_LIST_STATE], 1,
			    job_state_name(st), -1, SQLITE_STATIC);
			rc = list_stream(s, ST_LIST_STATE, f, residual ? budget :
			    exact, ls);
		}
	} else if (f->queue) {
		sqlite3_bind_text(s->st[ST_LIST_QUEUE], 1, f->queue, -1,
		    SQLITE_STATIC);
		rc = list_stream(s, ST_LIST_QUEUE, f, f->types ? budget : exact,
		    ls);
	} else if (f->types) {
		for (int t = 0; t < JOB_TYPE_COUNT && rc == 0; t++) {
			if (!(f->types & (1u << t)))
				continue;
			sqlite3_bind_text(s->st[ST_LIST_TYPE], 1,
			    job_type_name(t), -1, SQLITE_STATIC);
			rc = list_stream(s, ST_LIST_TYPE, f, exact, ls);
		}
	} else {
		rc = list_stream(s, ST_LIST_ALL, f, exact, ls);
	}
	return rc;
}

int
store_list(struct store *s, const struct job_filter *f, struct job **jobs,
    size_t *n, uint64_t *next)
{
	struct list_scan	 ls = {0};
	struct job		*js = NULL;
	size_t			 keep = 0, take, i;
	int			 rc;

	*jobs = NULL;
	*n = 0;
	*next = 0;
	if ((rc = list_scan(s, f, &ls)) < 0)
		goto out;
	if (ls.n > 1)
		qsort(ls.ids, ls.n, sizeof(*ls.ids), id_desc);
	/* Only ids every stream has looked at belong to this page. */
	while (keep < ls.n && ls.ids[keep] >= ls.floor)
		keep++;
	take = keep > (size_t)f->limit ? (size_t)f->limit : keep;
	if (take && (js = calloc(take, sizeof(*js))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < take; i++) {
		if ((rc = store_get(s, ls.ids[i], &js[i])) < 0) {
			store_free_jobs(js, i);
			js = NULL;
			goto out;
		}
	}
	if (keep > take)
		*next = ls.ids[take - 1];
	else if (ls.floor)
		*next = ls.floor;
	*jobs = js;
	*n = take;
out:
	free(ls.ids);
	return rc;
}

int
store_running(struct store *s, uint64_t **ids, size_t *n)
{
	sqlite3_stmt	*st = s->st[ST_RUNNING];
	size_t		 cap = 0;
	int		 rc;

	*ids = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			uint64_t *ni;

			cap = cap ? cap * 2 : 64;
			if ((ni = realloc(*ids, cap * sizeof(*ni))) == NULL) {
				sqlite3_reset(st);
				return -ENOMEM;
			}
			*ids = ni;
		}
		(*ids)[(*n)++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, "running jobs", rc);
}

int
store_promote(struct store *s, uint64_t id)
{
	int rc;

	if ((rc = store_begin(s)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_PROMOTE], 1, (sqlite3_int64)id);
	return stmt_change(s, ST_PROMOTE, -EBUSY);
}

int
store_count(struct store *s,
    void (*cb)(void *, const char *, enum job_state, int64_t), void *arg)
{
	sqlite3_stmt	*st = s->st[ST_COUNT];
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int state = job_state_parse((const char *)sqlite3_column_text(st, 1));

		if (state >= 0)
			cb(arg, (const char *)sqlite3_column_text(st, 0), state,
			    sqlite3_column_int64(st, 2));
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, "count", rc);
}

int
store_finished_since(struct store *s, int64_t since_ms,
    void (*cb)(void *, int64_t), void *arg)
{
	sqlite3_stmt	*st = s->st[ST_FINISHED_SINCE];
	int		 rc;

	sqlite3_bind_int64(st, 1, since_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb(arg, sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, "finished since", rc);
}

int
store_queue_add(struct store *s, const char *queue)
{
	int rc;

	if ((rc = store_begin(s)) < 0)
		return rc;
	sqlite3_bind_text(s->st[ST_QUEUE_ADD], 1, queue, -1, SQLITE_STATIC);
	return stmt_exec(s, ST_QUEUE_ADD);
}

int
store_queues(struct store *s, void (*cb)(void *, const char *, int, int),
    void *arg)
{
	sqlite3_stmt	*st = s->st[ST_QUEUES];
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb(arg, (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int(st, 1),
		    (int)col_opt(st, 2, -1));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, "queues", rc);
}

int
store_ping(struct store *s)
{
	int rc;

	if (s->in_txn)
		return 0;
	if ((rc = stmt_exec(s, ST_BEGIN)) < 0)
		return rc;
	return stmt_exec(s, ST_ROLLBACK);
}

/* ---- flow control -------------------------------------------------------- */

int
store_add_deps(struct store *s, uint64_t job_id, const uint64_t *deps,
    size_t n)
{
	sqlite3_stmt	*st = s->st[ST_DEP_ADD];
	int		 rc;

	if ((rc = store_begin(s)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)deps[i]);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)job_id);
		if ((rc = stmt_exec(s, ST_DEP_ADD)) < 0)
			return rc;
	}
	return 0;
}

int
store_dependents(struct store *s, uint64_t dep_id, uint64_t **ids, size_t *n)
{
	sqlite3_stmt	*st = s->st[ST_DEPENDENTS];
	size_t		 cap = 0;
	int		 rc;

	*ids = NULL;
	*n = 0;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)dep_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			uint64_t *ni;

			cap = cap ? cap * 2 : 8;
			if ((ni = realloc(*ids, cap * sizeof(*ni))) == NULL) {
				sqlite3_reset(st);
				return -ENOMEM;
			}
			*ids = ni;
		}
		(*ids)[(*n)++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : store_fail(s, "dependents", rc);
}

int
store_dep_done(struct store *s, uint64_t job_id)
{
	int rc;

	if ((rc = store_begin(s)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_DEP_DONE], 1, (sqlite3_int64)job_id);
	return stmt_change(s, ST_DEP_DONE, 0);
}

int
store_next_due(struct store *s, int64_t *run_at)
{
	sqlite3_stmt	*st = s->st[ST_NEXT_DUE];
	int		 rc;

	rc = sqlite3_step(st);
	*run_at = rc == SQLITE_ROW ? col_opt(st, 0, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : store_fail(s, "next due", rc);
}

/*
 * Rows are gathered before cb runs: cb changes the jobs, and a statement
 * must not walk an index its own connection is rewriting.
 */
int
store_due(struct store *s, int64_t now_ms, int limit,
    void (*cb)(void *, uint64_t, const char *), void *arg)
{
	sqlite3_stmt	*st = s->st[ST_DUE];
	uint64_t	*ids = calloc((size_t)limit, sizeof(*ids));
	char		(*queues)[JOB_QUEUE_MAX + 1] = calloc((size_t)limit,
			    sizeof(*queues));
	int		 rc = SQLITE_DONE, n = 0;

	if (ids == NULL || queues == NULL) {
		free(ids);
		free(queues);
		return -ENOMEM;
	}
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int(st, 2, limit);
	while (n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ids[n] = (uint64_t)sqlite3_column_int64(st, 0);
		snprintf(queues[n], sizeof(queues[n]), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		n++;
	}
	if (n == limit)
		rc = SQLITE_DONE;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		for (int i = 0; i < n; i++)
			cb(arg, ids[i], queues[i]);
	free(ids);
	free(queues);
	return rc == SQLITE_DONE ? n : store_fail(s, "due", rc);
}

int
store_idem_get(struct store *s, const char *key, int64_t since_ms,
    char *sha, size_t shasize, char **jobs_json, int *batch)
{
	sqlite3_stmt	*st = s->st[ST_IDEM_GET];
	int		 rc;

	*jobs_json = NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(sha, shasize, "%s", (const char *)sqlite3_column_text(st, 0));
		*jobs_json = col_str(st, 1);
		*batch = sqlite3_column_int(st, 2);
		rc = *jobs_json ? 1 : -ENOMEM;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = store_fail(s, "idempotency get", rc);
	}
	sqlite3_reset(st);
	return rc;
}

int
store_idem_put(struct store *s, const char *key, const char *sha,
    const char *jobs_json, int batch, int64_t now_ms)
{
	sqlite3_stmt	*st = s->st[ST_IDEM_PUT];
	int		 rc;

	if ((rc = store_begin(s)) < 0)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, jobs_json, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, batch);
	sqlite3_bind_int64(st, 5, now_ms);
	return stmt_exec(s, ST_IDEM_PUT);
}

int
store_idem_purge(struct store *s, int64_t before_ms)
{
	int rc;

	if ((rc = store_begin(s)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_IDEM_PURGE], 1, before_ms);
	if ((rc = stmt_exec(s, ST_IDEM_PURGE)) < 0)
		return rc;
	return sqlite3_changes(s->db);
}

int
store_queue_set(struct store *s, const char *name, int paused,
    int concurrency)
{
	sqlite3_stmt	*st = s->st[ST_QUEUE_SET];
	int		 rc;

	if ((rc = store_begin(s)) < 0)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, paused ? 1 : 0);
	bind_opt(st, 3, concurrency, concurrency > 0);
	return stmt_exec(s, ST_QUEUE_SET);
}

int
store_expired(struct store *s, int64_t before_ms, int limit,
    void (*cb)(void *, uint64_t, int), void *arg)
{
	sqlite3_stmt	*st = s->st[ST_EXPIRED];
	uint64_t	*ids = calloc((size_t)limit, sizeof(*ids));
	int		*attempts = calloc((size_t)limit, sizeof(*attempts));
	int		 rc = SQLITE_DONE, n = 0;

	if (ids == NULL || attempts == NULL) {
		free(ids);
		free(attempts);
		return -ENOMEM;
	}
	sqlite3_bind_int64(st, 1, before_ms);
	sqlite3_bind_int(st, 2, limit);
	while (n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ids[n] = (uint64_t)sqlite3_column_int64(st, 0);
		attempts[n++] = sqlite3_column_int(st, 1);
	}
	if (n == limit)
		rc = SQLITE_DONE;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		for (int i = 0; i < n; i++)
			cb(arg, ids[i], attempts[i]);
	free(ids);
	free(attempts);
	return rc == SQLITE_DONE ? n : store_fail(s, "expired", rc);
}
