/*
 * The SQLite backend: the database file, its pragmas and migrations,
 * the table of every statement runnel runs (each prepared once, at
 * open), the turn's transaction and its savepoints.  Errors are logged
 * here once with sqlite3_errmsg and returned as negative errno codes.
 * The statements run in sqlite_jobs.c, sqlite_list.c, sqlite_queues.c
 * and sqlite_flow.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "embed.h"
#include "log.h"
#include "store/sqlite.h"
#include "vec.h"

extern const struct embed_file schema_files[];

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
	    "attempts = attempts - ?3, "
	    /* a manual retry gets one attempt more than it has had */
	    "max_attempts = max(max_attempts, attempts - ?3 + 1), "
	    "started_at = NULL, finished_at = NULL, "
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
	[ST_LIST_SCHEDULE] = "SELECT id, state, queue, type FROM jobs "
	    "WHERE schedule_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
	[ST_RUNNING] = "SELECT id FROM jobs WHERE state = 'running'",
	/* Kept by triggers (schema 007): a few rows, whatever the jobs. */
	[ST_COUNT] = "SELECT queue, state, n FROM job_counts WHERE n > 0",
	[ST_FINISHED_SINCE] = "SELECT finished_at FROM jobs "
	    "WHERE finished_at >= ?1",
	/* The overview (store/overview.h), each through an index. */
	[ST_OV_RETRYING] = "SELECT count(*) FROM jobs "
	    "WHERE state = 'scheduled' AND error IS NOT NULL",
	[ST_OV_OLDEST] = "SELECT max(created_at, coalesce(run_at, 0)) "
	    "FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1",
	/* Without statistics SQLite would walk every failed job by state. */
	[ST_OV_FAILED] = "SELECT finished_at / 60000, count(*) FROM jobs "
	    "INDEXED BY jobs_failed_at "
	    "WHERE state = 'failed' AND finished_at >= ?1 GROUP BY 1",
	[ST_OV_FINISHED] = "SELECT started_at - max(created_at, "
	    "coalesce(run_at, 0)) FROM jobs WHERE finished_at >= ?1 "
	    "AND started_at >= ?1 ORDER BY finished_at DESC LIMIT ?2",
	[ST_OV_RUNNING] = "SELECT started_at - max(created_at, "
	    "coalesce(run_at, 0)) FROM jobs WHERE state = 'running' "
	    "AND started_at >= ?1",
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
	/* A job whose webhooks are still being delivered is kept for them. */
	[ST_EXPIRED] = "SELECT id, attempts FROM jobs WHERE finished_at IS "
	    "NOT NULL AND finished_at < ?1 AND NOT EXISTS (SELECT 1 FROM "
	    "deliveries d WHERE d.job_id = jobs.id AND d.state = 'pending') "
	    "ORDER BY finished_at LIMIT ?2",
	[ST_PROMOTE] = "UPDATE jobs SET state = 'queued' WHERE id = ?1 AND "
	    "state = 'scheduled' AND deps_left = 0",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_MARK] = "SAVEPOINT batch",
	[ST_UNMARK] = "RELEASE batch",
	[ST_UNDO] = "ROLLBACK TO batch",
	/* Schedules (sqlite_sched.c): a name in use changes no row. */
	[ST_SCHED_ADD] = "INSERT INTO schedules (name, cron, timezone, job, "
	    "overlap, misfire, paused, until, created_at, next_at, last_job, "
	    "waiting) VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
	    "?13) ON CONFLICT (name) DO NOTHING",
	[ST_SCHED_GET] = "SELECT " SCHED_COLUMNS " FROM schedules WHERE id = ?1",
	[ST_SCHED_ALL] = "SELECT " SCHED_COLUMNS " FROM schedules ORDER BY id",
	[ST_SCHED_PUT] = "UPDATE schedules SET name = ?2, cron = ?3, "
	    "timezone = ?4, job = ?5, overlap = ?6, misfire = ?7, paused = ?8, "
	    "until = ?9 WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM schedules "
	    "WHERE name = ?2 AND id <> ?1)",
	[ST_SCHED_REPLAN] = "UPDATE schedules SET next_at = ?2, waiting = NULL "
	    "WHERE id = ?1",
	[ST_SCHED_DELETE] = "DELETE FROM schedules WHERE id = ?1",
	[ST_SCHED_TICKS_DELETE] = "DELETE FROM schedule_ticks "
	    "WHERE schedule_id = ?1",
	/* Both on the partial index schedules_next. */
	[ST_SCHED_NEXT] = "SELECT min(next_at) FROM schedules "
	    "WHERE next_at IS NOT NULL AND paused = 0",
	[ST_SCHED_DUE] = "SELECT id FROM schedules WHERE next_at IS NOT NULL "
	    "AND paused = 0 AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2",
	[ST_SCHED_OWED] = "SELECT id FROM schedules WHERE waiting IS NOT NULL "
	    "AND paused = 0 ORDER BY id",
	[ST_SCHED_ADVANCE] = "UPDATE schedules SET next_at = ?3 "
	    "WHERE id = ?1 AND next_at = ?2",
	[ST_SCHED_MADE] = "UPDATE schedules SET last_job = "
	    "coalesce(?2, last_job), waiting = CASE ?3 WHEN -1 THEN waiting "
	    "ELSE ?3 END WHERE id = ?1",
	[ST_SCHED_TICK] = "INSERT INTO schedule_ticks (schedule_id, tick, "
	    "job_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
	[ST_SCHED_TICK_JOB] = "UPDATE schedule_ticks SET job_id = ?3 "
	    "WHERE schedule_id = ?1 AND tick = ?2",
	[ST_SCHED_TICKS_PURGE] = "DELETE FROM schedule_ticks WHERE tick < ?1",
	/* Webhook deliveries (sqlite_hooks.c), recorded as a job finishes. */
	[ST_HOOK_NEXT] = "SELECT min(next_at) FROM deliveries "
	    "WHERE state = 'pending'",
	[ST_HOOK_DUE] = "SELECT " DELIVERY_COLUMNS " FROM deliveries "
	    "WHERE state = 'pending' AND next_at <= ?1 "
	    "ORDER BY next_at, id LIMIT ?2",
	[ST_HOOK_LEASE] = "UPDATE deliveries SET tries = tries + 1, "
	    "next_at = ?3 WHERE id = ?1 AND state = 'pending' AND next_at = ?2",
	[ST_HOOK_TRY] = "INSERT INTO delivery_tries (delivery_id, try, at, "
	    "status, error, response) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT DO NOTHING",
	[ST_HOOK_TRIED] = "UPDATE deliveries SET state = ?2, next_at = ?3, "
	    "last_at = ?4, last_status = ?5, last_error = ?6 WHERE id = ?1",
	[ST_HOOK_LIST] = "SELECT " DELIVERY_COLUMNS " FROM deliveries "
	    "WHERE job_id = ?1 ORDER BY id",
	[ST_HOOK_TRIES] = "SELECT t.delivery_id, t.try, t.at, t.status, "
	    "t.error, t.response FROM delivery_tries t JOIN deliveries d "
	    "ON d.id = t.delivery_id WHERE d.job_id = ?1 "
	    "ORDER BY t.delivery_id, t.try",
	[ST_HOOK_QUEUE_SET] = "INSERT INTO queues (name, paused, webhooks) "
	    "VALUES (?1, 0, ?2) ON CONFLICT (name) DO UPDATE SET "
	    "webhooks = excluded.webhooks",
	[ST_HOOK_QUEUE_GET] = "SELECT webhooks FROM queues WHERE name = ?1",
	/* A finished job's deliveries: its own hooks and its queue's whose
	 * "on" names its state (all of them when "on" is absent). */
	[ST_HOOK_RECORD] = "INSERT INTO deliveries (job_id, url, event, "
	    "attempt, created_at, next_at) SELECT j.id, "
	    "json_extract(h.value, '$.url'), 'job.' || j.state, j.attempts, "
	    "coalesce(j.finished_at, 0), coalesce(j.finished_at, 0) FROM jobs j, "
	    "(SELECT value FROM jobs a, json_each(coalesce(a.webhooks, '[]')) "
	    "WHERE a.id = ?1 UNION ALL SELECT value FROM jobs b JOIN queues q "
	    "ON q.name = b.queue, json_each(coalesce(q.webhooks, '[]')) "
	    "WHERE b.id = ?1) AS h WHERE j.id = ?1 AND j.state IN "
	    "('succeeded', 'failed', 'canceled') AND (json_extract(h.value, "
	    "'$.on') IS NULL OR EXISTS (SELECT 1 FROM json_each("
	    "json_extract(h.value, '$.on')) AS o WHERE o.value = j.state))",
	[ST_HOOK_FORGET] = "DELETE FROM deliveries WHERE job_id = ?1",
	[ST_HOOK_FORGET_TRIES] = "DELETE FROM delivery_tries WHERE delivery_id "
	    "IN (SELECT id FROM deliveries WHERE job_id = ?1)",
	/* On the partial index jobs_webhooks (schema 008). */
	[ST_HOOK_ANY] = "SELECT EXISTS (SELECT 1 FROM jobs WHERE webhooks IS "
	    "NOT NULL) OR EXISTS (SELECT 1 FROM queues WHERE webhooks IS NOT "
	    "NULL)",
};

const char *
sqlite_sql(enum stmt_id id)
{
	return stmt_sql[id];
}

int
sqlite_code(int rc)
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
int
sqlite_fail(struct sqlite_store *s, const char *what, int rc)
{
	log_warnx("store: %s: %s (%d)", what, sqlite3_errmsg(s->db), rc);
	if (s->in_txn && !s->txn_lost && sqlite3_get_autocommit(s->db)) {
		s->txn_lost = 1;
		s->txn_error = sqlite_code(rc);
	}
	return sqlite_code(rc);
}

int
sqlite_run(struct sqlite_store *s, enum stmt_id id)
{
	sqlite3_stmt	*st = s->st[id];
	int		 rc;

	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(s, stmt_sql[id], rc);
	return 0;
}

int
sqlite_change(struct sqlite_store *s, enum stmt_id id, int none)
{
	int rc;

	if ((rc = sqlite_run(s, id)) < 0)
		return rc;
	return sqlite3_changes(s->db) == 1 ? 0 : none;
}

int
sqlite_ids(struct sqlite_store *s, enum stmt_id id, uint64_t **ids, size_t *n)
{
	sqlite3_stmt	*st = s->st[id];
	size_t		 cap = 0;
	int		 rc, err = 0;

	*ids = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((err = vec_grow(ids, &cap, *n + 1, sizeof(**ids))) < 0)
			break;
		(*ids)[(*n)++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (err == 0 && rc != SQLITE_DONE)
		err = sqlite_fail(s, stmt_sql[id], rc);
	if (err < 0) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return err;
}

static int
exec_sql(struct sqlite_store *s, const char *sql)
{
	char	*err = NULL;
	int	 rc;

	if ((rc = sqlite3_exec(s->db, sql, NULL, NULL, &err)) != SQLITE_OK) {
		log_warnx("store: %s: %s", sql, err ? err : sqlite3_errstr(rc));
		sqlite3_free(err);
		return sqlite_code(rc);
	}
	return 0;
}

static int
user_version(struct sqlite_store *s, int *v)
{
	sqlite3_stmt	*st;
	int		 rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlite_fail(s, "PRAGMA user_version", rc);
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : sqlite_fail(s, "PRAGMA user_version", rc);
}

int
sqlite_schema_latest(void)
{
	int latest = 0;

	for (const struct embed_file *f = schema_files; f->name; f++)
		latest = atoi(f->name);
	return latest;
}

/* Migrations are named NNN_what.sql; the table is in name order. */
static int
sqlite_migrate(struct sqlite_store *s)
{
	char	 sql[64];
	int	 have, latest = sqlite_schema_latest(), rc;

	if ((rc = user_version(s, &have)) < 0)
		return rc;
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
sqlite_pragmas(struct sqlite_store *s, enum store_durability d)
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
wal_sync(struct sqlite_store *s)
{
	sqlite3_file	*wal = NULL;
	int		 rc;

	rc = sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
	    &wal);
	if (rc != SQLITE_OK || wal == NULL || wal->pMethods == NULL)
		return 0;	/* no WAL written yet: nothing to sync */
	if ((rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL)) != SQLITE_OK)
		return sqlite_fail(s, "sync WAL", rc);
	return 0;
}

static int
prepare_insert_many(struct sqlite_store *s)
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
	return rc == SQLITE_OK ? 0 : sqlite_fail(s, "prepare batch insert", rc);
}

int
sqlite_open(struct store **out, const char *path, enum store_durability d)
{
	struct sqlite_store	*s;
	int		 rc;

	*out = NULL;
	/* One thread uses the store: no allocation statistics, no mutexes. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->base.ops = &sqlite_ops;
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_warnx("store: open %s: %s", path, s->db ?
		    sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		rc = sqlite_code(rc);
		goto fail;
	}
	if ((rc = sqlite_pragmas(s, d)) < 0 || (rc = sqlite_migrate(s)) < 0)
		goto fail;
	for (int i = 0; i < ST_COUNT_MAX; i++) {
		int src = sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);

		if (src != SQLITE_OK) {
			rc = sqlite_fail(s, stmt_sql[i], src);
			goto fail;
		}
	}
	if ((rc = prepare_insert_many(s)) < 0 ||
	    (rc = sqlite_hooks_load(s)) < 0)
		goto fail;
	*out = &s->base;
	return 0;
fail:
	sqlite_close(&s->base);
	return rc;
}

void
sqlite_close(struct store *store)
{
	struct sqlite_store	*s = sqlite_of(store);

	if (s == NULL)
		return;
	if (s->in_txn)
		sqlite_commit(&s->base, 1);
	for (int i = 0; i < ST_COUNT_MAX; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_finalize(s->insert_many);
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("store: close: %s", sqlite3_errmsg(s->db));
	free(s);
}

int
sqlite_begin(struct store *store)
{
	struct sqlite_store	*s = sqlite_of(store);
	int rc;

	if (s->txn_lost)
		return s->txn_error;
	if (s->in_txn)
		return 0;
	if ((rc = sqlite_run(s, ST_BEGIN)) < 0)
		return rc;
	s->in_txn = 1;
	return 0;
}

int
sqlite_in_txn(const struct store *store)
{
	const struct sqlite_store	*s = sqlite_of(store);
	return s->in_txn;
}

int
sqlite_commit(struct store *store, int sync)
{
	struct sqlite_store	*s = sqlite_of(store);
	int rc;

	if (!s->in_txn)
		return 0;
	if (s->txn_lost) {
		rc = s->txn_error;
		s->in_txn = s->txn_lost = 0;
		return rc;
	}
	s->in_txn = 0;
	if ((rc = sqlite_run(s, ST_COMMIT)) == 0)
		return sync && s->durable ? wal_sync(s) : 0;
	/* A failed COMMIT may leave the transaction open: end it. */
	if (!sqlite3_get_autocommit(s->db))
		sqlite_run(s, ST_ROLLBACK);
	return rc;
}

int
sqlite_mark(struct store *store)
{
	struct sqlite_store	*s = sqlite_of(store);
	int rc;

	if ((rc = sqlite_begin(&s->base)) < 0)
		return rc;
	return sqlite_run(s, ST_MARK);
}

int
sqlite_unmark(struct store *store, int keep)
{
	struct sqlite_store	*s = sqlite_of(store);
	int rc = 0;

	if (s->txn_lost)
		return s->txn_error;
	if (!keep)
		rc = sqlite_run(s, ST_UNDO);
	if (rc == 0)
		rc = sqlite_run(s, ST_UNMARK);
	return rc;
}

int
sqlite_ping(struct store *store)
{
	struct sqlite_store	*s = sqlite_of(store);
	int rc;

	if (s->in_txn)
		return 0;
	if ((rc = sqlite_run(s, ST_BEGIN)) < 0)
		return rc;
	return sqlite_run(s, ST_ROLLBACK);
}

const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sqlite_close,
	.begin = sqlite_begin,
	.in_txn = sqlite_in_txn,
	.commit = sqlite_commit,
	.mark = sqlite_mark,
	.unmark = sqlite_unmark,
	.ping = sqlite_ping,
	.submit = sqlite_submit,
	.get = sqlite_get,
	.head = sqlite_head,
	.claim = sqlite_claim,
	.finish = sqlite_finish,
	.set_state = sqlite_set_state,
	.requeue = sqlite_requeue,
	.promote = sqlite_promote,
	.delete = sqlite_delete,
	.list = sqlite_list,
	.running = sqlite_running,
	.count = sqlite_count,
	.finished_since = sqlite_finished_since,
	.overview = sqlite_overview,
	.expired = sqlite_expired,
	.queue_set = sqlite_queue_set,
	.queues = sqlite_queues,
	.add_deps = sqlite_add_deps,
	.dependents = sqlite_dependents,
	.dep_done = sqlite_dep_done,
	.next_due = sqlite_next_due,
	.due = sqlite_due,
	.idem_get = sqlite_idem_get,
	.idem_put = sqlite_idem_put,
	.idem_purge = sqlite_idem_purge,
	.sched = &sqlite_sched_ops,
	.hook = &sqlite_hook_ops,
};
