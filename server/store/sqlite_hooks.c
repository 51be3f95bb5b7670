/*
 * The SQLite backend's webhook deliveries (store/delivery.h): recorded by
 * the store calls that finish a job, leased, tried and read back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite.h"

/* Reads a row of DELIVERY_COLUMNS. */
static int
row_delivery(sqlite3_stmt *st, struct delivery *d)
{
	int c = 0;

	memset(d, 0, sizeof(*d));
	d->id = (uint64_t)sqlite3_column_int64(st, c++);
	d->job_id = (uint64_t)sqlite3_column_int64(st, c++);
	d->url = sqlite_col_str(st, c++);
	d->event = sqlite_col_str(st, c++);
	d->attempt = sqlite3_column_int(st, c++);
	d->created_at = sqlite3_column_int64(st, c++);
	d->state = delivery_state_parse((const char *)sqlite3_column_text(st,
	    c++));
	d->tries = sqlite3_column_int(st, c++);
	d->next_at = sqlite3_column_int64(st, c++);
	d->last_at = sqlite_col_opt(st, c++, 0);
	d->last_status = (int)sqlite_col_opt(st, c++, -1);
	d->last_error = sqlite_col_str(st, c++);
	if (d->url == NULL || d->event == NULL) {
		delivery_clear(d);
		return -ENOMEM;
	}
	return d->state < 0 ? -EIO : 0;
}

/* Steps a bound statement of DELIVERY_COLUMNS rows into an array. */
static int
rows(struct sqlite_store *s, enum stmt_id id, struct delivery **out,
    size_t *n)
{
	sqlite3_stmt	*st = s->st[id];
	struct delivery	*all = NULL, *grown;
	size_t		 k = 0, cap = 0;
	int		 rc;

	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			cap = cap ? cap * 2 : 8;
			if ((grown = realloc(all, cap * sizeof(*all))) == NULL) {
				rc = -ENOMEM;
				break;
			}
			all = grown;
		}
		if ((rc = row_delivery(st, &all[k])) < 0)
			break;
		k++;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc > 0)
		rc = sqlite_fail(s, sqlite_sql(id), rc);
	if (rc < 0) {
		delivery_free_all(all, k);
		return rc;
	}
	*out = all;
	*n = k;
	return 0;
}

static int
hook_next(struct store *store, int64_t *at)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt		*st = s->st[ST_HOOK_NEXT];
	int			 rc;

	rc = sqlite3_step(st);
	*at = rc == SQLITE_ROW ? sqlite_col_opt(st, 0, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : sqlite_fail(s, "next delivery", rc);
}

static int
hook_due(struct store *store, int64_t now_ms, int limit,
    struct delivery **out, size_t *n)
{
	struct sqlite_store *s = sqlite_of(store);

	sqlite3_bind_int64(s->st[ST_HOOK_DUE], 1, now_ms);
	sqlite3_bind_int(s->st[ST_HOOK_DUE], 2, limit);
	return rows(s, ST_HOOK_DUE, out, n);
}

static int
hook_lease(struct store *store, uint64_t id, int64_t next_at, int64_t until)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt		*st = s->st[ST_HOOK_LEASE];
	int			 rc;

	if ((rc = sqlite_begin(store)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	sqlite3_bind_int64(st, 2, next_at);
	sqlite3_bind_int64(st, 3, until);
	return sqlite_change(s, ST_HOOK_LEASE, -ESTALE);
}

static int
hook_tried(struct store *store, const struct delivery_try *t, int state,
    int64_t next_at)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt		*st = s->st[ST_HOOK_TRY];
	int			 rc;

	if ((rc = sqlite_begin(store)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)t->delivery_id);
	sqlite3_bind_int(st, 2, t->try);
	sqlite3_bind_int64(st, 3, t->at);
	sqlite_bind_opt(st, 4, t->status, t->status >= 0);
	sqlite_bind_text(st, 5, t->error);
	sqlite_bind_text(st, 6, t->response);
	if ((rc = sqlite_run(s, ST_HOOK_TRY)) < 0)
		return rc;
	st = s->st[ST_HOOK_TRIED];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)t->delivery_id);
	sqlite3_bind_text(st, 2, delivery_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, next_at);
	sqlite3_bind_int64(st, 4, t->at);
	sqlite_bind_opt(st, 5, t->status, t->status >= 0);
	sqlite_bind_text(st, 6, t->error);
	return sqlite_run(s, ST_HOOK_TRIED);
}

static int
hook_list(struct store *store, uint64_t job_id, struct delivery **out,
    size_t *n)
{
	struct sqlite_store *s = sqlite_of(store);

	sqlite3_bind_int64(s->st[ST_HOOK_LIST], 1, (sqlite3_int64)job_id);
	return rows(s, ST_HOOK_LIST, out, n);
}

static int
hook_tries(struct store *store, uint64_t job_id, struct delivery_try **out,
    size_t *n)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt		*st = s->st[ST_HOOK_TRIES];
	struct delivery_try	*all = NULL, *grown, *t;
	size_t			 k = 0, cap = 0;
	int			 rc;

	*out = NULL;
	*n = 0;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)job_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			cap = cap ? cap * 2 : 8;
			if ((grown = realloc(all, cap * sizeof(*all))) == NULL) {
				rc = -ENOMEM;
				break;
			}
			all = grown;
		}
		t = &all[k++];
		t->delivery_id = (uint64_t)sqlite3_column_int64(st, 0);
		t->try = sqlite3_column_int(st, 1);
		t->at = sqlite3_column_int64(st, 2);
		t->status = (int)sqlite_col_opt(st, 3, -1);
		t->error = sqlite_col_str(st, 4);
		t->response = sqlite_col_str(st, 5);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc > 0)
		rc = sqlite_fail(s, "delivery tries", rc);
	if (rc < 0) {
		delivery_try_free_all(all, k);
		return rc;
	}
	*out = all;
	*n = k;
	return 0;
}

int
sqlite_hooks_load(struct sqlite_store *s)
{
	sqlite3_stmt	*st = s->st[ST_HOOK_ANY];
	int		 rc = sqlite3_step(st);

	s->hooks = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : sqlite_fail(s, "any webhooks", rc);
}

int
sqlite_hooks_record(struct sqlite_store *s, uint64_t id)
{
	if (!s->hooks)
		return 0;
	sqlite3_bind_int64(s->st[ST_HOOK_RECORD], 1, (sqlite3_int64)id);
	return sqlite_run(s, ST_HOOK_RECORD);
}

int
sqlite_hooks_forget(struct sqlite_store *s, uint64_t id)
{
	int rc;

	if (!s->hooks)
		return 0;
	/* Their tries go with them (the orphan trigger of delivery_tries
	 * keeps a late answer from landing). */
	sqlite3_bind_int64(s->st[ST_HOOK_FORGET_TRIES], 1, (sqlite3_int64)id);
	if ((rc = sqlite_run(s, ST_HOOK_FORGET_TRIES)) < 0)
		return rc;
	sqlite3_bind_int64(s->st[ST_HOOK_FORGET], 1, (sqlite3_int64)id);
	return sqlite_run(s, ST_HOOK_FORGET);
}

static int
hook_queue_set(struct store *store, const char *queue, const char *json)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt		*st = s->st[ST_HOOK_QUEUE_SET];
	int			 rc;

	if ((rc = sqlite_begin(store)) < 0)
		return rc;
	s->hooks |= json != NULL;
	sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
	sqlite_bind_text(st, 2, json);
	return sqlite_run(s, ST_HOOK_QUEUE_SET);
}

static int
hook_queue_get(struct store *store, const char *queue, char **json)
{
	struct sqlite_store	*s = sqlite_of(store);
	sqlite3_stmt		*st = s->st[ST_HOOK_QUEUE_GET];
	int			 rc;

	*json = NULL;
	sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
	    (*json = sqlite_col_str(st, 0)) == NULL)
		rc = -ENOMEM;
	sqlite3_reset(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 0;
	return rc < 0 ? rc : sqlite_fail(s, "queue webhooks", rc);
}

const struct store_hook_ops sqlite_hook_ops = {
	.next = hook_next,
	.due = hook_due,
	.lease = hook_lease,
	.tried = hook_tried,
	.list = hook_list,
	.tries = hook_tries,
	.queue_set = hook_queue_set,
	.queue_get = hook_queue_get,
};
