/*
 * The SQLite backend's listing: keyset pages of jobs, newest first, by
 * state, queue or type.
 */
#include <errno.h>
#include <stdlib.h>

#include "store/list_scan.h"
#include "store/list_where.h"
#include "vec.h"
#include "store/sqlite.h"

static int
row_matches(sqlite3_stmt *st, const struct job_filter *f)
{
	return list_scan_matches(f,
	    job_state_parse((const char *)sqlite3_column_text(st, 1)),
	    job_type_parse((const char *)sqlite3_column_text(st, 3)),
	    (const char *)sqlite3_column_text(st, 2));
}

struct list_ctx {
	struct sqlite_store	*s;
	const struct job_filter	*f;
};

/* One stream (store/list_scan.h): one statement, keeping the matches. */
static int
list_stream(void *arg, enum list_index ix, const char *key, int budget,
    struct list_scan *ls)
{
	static const enum stmt_id stmt[] = {
		[LIST_BY_STATE] = ST_LIST_STATE, [LIST_BY_QUEUE] = ST_LIST_QUEUE,
		[LIST_BY_TYPE] = ST_LIST_TYPE, [LIST_BY_ALL] = ST_LIST_ALL,
		[LIST_BY_SCHEDULE] = ST_LIST_SCHEDULE,
	};
	struct list_ctx		*c = arg;
	const struct job_filter	*f = c->f;
	sqlite3_stmt		*st = c->s->st[stmt[ix]];
	int64_t			 before = f->before ? (int64_t)f->before :
				    INT64_MAX;
	uint64_t		 last = 0;
	int			 rc, seen = 0;

	if (key)
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, before);
	sqlite3_bind_int(st, 3, budget);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		last = (uint64_t)sqlite3_column_int64(st, 0);
		seen++;
		if (row_matches(st, f) && list_scan_add(ls, last) < 0) {
			sqlite3_reset(st);
			return -ENOMEM;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(c->s, sqlite_sql(stmt[ix]), rc);
	list_scan_ended(ls, seen, budget, last);
	return 0;
}

/* list_where's statement, prepared for the occasion (it varies). */
static int
where_ids(void *arg, const struct list_sql *q, uint64_t **ids, size_t *n)
{
	struct list_ctx	*c = arg;
	sqlite3_stmt	*st = NULL;
	size_t		 cap = 0;
	int		 rc;

	*ids = NULL;
	*n = 0;
	rc = sqlite3_prepare_v2(c->s->db, q->sql, (int)q->len, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlite_fail(c->s, "list search", rc);
	for (int i = 0; i < q->n; i++) {
		if (q->is_text[i])
			sqlite3_bind_text(st, i + 1, q->text[i], -1,
			    SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, i + 1, q->num[i]);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (vec_grow(ids, &cap, *n + 1, sizeof(**ids)) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
		(*ids)[(*n)++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_NOMEM) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return -ENOMEM;
	}
	if (rc != SQLITE_DONE) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return sqlite_fail(c->s, "list search", rc);
	}
	return 0;
}

static const struct list_where_ops where_ops = {where_ids};

int
sqlite_list(struct store *store, const struct job_filter *f, struct job **jobs,
    size_t *n, uint64_t *next)
{
	struct list_ctx		 c = {sqlite_of(store), f};
	struct list_scan	 ls = {0};
	struct job		*js = NULL;
	size_t			 take, i;
	uint64_t		 resume;
	int			 rc;

	*jobs = NULL;
	*n = 0;
	*next = 0;
	if (list_where_wanted(f)) {
		rc = list_where_page(f, LIST_SQLITE, &where_ops, &c, &ls.ids,
		    &take, &resume);
		if (rc < 0)
			goto out;
	} else {
		if ((rc = list_scan_run(&ls, f, list_stream, &c)) < 0)
			goto out;
		take = list_scan_page(&ls, f->limit, &resume);
	}
	if (take && (js = calloc(take, sizeof(*js))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < take; i++) {
		if ((rc = sqlite_get(&c.s->base, ls.ids[i], &js[i])) < 0) {
			job_free_all(js, i);
			js = NULL;
			goto out;
		}
	}
	*next = resume;
	*jobs = js;
	*n = take;
out:
	free(ls.ids);
	return rc;
}
