/*
 * The SQLite backend's job rows: inserting them (batches share one
 * statement), reading one back, and every change of a job's state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite.h"

static void
bind_job(sqlite3_stmt *st, int b, const struct job *j)
{
	sqlite3_bind_text(st, b + 1, job_type_name(j->type), -1, SQLITE_STATIC);
	sqlite_bind_text(st, b + 2, j->name);
	sqlite_bind_text(st, b + 3, j->queue);
	sqlite3_bind_int64(st, b + 4, j->priority);
	sqlite3_bind_text(st, b + 5, job_state_name(j->state), -1,
	    SQLITE_STATIC);
	sqlite_bind_text(st, b + 6, j->command);
	sqlite_bind_text(st, b + 7, j->argv_json);
	sqlite_bind_text(st, b + 8, j->env_json);
	sqlite_bind_text(st, b + 9, j->cwd);
	if (j->has_stdin)
		sqlite3_bind_blob64(st, b + 10, j->stdin_data ? j->stdin_data :
		    "", j->stdin_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, b + 10);
	sqlite_bind_opt(st, b + 11, j->timeout_ms, j->timeout_ms > 0);
	sqlite_bind_text(st, b + 12, j->limits_json);
	sqlite3_bind_int(st, b + 13, j->max_attempts);
	sqlite3_bind_int64(st, b + 14, j->created_at);
	sqlite_bind_opt(st, b + 15, j->run_at, j->run_at > 0);
	sqlite_bind_text(st, b + 16, j->file_name);
	sqlite_bind_opt(st, b + 17, j->file_size, j->file_name != NULL);
	sqlite_bind_text(st, b + 18, j->file_sha256);
	sqlite_bind_text(st, b + 19, j->after_json);
	sqlite3_bind_int(st, b + 20, j->deps_left);
	/* A job born failed (its dependency already had) says why. */
	sqlite_bind_text(st, b + 21, j->error);
	sqlite_bind_opt(st, b + 22, j->finished_at, j->finished_at > 0);
	sqlite_bind_opt(st, b + 23, (int64_t)j->schedule_id, j->schedule_id > 0);
	sqlite_bind_opt(st, b + 24, j->scheduled_for, j->schedule_id > 0);
	sqlite_bind_text(st, b + 25, j->webhooks_json);
	sqlite3_bind_int(st, b + 26, j->shell);
}

/*
 * Inserts n (1 or INSERT_ROWS) jobs with one statement.  Rows of one
 * statement get consecutive ids in order: nothing else inserts meanwhile.
 */
static int
insert_rows(struct sqlite_store *s, sqlite3_stmt *st, struct job *jobs, int n)
{
	uint64_t	 last;
	int		 rc;

	for (int i = 0; i < n; i++)
		bind_job(st, i * INSERT_PARAMS, &jobs[i]);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(s, "insert jobs", rc);
	last = (uint64_t)sqlite3_last_insert_rowid(s->db);
	for (int i = 0; i < n; i++)
		jobs[i].id = last - (uint64_t)(n - 1 - i);
	return 0;
}

int
sqlite_submit(struct store *store, struct job *jobs, size_t n, int64_t now_ms)
{
	struct sqlite_store	*s = sqlite_of(store);
	size_t	 i = 0;
	int	 rc;

	if ((rc = sqlite_begin(&s->base)) < 0)
		return rc;
	for (size_t k = 0; k < n; k++) {
		jobs[k].created_at = now_ms;
		s->hooks |= jobs[k].webhooks_json != NULL;
	}
	/* A statement costs about as much as three rows: batches share them. */
	for (; rc == 0 && n - i >= INSERT_ROWS; i += INSERT_ROWS)
		rc = insert_rows(s, s->insert_many, jobs + i, INSERT_ROWS);
	for (; rc == 0 && i < n; i++)
		rc = insert_rows(s, s->st[ST_INSERT], jobs + i, 1);
	/* Born finished (a dependency had failed): told of too. */
	for (size_t k = 0; rc == 0 && k < n; k++)
		if (job_state_finished(jobs[k].state))
			rc = sqlite_hooks_record(s, jobs[k].id);
	return rc;
}

/* Reads a row of JOB_COLUMNS. */
static int
row_job(sqlite3_stmt *st, struct job *j)
{
	int c = 0, t, state;

	job_init(j);
	j->id = (uint64_t)sqlite3_column_int64(st, c++);
	t = job_type_parse((const char *)sqlite3_column_text(st, c++));
	j->name = sqlite_col_str(st, c++);
	j->queue = sqlite_col_str(st, c++);
	j->priority = sqlite3_column_int64(st, c++);
	state = job_state_parse((const char *)sqlite3_column_text(st, c++));
	j->command = sqlite_col_str(st, c++);
	j->argv_json = sqlite_col_str(st, c++);
	j->env_json = sqlite_col_str(st, c++);
	j->cwd = sqlite_col_str(st, c++);
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
	j->timeout_ms = sqlite_col_opt(st, c++, 0);
	j->limits_json = sqlite_col_str(st, c++);
	j->attempts = sqlite3_column_int(st, c++);
	j->max_attempts = sqlite3_column_int(st, c++);
	j->created_at = sqlite3_column_int64(st, c++);
	j->run_at = sqlite_col_opt(st, c++, 0);
	j->started_at = sqlite_col_opt(st, c++, 0);
	j->finished_at = sqlite_col_opt(st, c++, 0);
	j->exit_code = (int)sqlite_col_opt(st, c++, -1);
	j->signal = (int)sqlite_col_opt(st, c++, -1);
	j->error = sqlite_col_str(st, c++);
	j->worker = (int)sqlite_col_opt(st, c++, -1);
	j->stdout_bytes = sqlite3_column_int64(st, c++);
	j->stderr_bytes = sqlite3_column_int64(st, c++);
	j->cpu_ms = sqlite_col_opt(st, c++, -1);
	j->max_rss_kb = sqlite_col_opt(st, c++, -1);
	j->file_name = sqlite_col_str(st, c++);
	j->file_size = sqlite_col_opt(st, c++, -1);
	j->file_sha256 = sqlite_col_str(st, c++);
	j->after_json = sqlite_col_str(st, c++);
	j->deps_left = sqlite3_column_int(st, c++);
	j->schedule_id = (uint64_t)sqlite_col_opt(st, c++, 0);
	j->scheduled_for = sqlite_col_opt(st, c++, 0);
	j->webhooks_json = sqlite_col_str(st, c++);
	j->shell = sqlite3_column_int(st, c++);
	if (t < 0 || state < 0) {
		job_clear(j);
		return -EIO;
	}
	j->type = t;
	j->state = state;
	return 0;
}

int
sqlite_get(struct store *store, uint64_t id, struct job *out)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt	*st = s->st[ST_GET];
	int		 rc;

	job_init(out);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = row_job(st, out);
	else if (rc == SQLITE_DONE)
		rc = -ENOENT;
	else
		rc = sqlite_fail(s, "get job", rc);
	sqlite3_reset(st);
	return rc;
}

/*
 * No RETURNING: SQLite gathers RETURNING rows in an ephemeral table,
 * which costs more than reading the row again by its key.
 */
int
sqlite_claim(struct store *store, uint64_t id, int worker, int64_t now_ms,
    struct job *out)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt	*st = s->st[ST_CLAIM];
	int		 rc;

	if ((rc = sqlite_begin(&s->base)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_int(st, 3, worker);
	if ((rc = sqlite_run(s, ST_CLAIM)) < 0)
		return rc;
	if (sqlite3_changes(s->db) != 1)
		return 0;
	if ((rc = sqlite_get(&s->base, id, out)) < 0)
		return rc;
	return 1;
}

int
sqlite_finish(struct store *store, const struct job_result *r)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt	*st = s->st[ST_FINISH];
	int		 rc;

	if ((rc = sqlite_begin(&s->base)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)r->id);
	sqlite3_bind_text(st, 2, job_state_name(r->state), -1, SQLITE_STATIC);
	sqlite_bind_opt(st, 3, r->exit_code, r->exit_code >= 0);
	sqlite_bind_opt(st, 4, r->signal, r->signal > 0);
	sqlite_bind_text(st, 5, r->error);
	sqlite_bind_opt(st, 6, r->finished_at, r->state != JOB_SCHEDULED);
	sqlite3_bind_int64(st, 7, r->stdout_bytes);
	sqlite3_bind_int64(st, 8, r->stderr_bytes);
	sqlite_bind_opt(st, 9, r->cpu_ms, r->cpu_ms >= 0);
	sqlite_bind_opt(st, 10, r->max_rss_kb, r->max_rss_kb >= 0);
	sqlite_bind_opt(st, 11, r->started_at, r->started_at > 0);
	sqlite_bind_opt(st, 12, r->run_at, r->state == JOB_SCHEDULED);
	if ((rc = sqlite_change(s, ST_FINISH, -EBUSY)) < 0)
		return rc;
	return job_state_finished(r->state) ? sqlite_hooks_record(s, r->id) : 0;
}

int
sqlite_set_state(struct store *store, uint64_t id, enum job_state from,
    enum job_state to, const char *error, int64_t finished_at)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt	*st = s->st[ST_SET_STATE];
	int		 rc;

	if ((rc = sqlite_begin(&s->base)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_text(st, 2, job_state_name(from), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, job_state_name(to), -1, SQLITE_STATIC);
	sqlite_bind_text(st, 4, error);
	sqlite_bind_opt(st, 5, finished_at, finished_at > 0);
	if ((rc = sqlite_change(s, ST_SET_STATE, -EBUSY)) < 0)
		return rc;
	return job_state_finished(to) ? sqlite_hooks_record(s, id) : 0;
}

int
sqlite_requeue(struct store *store, uint64_t id, enum job_state from,
    int undo_attempt, int deps_left)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt	*st = s->st[ST_REQUEUE];
	int		 rc;

	if ((rc = sqlite_begin(&s->base)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_text(st, 2, job_state_name(from), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, undo_attempt ? 1 : 0);
	sqlite3_bind_int(st, 4, deps_left);
	return sqlite_change(s, ST_REQUEUE, -EBUSY);
}

int
sqlite_promote(struct store *store, uint64_t id)
{
	struct sqlite_store	*s = sqlite_of(store);
	int rc;

	if ((rc = sqlite_begin(&s->base)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_PROMOTE], 1, (sqlite3_int64)id);
	return sqlite_change(s, ST_PROMOTE, -EBUSY);
}

int
sqlite_delete(struct store *store, uint64_t id)
{
	struct sqlite_store	*s = sqlite_of(store);
	int rc;

	if ((rc = sqlite_begin(&s->base)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_DEPS_FORGET], 1, (sqlite3_int64)id);
	if ((rc = sqlite_run(s, ST_DEPS_FORGET)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_DELETE], 1, (sqlite3_int64)id);
	if ((rc = sqlite_change(s, ST_DELETE, -ENOENT)) < 0)
		return rc;
	return sqlite_hooks_forget(s, id);
}

int
sqlite_running(struct store *store, uint64_t **ids, size_t *n)
{
	struct sqlite_store	*s = sqlite_of(store);
	return sqlite_ids(s, ST_RUNNING, ids, n);
}

int
sqlite_finished_since(struct store *store, int64_t since_ms,
    void (*cb)(void *, int64_t), void *arg)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt	*st = s->st[ST_FINISHED_SINCE];
	int		 rc;

	sqlite3_bind_int64(st, 1, since_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb(arg, sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(s, "finished since", rc);
}

int
sqlite_expired(struct store *store, int64_t before_ms, int limit,
    void (*cb)(void *, uint64_t, int), void *arg)
{
	struct sqlite_store	*s = sqlite_of(store);
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
	return rc == SQLITE_DONE ? n : sqlite_fail(s, "expired", rc);
}
