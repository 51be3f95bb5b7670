/*
 * The SQLite backend's flow control: who waits for whom, jobs waiting
 * for their time, and what each Idempotency-Key made.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/sqlite.h"

int
sqlite_add_deps(struct store *store, uint64_t job_id, const uint64_t *deps,
    size_t n)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt	*st = s->st[ST_DEP_ADD];
	int		 rc;

	if ((rc = sqlite_begin(&s->base)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)deps[i]);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)job_id);
		if ((rc = sqlite_run(s, ST_DEP_ADD)) < 0)
			return rc;
	}
	return 0;
}

int
sqlite_dependents(struct store *store, uint64_t dep_id, uint64_t **ids, size_t *n)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_bind_int64(s->st[ST_DEPENDENTS], 1, (sqlite3_int64)dep_id);
	return sqlite_ids(s, ST_DEPENDENTS, ids, n);
}

int
sqlite_dep_done(struct store *store, uint64_t job_id)
{
	struct sqlite_store	*s = sqlite_of(store);
	int rc;

	if ((rc = sqlite_begin(&s->base)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_DEP_DONE], 1, (sqlite3_int64)job_id);
	return sqlite_change(s, ST_DEP_DONE, 0);
}

int
sqlite_next_due(struct store *store, int64_t *run_at)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt	*st = s->st[ST_NEXT_DUE];
	int		 rc;

	rc = sqlite3_step(st);
	*run_at = rc == SQLITE_ROW ? sqlite_col_opt(st, 0, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : sqlite_fail(s, "next due", rc);
}

/*
 * Rows are gathered before cb runs: cb changes the jobs, and a statement
 * must not walk an index its own connection is rewriting.
 */
int
sqlite_due(struct store *store, int64_t now_ms, int limit,
    void (*cb)(void *, uint64_t, const char *), void *arg)
{
	struct sqlite_store	*s = sqlite_of(store);
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
	return rc == SQLITE_DONE ? n : sqlite_fail(s, "due", rc);
}

int
sqlite_idem_get(struct store *store, const char *key, int64_t since_ms,
    char *sha, size_t shasize, char **jobs_json, int *batch)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt	*st = s->st[ST_IDEM_GET];
	int		 rc;

	*jobs_json = NULL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since_ms);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(sha, shasize, "%s", (const char *)sqlite3_column_text(st, 0));
		*jobs_json = sqlite_col_str(st, 1);
		*batch = sqlite3_column_int(st, 2);
		rc = *jobs_json ? 1 : -ENOMEM;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = sqlite_fail(s, "idempotency get", rc);
	}
	sqlite3_reset(st);
	return rc;
}

int
sqlite_idem_put(struct store *store, const char *key, const char *sha,
    const char *jobs_json, int batch, int64_t now_ms)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt	*st = s->st[ST_IDEM_PUT];
	int		 rc;

	if ((rc = sqlite_begin(&s->base)) < 0)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, jobs_json, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, batch);
	sqlite3_bind_int64(st, 5, now_ms);
	return sqlite_run(s, ST_IDEM_PUT);
}

int
sqlite_idem_purge(struct store *store, int64_t before_ms)
{
	struct sqlite_store	*s = sqlite_of(store);
	int rc;

	if ((rc = sqlite_begin(&s->base)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_IDEM_PURGE], 1, before_ms);
	if ((rc = sqlite_run(s, ST_IDEM_PURGE)) < 0)
		return rc;
	return sqlite3_changes(s->db);
}
