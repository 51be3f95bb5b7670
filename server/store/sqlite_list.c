/*
 * The SQLite backend's listing: keyset pages of jobs, newest first, by
 * state, queue or type.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite.h"
#include "vec.h"

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
list_stream(struct sqlite_store *s, enum stmt_id id, const struct job_filter *f,
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
		if (vec_grow(&ls->ids, &ls->cap, ls->n + 1, sizeof(*ls->ids)) < 0) {
			sqlite3_reset(st);
			return -ENOMEM;
		}
		ls->ids[ls->n++] = last;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(s, sqlite_sql(id), rc);
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
list_scan(struct sqlite_store *s, const struct job_filter *f, struct list_scan *ls)
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
sqlite_list(struct store *store, const struct job_filter *f, struct job **jobs,
    size_t *n, uint64_t *next)
{
	struct sqlite_store	*s = sqlite_of(store);
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
		if ((rc = sqlite_get(&s->base, ls.ids[i], &js[i])) < 0) {
			job_free_all(js, i);
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
