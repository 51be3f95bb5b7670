/*
 * The SQLite backend's schedules (store/schedule.h): their rows and the
 * ticks fired.
 */
#include <errno.h>
#include <stdlib.h>

#include "store/sqlite.h"

/* Binds sc's fields as ?1 (id) ... ?9 (until), and with state the rest
 * up to ?13 (waiting). */
static void
bind_sched(sqlite3_stmt *st, const struct schedule *sc, int state)
{
	sqlite3_bind_int64(st, 1, (sqlite3_int64)sc->id);
	sqlite_bind_text(st, 2, sc->name);
	sqlite_bind_text(st, 3, sc->cron);
	sqlite_bind_text(st, 4, sc->timezone);
	sqlite_bind_text(st, 5, sc->job_json);
	sqlite3_bind_text(st, 6, schedule_overlap_name(sc->overlap), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 7, schedule_misfire_name(sc->misfire), -1,
	    SQLITE_STATIC);
	sqlite3_bind_int(st, 8, sc->paused != 0);
	sqlite_bind_opt(st, 9, sc->until, sc->until > 0);
	if (!state)
		return;
	sqlite3_bind_int64(st, 10, sc->created_at);
	sqlite_bind_opt(st, 11, sc->next_at, sc->next_at > 0);
	sqlite_bind_opt(st, 12, (int64_t)sc->last_job, sc->last_job > 0);
	sqlite_bind_opt(st, 13, sc->waiting, sc->waiting > 0);
}

/* Reads a row of SCHED_COLUMNS; 0, -ENOMEM or -EIO (a policy unknown). */
static int
row_sched(sqlite3_stmt *st, struct schedule *sc)
{
	int c = 0;

	schedule_init(sc);
	sc->id = (uint64_t)sqlite3_column_int64(st, c++);
	sc->name = sqlite_col_str(st, c++);
	sc->cron = sqlite_col_str(st, c++);
	sc->timezone = sqlite_col_str(st, c++);
	sc->job_json = sqlite_col_str(st, c++);
	sc->overlap = schedule_overlap_parse(
	    (const char *)sqlite3_column_text(st, c++));
	sc->misfire = schedule_misfire_parse(
	    (const char *)sqlite3_column_text(st, c++));
	sc->paused = sqlite3_column_int(st, c++);
	sc->until = sqlite_col_opt(st, c++, 0);
	sc->created_at = sqlite3_column_int64(st, c++);
	sc->next_at = sqlite_col_opt(st, c++, 0);
	sc->last_job = (uint64_t)sqlite_col_opt(st, c++, 0);
	sc->waiting = sqlite_col_opt(st, c++, 0);
	if (!sc->name || !sc->cron || !sc->timezone || !sc->job_json) {
		schedule_clear(sc);
		return -ENOMEM;
	}
	if (sc->overlap < 0 || sc->misfire < 0) {
		schedule_clear(sc);
		return -EIO;
	}
	return 0;
}

static int
sched_add(struct store *store, struct schedule *sc)
{
	struct sqlite_store	*s = sqlite_of(store);
	int			 rc;

	if ((rc = sqlite_begin(store)) < 0)
		return rc;
	bind_sched(s->st[ST_SCHED_ADD], sc, 1);
	if ((rc = sqlite_change(s, ST_SCHED_ADD, -EEXIST)) < 0)
		return rc;
	sc->id = (uint64_t)sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int
sched_get(struct store *store, uint64_t id, struct schedule *out)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt		*st = s->st[ST_SCHED_GET];
	int			 rc;

	schedule_init(out);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = row_sched(st, out);
	else if (rc == SQLITE_DONE)
		rc = -ENOENT;
	else
		rc = sqlite_fail(s, "get schedule", rc);
	sqlite3_reset(st);
	return rc;
}

static int
sched_all(struct store *store, struct schedule **out, size_t *n)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt		*st = s->st[ST_SCHED_ALL];
	struct schedule		*all = NULL, *grown;
	size_t			 k = 0, cap = 0;
	int			 rc;

	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			cap = cap ? cap * 2 : 16;
			if ((grown = realloc(all, cap * sizeof(*all))) == NULL) {
				rc = -ENOMEM;
				break;
			}
			all = grown;
		}
		if ((rc = row_sched(st, &all[k])) < 0)
			break;
		k++;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc > 0)
		rc = sqlite_fail(s, "list schedules", rc);
	if (rc < 0) {
		schedule_free_all(all, k);
		return rc;
	}
	*out = all;
	*n = k;
	return 0;
}

/* Why a put changed no row: -ENOENT if the schedule is gone, else -EEXIST. */
static int
put_refused(struct store *store, uint64_t id)
{
	struct schedule	 sc;
	int		 rc = sched_get(store, id, &sc);

	schedule_clear(&sc);
	return rc == 0 ? -EEXIST : rc;
}

static int
sched_put(struct store *store, const struct schedule *sc)
{
	struct sqlite_store	*s = sqlite_of(store);
	int			 rc;

	if ((rc = sqlite_begin(store)) < 0)
		return rc;
	bind_sched(s->st[ST_SCHED_PUT], sc, 0);
	/* A row unchanged is a name in use, or a schedule gone. */
	if ((rc = sqlite_change(s, ST_SCHED_PUT, -EEXIST)) == -EEXIST)
		rc = put_refused(store, sc->id);
	return rc;
}

static int
sched_delete(struct store *store, uint64_t id)
{
	struct sqlite_store	*s = sqlite_of(store);
	int			 rc;

	if ((rc = sqlite_begin(store)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_SCHED_TICKS_DELETE], 1, (sqlite3_int64)id);
	if ((rc = sqlite_run(s, ST_SCHED_TICKS_DELETE)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_SCHED_DELETE], 1, (sqlite3_int64)id);
	return sqlite_change(s, ST_SCHED_DELETE, -ENOENT);
}

static int
sched_next(struct store *store, int64_t *at)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt		*st = s->st[ST_SCHED_NEXT];
	int			 rc;

	rc = sqlite3_step(st);
	*at = rc == SQLITE_ROW ? sqlite_col_opt(st, 0, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : sqlite_fail(s, "next schedule", rc);
}

static int
sched_due(struct store *store, int64_t now_ms, int limit, uint64_t **ids,
    size_t *n)
{
	struct sqlite_store	*s = sqlite_of(store);

	sqlite3_bind_int64(s->st[ST_SCHED_DUE], 1, now_ms);
	sqlite3_bind_int(s->st[ST_SCHED_DUE], 2, limit);
	return sqlite_ids(s, ST_SCHED_DUE, ids, n);
}

static int
sched_owed(struct store *store, uint64_t **ids, size_t *n)
{
	return sqlite_ids(sqlite_of(store), ST_SCHED_OWED, ids, n);
}

static int
sched_advance(struct store *store, uint64_t id, int64_t from, int64_t to)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt		*st = s->st[ST_SCHED_ADVANCE];
	int			 rc;

	if ((rc = sqlite_begin(store)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_int64(st, 2, from);
	sqlite_bind_opt(st, 3, to, to > 0);
	return sqlite_change(s, ST_SCHED_ADVANCE, -ESTALE);
}

static int
sched_made(struct store *store, uint64_t id, uint64_t last_job,
    int64_t waiting)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt		*st = s->st[ST_SCHED_MADE];
	int			 rc;

	if ((rc = sqlite_begin(store)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite_bind_opt(st, 2, (int64_t)last_job, last_job > 0);
	sqlite_bind_opt(st, 3, waiting, waiting > 0 || waiting == SCHED_KEEP);
	return sqlite_change(s, ST_SCHED_MADE, -ENOENT);
}

static int
sched_replan(struct store *store, uint64_t id, int64_t next_at)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt		*st = s->st[ST_SCHED_REPLAN];
	int			 rc;

	if ((rc = sqlite_begin(store)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite_bind_opt(st, 2, next_at, next_at > 0);
	return sqlite_change(s, ST_SCHED_REPLAN, -ENOENT);
}

static int
sched_tick_job(struct store *store, uint64_t id, int64_t tick, uint64_t job)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt		*st = s->st[ST_SCHED_TICK_JOB];
	int			 rc;

	if ((rc = sqlite_begin(store)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_int64(st, 2, tick);
	sqlite_bind_opt(st, 3, (int64_t)job, job > 0);
	return sqlite_change(s, ST_SCHED_TICK_JOB, -ENOENT);
}

static int
sched_tick(struct store *store, uint64_t id, int64_t tick, uint64_t job)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt		*st = s->st[ST_SCHED_TICK];
	int			 rc;

	if ((rc = sqlite_begin(store)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_int64(st, 2, tick);
	sqlite_bind_opt(st, 3, (int64_t)job, job > 0);
	return sqlite_change(s, ST_SCHED_TICK, -EEXIST);
}

static int
sched_ticks_purge(struct store *store, int64_t before_ms)
{
	struct sqlite_store	*s = sqlite_of(store);
	int			 rc;

	if ((rc = sqlite_begin(store)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_SCHED_TICKS_PURGE], 1, before_ms);
	return sqlite_run(s, ST_SCHED_TICKS_PURGE);
}

const struct store_sched_ops sqlite_sched_ops = {
	.add = sched_add,
	.get = sched_get,
	.all = sched_all,
	.put = sched_put,
	.replan = sched_replan,
	.delete = sched_delete,
	.next = sched_next,
	.due = sched_due,
	.owed = sched_owed,
	.advance = sched_advance,
	.made = sched_made,
	.tick = sched_tick,
	.tick_job = sched_tick_job,
	.ticks_purge = sched_ticks_purge,
};
