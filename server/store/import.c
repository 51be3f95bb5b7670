/*
 * runneld --import, the rows and the transaction (store/import.h):
 * runnel.db opened read-only on one side, the PostgreSQL store's turn on
 * the other, one transaction from the checks to the commit.  Tables go
 * over with binary COPY (store/pgcopy.h) as SQLite holds them: NULL
 * stays NULL, ids stay, and a value of the wrong kind for its column
 * stops the import rather than being converted.  Then the jobs found
 * running end as a restart ends them (the caller's rule), the cluster's
 * counts and the id sequence are set, and the output and files follow
 * (store/import_data.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "store/import_int.h"
#include "store/pgcopy.h"
#include "store/sqlite.h"
#include "vec.h"

/* The kinds of column: what SQLite must hold there, what COPY sends. */
enum col {
	C_I64,		/* bigint */
	C_I32,		/* integer */
	C_TEXT,
	C_BYTES		/* bytea */
};

/* JOB_COLUMNS (sqlite.h), read from SQLite and written to the same
 * columns of PostgreSQL's jobs; its node column (which node ran the
 * attempt) stays NULL: no node of the cluster did. */
static const enum col job_cols[] = {
	C_I64, C_TEXT, C_TEXT, C_TEXT, C_I64, C_TEXT, C_TEXT, C_TEXT, C_TEXT,
	C_TEXT, C_BYTES, C_I64, C_TEXT, C_I32, C_I32, C_I64, C_I64, C_I64,
	C_I64, C_I32, C_I32, C_TEXT, C_I32, C_I64, C_I64, C_I64, C_I64,
	C_TEXT, C_I64, C_TEXT, C_TEXT, C_I32, C_I64, C_I64, C_TEXT, C_I32,
};
static const enum col queue_cols[] = {C_TEXT, C_I32, C_I32, C_TEXT};
static const enum col sched_cols[] = {C_I64, C_TEXT, C_TEXT, C_TEXT, C_TEXT,
	C_TEXT, C_TEXT, C_I32, C_I64, C_I64, C_I64, C_I64, C_I64};
static const enum col tick_cols[] = {C_I64, C_I64, C_I64};
static const enum col delivery_cols[] = {C_I64, C_I64, C_TEXT, C_TEXT, C_I32,
	C_I64, C_TEXT, C_I32, C_I64, C_I64, C_I32, C_TEXT};
static const enum col try_cols[] = {C_I64, C_I32, C_I64, C_I32, C_TEXT,
	C_TEXT};
static const enum col dep_cols[] = {C_I64, C_I64};
static const enum col key_cols[] = {C_TEXT, C_TEXT, C_TEXT, C_I32, C_I64};

#define JOB_STATE_COL	5

struct table {
	const char	*name;		/* for logs and progress */
	const char	*select;	/* on SQLite */
	const char	*target;	/* of the COPY */
	const enum col	*cols;
	int		 ncols;
};

enum { T_QUEUES, T_JOBS, T_DEPS, T_KEYS, T_SCHEDULES, T_TICKS, T_DELIVERIES,
	T_TRIES, T_COUNT };

static const struct table tables[T_COUNT] = {
	[T_QUEUES] = {"queues", "SELECT name, paused, concurrency, webhooks "
	    "FROM queues", "queues (name, paused, concurrency, webhooks)",
	    queue_cols, 4},
	[T_JOBS] = {"jobs", "SELECT " JOB_COLUMNS " FROM jobs ORDER BY id",
	    "jobs (" JOB_COLUMNS ")", job_cols, 36},
	[T_DEPS] = {"dependencies", "SELECT dep_id, job_id FROM job_deps",
	    "job_deps (dep_id, job_id)", dep_cols, 2},
	[T_KEYS] = {"idempotency keys", "SELECT key, body_sha, jobs, batch, "
	    "created_at FROM idempotency", "idempotency (key, body_sha, jobs, "
	    "batch, created_at)", key_cols, 5},
	[T_SCHEDULES] = {"schedules", "SELECT id, name, cron, timezone, job, "
	    "overlap, misfire, paused, until, created_at, next_at, last_job, "
	    "waiting FROM schedules", "schedules (id, name, cron, timezone, "
	    "job, overlap, misfire, paused, until, created_at, next_at, "
	    "last_job, waiting)", sched_cols, 13},
	[T_TICKS] = {"schedule ticks", "SELECT schedule_id, tick, job_id FROM "
	    "schedule_ticks", "schedule_ticks (schedule_id, tick, job_id)",
	    tick_cols, 3},
	[T_DELIVERIES] = {"webhook deliveries", "SELECT id, job_id, url, event, "
	    "attempt, created_at, state, tries, next_at, last_at, last_status, "
	    "last_error FROM deliveries", "deliveries (id, job_id, url, event, "
	    "attempt, created_at, state, tries, next_at, last_at, last_status, "
	    "last_error)", delivery_cols, 12},
	[T_TRIES] = {"webhook tries", "SELECT delivery_id, try, at, status, "
	    "error, response FROM delivery_tries", "delivery_tries "
	    "(delivery_id, try, at, status, error, response)", try_cols, 6},
};

_Static_assert(sizeof(job_cols) / sizeof(job_cols[0]) == 36,
    "a kind for every column of JOB_COLUMNS");

/* ---- the source ---- */

int
import_src_fail(struct import *x, const char *what, int rc)
{
	log_warnx("import: %s: %s", what, x->src ? sqlite3_errmsg(x->src) :
	    sqlite3_errstr(rc));
	return (rc & 0xff) == SQLITE_NOMEM ? -ENOMEM : -EIO;
}

int
import_src_prepare(struct import *x, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(x->src, sql, -1, st, NULL);

	return rc == SQLITE_OK ? 0 : import_src_fail(x, sql, rc);
}

int
import_src_int(struct import *x, const char *sql, int64_t *v)
{
	sqlite3_stmt	*st;
	int		 rc;

	*v = 0;
	if ((rc = import_src_prepare(x, sql, &st)) < 0)
		return rc;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 :
	    import_src_fail(x, sql, rc);
	sqlite3_finalize(st);
	return rc;
}

void
import_progress(struct import *x, const char *phase, int64_t done,
    int64_t total, uint64_t bytes, int final)
{
	int64_t now = clock_mono_ms();

	if (x->hooks->progress == NULL || (!final && now - x->shown_at < 1000))
		return;
	x->shown_at = now;
	x->hooks->progress(x->hooks->arg, phase, done, total, bytes, final);
}

/*
 * runnel.db, read-only, at the schema version of this runneld (it cannot
 * migrate what it must not change), in one read transaction: every
 * query sees the same database.
 */
static int
open_source(struct import *x, const char *path)
{
	int64_t	 version;
	int	 latest = sqlite_schema_latest(), rc;

	if (access(path, R_OK) != 0) {
		rc = -errno;
		log_warnx("import: %s: %s%s", path, strerror(-rc), rc == -ENOENT ?
		    " (not the data directory of a runneld)" : "");
		return rc;
	}
	if ((rc = sqlite3_open_v2(path, &x->src, SQLITE_OPEN_READONLY, NULL)) !=
	    SQLITE_OK)
		return import_src_fail(x, path, rc);
	sqlite3_busy_timeout(x->src, 5000);
	if ((rc = import_src_int(x, "PRAGMA user_version", &version)) < 0)
		return rc;
	if (version != latest) {
		log_warnx("import: %s is at schema version %" PRId64 ", this "
		    "runneld's is %d: %s", path, version, latest, version < latest ?
		    "start this runneld on the directory once (it brings the "
		    "database up to date), stop it, then import" :
		    "import with the newer runneld that made it");
		return -EPROTO;
	}
	if ((rc = sqlite3_exec(x->src, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK)
		return import_src_fail(x, "begin", rc);
	return 0;
}

/* ---- the target ---- */

/*
 * Nothing may write the tables while the import fills them, and they
 * must hold nothing: an import never merges two histories.  A live
 * node would claim jobs as they land, with counts and timers that
 * never heard of them: stopped nodes only.
 */
static int
check_target(struct import *x)
{
	PGresult	*r;
	int64_t		 jobs, queues, keys;
	int		 rc;

	if ((rc = pg_exec_sql(x->dst, "import: lock", "SET LOCAL lock_timeout "
	    "= '10s'; LOCK TABLE jobs, queues, job_deps, idempotency, schedules, deliveries IN "
	    "EXCLUSIVE MODE", NULL, NULL)) < 0 ||
	    (rc = pg_exec_sql(x->dst, "import: the database", "SELECT "
	    "(SELECT count(*) FROM jobs), (SELECT count(*) FROM queues), "
	    "(SELECT count(*) FROM idempotency), (SELECT string_agg(id, ', ' "
	    "ORDER BY id) FROM nodes WHERE beat_at > now() - timeout_ms * "
	    "interval '1 millisecond')", NULL, &r)) < 0)
		return rc;
	jobs = pg_int(r, 0, 0);
	queues = pg_int(r, 0, 1);
	keys = pg_int(r, 0, 2);
	rc = -EEXIST;
	if (!PQgetisnull(r, 0, 3))
		log_warnx("import: a node runs on the database (%s): stop every "
		    "node before the import", PQgetvalue(r, 0, 3));
	else if (jobs > 0)
		log_warnx("import: the database holds %" PRId64 " job(s) "
		    "already: an import goes into a database without jobs, "
		    "and never merges two histories", jobs);
	else if (queues > 0 || keys > 0)
		log_warnx("import: the database holds %s already (%" PRId64 "): "
		    "an import goes into a database without them", queues > 0 ?
		    "queue settings" : "idempotency keys", queues > 0 ? queues :
		    keys);
	else
		rc = 0;
	PQclear(r);
	return rc;
}

/* ---- the tables ---- */

/* Column i of the source's row into the COPY, as kind says. */
static int
copy_value(struct import *x, struct pgcopy *cp, sqlite3_stmt *st, int i,
    enum col kind, const char *table)
{
	int		 t = sqlite3_column_type(st, i);
	int64_t		 v;
	const void	*p;

	if (t == SQLITE_NULL) {
		pgcopy_null(cp);
		return 0;
	}
	switch (kind) {
	case C_I64:
	case C_I32:
		v = sqlite3_column_int64(st, i);
		if (t != SQLITE_INTEGER || (kind == C_I32 &&
		    (v < INT32_MIN || v > INT32_MAX))) {
			log_warnx("import: %s %s: %s is not an integer of its "
			    "column: %s", table, sqlite3_column_text(st, 0),
			    sqlite3_column_name(st, i), sqlite3_column_text(st, i));
			return -EPROTO;
		}
		if (kind == C_I64)
			pgcopy_i64(cp, v);
		else
			pgcopy_i32(cp, (int32_t)v);
		return 0;
	case C_TEXT:
	case C_BYTES:
		p = kind == C_TEXT ? (const void *)sqlite3_column_text(st, i) :
		    sqlite3_column_blob(st, i);
		if (p == NULL && sqlite3_errcode(x->src) == SQLITE_NOMEM)
			return -ENOMEM;
		pgcopy_bytes(cp, p ? p : "", (size_t)sqlite3_column_bytes(st, i));
		return 0;
	}
	return -EINVAL;
}

/* What the import notes of a job row as it goes by. */
static int
job_seen(struct import *x, sqlite3_stmt *st)
{
	const char *state = (const char *)sqlite3_column_text(st, JOB_STATE_COL);

	if (state && strcmp(state, "running") == 0) {
		if (vec_grow(&x->running, &x->running_cap, x->nrunning + 1,
		    sizeof(*x->running)) < 0)
			return -ENOMEM;
		x->running[x->nrunning++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	if (++x->st->jobs % 1024 == 0)
		import_progress(x, "jobs", x->st->jobs, x->jobs_total, 0, 0);
	return 0;
}

/* One table, whole, in one COPY.  *rows gets how many.  0 or a code. */
static int
copy_table(struct import *x, const struct table *t, int64_t *rows,
    int (*seen)(struct import *, sqlite3_stmt *))
{
	sqlite3_stmt	*st;
	struct pgcopy	 cp;
	int		 rc, src = SQLITE_DONE, end;

	if ((rc = import_src_prepare(x, t->select, &st)) < 0)
		return rc;
	if ((rc = pgcopy_start(&cp, x->dst, t->name, t->target)) < 0) {
		sqlite3_finalize(st);
		return rc;
	}
	while (rc == 0 && cp.err == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
		pgcopy_row(&cp, t->ncols);
		for (int i = 0; rc == 0 && i < t->ncols; i++)
			rc = copy_value(x, &cp, st, i, t->cols[i], t->name);
		if (rc == 0 && seen)
			rc = seen(x, st);
	}
	if (rc == 0 && cp.err == 0 && src != SQLITE_DONE)
		rc = import_src_fail(x, t->select, src);
	if (rc < 0)
		pgcopy_fail(&cp, rc);
	sqlite3_finalize(st);
	*rows = cp.rows;
	end = pgcopy_end(&cp);
	return rc < 0 ? rc : end;
}

/*
 * The jobs found running: no runneld runs them any more, so each ends
 * as a restart of runneld ends it (the caller's rule), in this
 * transaction, now that every job and dependency is there.
 */
static int
restart_running(struct import *x)
{
	for (size_t i = 0; i < x->nrunning; i++) {
		struct job	 j;
		enum job_state	 state = JOB_RUNNING;
		int		 after = 0, rc;

		if ((rc = store_get(&x->dst->base, x->running[i], &j)) < 0)
			return rc;
		rc = x->hooks->restart(x->hooks->arg, &x->dst->base, &j,
		    x->now_ms, &state, &after);
		if (rc == 0)
			log_info("import: job=%llu attempt=%d was running: %s%s",
			    (unsigned long long)j.id, j.attempts,
			    state == JOB_FAILED ? "failed (server restarted)" :
			    "retried later", after ? ", and the jobs waiting "
			    "for it failed" : "");
		job_clear(&j);
		if (rc < 0)
			return rc;
		x->st->running++;
		x->st->retried += state != JOB_FAILED;
		x->st->failed += state == JOB_FAILED;
		x->st->deps_failed += after;
	}
	return 0;
}

/*
 * The cluster keeps counts by queue and state, and finishes by minute
 * for the last hour, rather than counting the jobs table: the imported
 * jobs are added to them as the shared ones (node '').
 */
static int
counts(struct import *x)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_exec_sql(x->dst, "import: counts", "INSERT INTO "
	    "job_counts AS c (node, queue, state, n) SELECT '', queue, state, "
	    "count(*) FROM jobs GROUP BY queue, state ON CONFLICT (node, "
	    "queue, state) DO UPDATE SET n = c.n + excluded.n", NULL, NULL)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (x->now_ms - 3600 * 1000) / 60000);
	return pg_exec_sql(x->dst, "import: minutes", "INSERT INTO job_minutes "
	    "AS m (node, minute, n) SELECT '', finished_at / 60000, count(*) "
	    "FROM jobs WHERE finished_at / 60000 >= $1 GROUP BY 2 ON CONFLICT "
	    "(node, minute) DO UPDATE SET n = m.n + excluded.n", &p, NULL);
}

/*
 * New jobs get ids above every id the directory ever gave (SQLite's
 * AUTOINCREMENT remembers deleted ones) and above the sequence's own.
 */
static int
sequence(struct import *x, const char *table, uint64_t *next)
{
	struct pg_params	 p;
	PGresult		*r;
	char			 sql[256];
	int64_t			 top;
	int			 rc;

	snprintf(sql, sizeof(sql), "SELECT max(coalesce((SELECT seq FROM "
	    "sqlite_sequence WHERE name = '%s'), 0), coalesce((SELECT "
	    "max(id) FROM %s), 0))", table, table);
	if ((rc = import_src_int(x, sql, &top)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, top);
	pg_param_text(&p, table);
	if ((rc = pg_exec_sql(x->dst, "import: id sequence", "SELECT setval(q, "
	    "v) FROM (SELECT s::regclass AS q, greatest($1::bigint, coalesce("
	    "pg_sequence_last_value(s::regclass), 0)) AS v FROM "
	    "pg_get_serial_sequence($2, 'id') AS s) x WHERE v > 0", &p,
	    &r)) < 0)
		return rc;
	if (next)
		*next = PQntuples(r) == 1 ? (uint64_t)pg_int(r, 0, 0) + 1 : 1;
	PQclear(r);
	return 0;
}

/* Schedules and webhooks: rows as they are, ids kept. */
static int
copy_hooks_and_schedules(struct import *x)
{
	int64_t	 n;
	int	 rc;

	if ((rc = copy_table(x, &tables[T_SCHEDULES], &n, NULL)) < 0 ||
	    (rc = copy_table(x, &tables[T_TICKS], &n, NULL)) < 0 ||
	    (rc = copy_table(x, &tables[T_DELIVERIES], &n, NULL)) < 0 ||
	    (rc = copy_table(x, &tables[T_TRIES], &n, NULL)) < 0 ||
	    (rc = sequence(x, "schedules", NULL)) < 0)
		return rc;
	return sequence(x, "deliveries", NULL);
}

/* The rows of runnel.db, their consequences, and the data. */
static int
copy_all(struct import *x)
{
	struct import_stats	*st = x->st;
	int64_t			 jobs;
	int			 rc;

	if ((rc = import_src_int(x, "SELECT count(*) FROM jobs",
	    &x->jobs_total)) < 0 ||
	    (rc = copy_table(x, &tables[T_QUEUES], &st->queues, NULL)) < 0 ||
	    /* Their deliveries come as they are, not again from the trigger
	     * that records those of a job born finished. */
	    (rc = pg_exec_sql(x->dst, "import: hooks", "ALTER TABLE jobs "
	    "DISABLE TRIGGER jobs_born_hooks", NULL, NULL)) < 0 ||
	    (rc = copy_table(x, &tables[T_JOBS], &jobs, job_seen)) < 0 ||
	    (rc = pg_exec_sql(x->dst, "import: hooks", "ALTER TABLE jobs "
	    "ENABLE TRIGGER jobs_born_hooks", NULL, NULL)) < 0 ||
	    (rc = copy_hooks_and_schedules(x)) < 0)
		return rc;
	import_progress(x, "jobs", st->jobs, x->jobs_total, 0, 1);
	if ((rc = copy_table(x, &tables[T_DEPS], &st->deps, NULL)) < 0 ||
	    (rc = copy_table(x, &tables[T_KEYS], &st->keys, NULL)) < 0 ||
	    (rc = restart_running(x)) < 0 || (rc = counts(x)) < 0 ||
	    (rc = sequence(x, "jobs", &st->next_id)) < 0 || (rc = import_output(x)) < 0 ||
	    (rc = import_files(x)) < 0)
		return rc;
	return 0;
}

int
import_copy(const char *dir, struct store *dst,
    const struct import_hooks *hooks, struct import_stats *st)
{
	struct import	 x;
	char		 db[PATH_MAX];
	int		 rc;

	memset(st, 0, sizeof(*st));
	memset(&x, 0, sizeof(x));
	if (strcmp(store_backend(dst), "postgresql") != 0 ||
	    hooks->restart == NULL)
		return -EINVAL;
	x.dst = pg_of(dst);
	x.hooks = hooks;
	x.st = st;
	x.now_ms = clock_now_ms();
	x.shown_at = clock_mono_ms();
	if (snprintf(db, sizeof(db), "%s/runnel.db", dir) >= (int)sizeof(db) ||
	    snprintf(x.output_dir, sizeof(x.output_dir), "%s/output", dir) >=
	    (int)sizeof(x.output_dir) ||
	    snprintf(x.files_dir, sizeof(x.files_dir), "%s/files", dir) >=
	    (int)sizeof(x.files_dir))
		return -ENAMETOOLONG;
	if ((rc = open_source(&x, db)) < 0)
		goto out;
	if ((rc = pg_begin(dst)) < 0)
		goto out;
	if ((rc = check_target(&x)) < 0 || (rc = copy_all(&x)) < 0) {
		/* Nothing of it stays: the turn is rolled back, then ended. */
		pg_turn_failed(x.dst, rc);
		pg_commit(dst, 0);
		goto out;
	}
	rc = pg_commit(dst, 1);
out:
	if (x.src)
		sqlite3_close(x.src);	/* the read transaction ends with it */
	free(x.running);
	return rc;
}
