/* The SQLite backend's overview for the dashboard (store/overview.h). */
#include <errno.h>

#include "store/overview.h"
#include "store/sqlite.h"

/* Steps statement id (bound) and calls row for each row; 0 or a code. */
static int
each(struct sqlite_store *s, enum stmt_id id, const char *what,
    int (*row)(sqlite3_stmt *, struct store_overview *, int64_t, size_t *),
    struct store_overview *o, int64_t now_ms, size_t *cap)
{
	sqlite3_stmt	*st = s->st[id];
	int		 rc, bad = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (bad == 0)
			bad = row(st, o, now_ms, cap);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(s, what, rc);
	return bad;
}

static int
row_retrying(sqlite3_stmt *st, struct store_overview *o, int64_t now_ms,
    size_t *cap)
{
	(void)now_ms;
	(void)cap;
	o->retrying = sqlite3_column_int64(st, 0);
	return 0;
}

static int
row_oldest(sqlite3_stmt *st, struct store_overview *o, int64_t now_ms,
    size_t *cap)
{
	(void)now_ms;
	(void)cap;
	o->has_oldest = 1;
	o->oldest_queued_ms = sqlite3_column_int64(st, 0);
	return 0;
}

static int
row_failed(sqlite3_stmt *st, struct store_overview *o, int64_t now_ms,
    size_t *cap)
{
	(void)cap;
	overview_failed_add(o, now_ms, sqlite3_column_int64(st, 0),
	    sqlite3_column_int64(st, 1));
	return 0;
}

static int
row_latency(sqlite3_stmt *st, struct store_overview *o, int64_t now_ms,
    size_t *cap)
{
	(void)now_ms;
	return overview_latency_add(o, sqlite3_column_int64(st, 0), cap);
}

int
sqlite_overview(struct store *store, int64_t now_ms, struct store_overview *o)
{
	struct sqlite_store	*s = sqlite_of(store);
	int64_t			 since = now_ms - OVERVIEW_LATENCY_MS;
	size_t			 cap = 0;
	int			 rc;

	if ((rc = each(s, ST_OV_RETRYING, "overview retrying", row_retrying,
	    o, now_ms, &cap)) < 0 ||
	    (rc = each(s, ST_OV_OLDEST, "overview oldest", row_oldest, o,
	    now_ms, &cap)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_OV_FAILED], 1,
	    (now_ms / 60000 - (OVERVIEW_MINUTES - 1)) * 60000);
	if ((rc = each(s, ST_OV_FAILED, "overview failed", row_failed, o,
	    now_ms, &cap)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_OV_FINISHED], 1, since);
	sqlite3_bind_int(s->st[ST_OV_FINISHED], 2, OVERVIEW_LATENCY_MAX);
	sqlite3_bind_int64(s->st[ST_OV_RUNNING], 1, since);
	if ((rc = each(s, ST_OV_FINISHED, "overview latency", row_latency, o,
	    now_ms, &cap)) < 0 ||
	    (rc = each(s, ST_OV_RUNNING, "overview latency", row_latency, o,
	    now_ms, &cap)) < 0)
		return rc;
	return 0;
}
