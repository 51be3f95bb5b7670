/*
 * The SQLite backend's queues: their settings, the runnable job that
 * heads each, and how many jobs each holds in each state.
 */
#include "store/sqlite.h"

int
sqlite_head(struct store *store, const char *queue, uint64_t *id,
    int64_t *priority)
{
	struct sqlite_store	*s = sqlite_of(store);
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
		rc = sqlite_fail(s, "queue head", rc);
	}
	sqlite3_reset(st);
	return rc;
}

int
sqlite_count(struct store *store,
    void (*cb)(void *, const char *, enum job_state, int64_t), void *arg)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt	*st = s->st[ST_COUNT];
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int state = job_state_parse((const char *)sqlite3_column_text(st, 1));

		if (state >= 0)
			cb(arg, (const char *)sqlite3_column_text(st, 0), state,
			    sqlite3_column_int64(st, 2));
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(s, "count", rc);
}

int
sqlite_queue_set(struct store *store, const char *name, int paused,
    int concurrency)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt	*st = s->st[ST_QUEUE_SET];
	int		 rc;

	if ((rc = sqlite_begin(&s->base)) < 0)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, paused ? 1 : 0);
	sqlite_bind_opt(st, 3, concurrency, concurrency > 0);
	return sqlite_run(s, ST_QUEUE_SET);
}

int
sqlite_queues(struct store *store, void (*cb)(void *, const char *, int, int),
    void *arg)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt	*st = s->st[ST_QUEUES];
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb(arg, (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int(st, 1),
		    (int)sqlite_col_opt(st, 2, -1));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(s, "queues", rc);
}
