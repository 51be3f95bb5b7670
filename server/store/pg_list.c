/*
 * The PostgreSQL backend's listing: keyset pages of jobs, newest first,
 * by state, queue or type, with SQLite's streams and budget (so a page
 * is the same on either backend), and the page's rows read in one
 * statement.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"
#include "vec.h"

/*
 * Each stream scans one index newest first from `before`; rows the index
 * cannot filter are checked here, at most LIST_BUDGET of them per
 * stream.  When a stream stops at its budget, the page covers ids down
 * to that point only and `next` resumes there (sqlite_list.c).
 */
#define LIST_BUDGET	5000

struct list_scan {
	uint64_t	*ids;
	size_t		 n;
	size_t		 cap;
	uint64_t	 floor;		/* ids below this are not yet looked at */
};

static int
row_matches(const PGresult *r, int row, const struct job_filter *f)
{
	int state = job_state_parse(PQgetvalue(r, row, 1));
	int type = job_type_parse(PQgetvalue(r, row, 3));

	if (f->states && (state < 0 || !(f->states & (1u << state))))
		return 0;
	if (f->types && (type < 0 || !(f->types & (1u << type))))
		return 0;
	return f->queue == NULL || (!PQgetisnull(r, row, 2) &&
	    strcmp(PQgetvalue(r, row, 2), f->queue) == 0);
}

/* Runs one stream (key: its index's value, NULL for all), keeping matches. */
static int
list_stream(struct pg_store *s, enum pg_stmt_id id, const char *key,
    const struct job_filter *f, int budget, struct list_scan *ls)
{
	struct pg_params	 p;
	PGresult		*r;
	uint64_t		 last = 0;
	int			 rc, rows;

	pg_params_init(&p);
	if (key)
		pg_param_text(&p, key);
	pg_param_int(&p, f->before ? (int64_t)f->before : INT64_MAX);
	pg_param_int(&p, budget);
	if ((rc = pg_exec(s, id, &p, &r)) < 0)
		return rc;
	rows = PQntuples(r);
	for (int i = 0; i < rows; i++) {
		last = (uint64_t)pg_int(r, i, 0);
		if (!row_matches(r, i, f))
			continue;
		if (vec_grow(&ls->ids, &ls->cap, ls->n + 1, sizeof(*ls->ids)) < 0) {
			PQclear(r);
			return -ENOMEM;
		}
		ls->ids[ls->n++] = last;
	}
	PQclear(r);
	if (rows == budget && last > ls->floor)
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
list_scan(struct pg_store *s, const struct job_filter *f, struct list_scan *ls)
{
	int	 exact = f->limit + 1, budget = exact > LIST_BUDGET ? exact :
		    LIST_BUDGET;
	int	 rc = 0;

	if (f->states) {
		int residual = f->queue || f->types;

		for (int st = 0; st < JOB_STATE_COUNT && rc == 0; st++)
			if (f->states & (1u << st))
				rc = list_stream(s, PG_LIST_STATE,
				    job_state_name(st), f, residual ? budget :
				    exact, ls);
	} else if (f->queue) {
		rc = list_stream(s, PG_LIST_QUEUE, f->queue, f, f->types ?
		    budget : exact, ls);
	} else if (f->types) {
		for (int t = 0; t < JOB_TYPE_COUNT && rc == 0; t++)
			if (f->types & (1u << t))
				rc = list_stream(s, PG_LIST_TYPE,
				    job_type_name(t), f, exact, ls);
	} else {
		rc = list_stream(s, PG_LIST_ALL, NULL, f, exact, ls);
	}
	return rc;
}

/*
 * The rows of the page's ids, newest first, in one statement.  A job
 * deleted meanwhile (by another node) is left out of the page.
 */
static int
list_rows(struct pg_store *s, const uint64_t *ids, size_t n, struct job **jobs,
    size_t *got)
{
	struct pg_params	 p;
	struct job		*js = NULL;
	PGresult		*r;
	int			 rc, rows;

	pg_params_init(&p);
	pg_param_ids(&p, ids, n);
	if ((rc = pg_exec(s, PG_GET_MANY, &p, &r)) < 0)
		return rc;
	rows = PQntuples(r);
	if (rows > 0 && (js = calloc((size_t)rows, sizeof(*js))) == NULL) {
		PQclear(r);
		return -ENOMEM;
	}
	for (int i = 0; rows > 0 && i < rows; i++) {
		if ((rc = pg_row_job(r, i, &js[i])) < 0) {
			job_free_all(js, (size_t)i);
			PQclear(r);
			return rc;
		}
	}
	PQclear(r);
	*jobs = rows > 0 ? js : NULL;
	*got = (size_t)rows;
	return 0;
}

int
pg_list(struct store *store, const struct job_filter *f, struct job **jobs,
    size_t *n, uint64_t *next)
{
	struct pg_store		*s = pg_of(store);
	struct list_scan	 ls = {0};
	size_t			 keep = 0, take;
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
	if (take && (rc = list_rows(s, ls.ids, take, jobs, n)) < 0)
		goto out;
	if (keep > take)
		*next = ls.ids[take - 1];
	else if (ls.floor)
		*next = ls.floor;
out:
	free(ls.ids);
	return rc;
}
