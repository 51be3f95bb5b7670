/*
 * The PostgreSQL backend's listing: keyset pages of jobs, newest first,
 * by state, queue or type, with the streams and budget of
 * store/list_scan.h (so a page is the same on either backend), and the
 * page's rows read in one statement.
 */
#include <errno.h>
#include <stdlib.h>

#include "store/list_scan.h"
#include "store/list_where.h"
#include "store/pg.h"

static int
row_matches(const PGresult *r, int row, const struct job_filter *f)
{
	return list_scan_matches(f, job_state_parse(PQgetvalue(r, row, 1)),
	    job_type_parse(PQgetvalue(r, row, 3)), PQgetisnull(r, row, 2) ?
	    NULL : PQgetvalue(r, row, 2));
}

struct list_ctx {
	struct pg_store		*s;
	const struct job_filter	*f;
};

/* One stream (store/list_scan.h): one statement, keeping the matches. */
static int
list_stream(void *arg, enum list_index ix, const char *key, int budget,
    struct list_scan *ls)
{
	static const enum pg_stmt_id stmt[] = {
		[LIST_BY_STATE] = PG_LIST_STATE, [LIST_BY_QUEUE] = PG_LIST_QUEUE,
		[LIST_BY_TYPE] = PG_LIST_TYPE, [LIST_BY_ALL] = PG_LIST_ALL,
		[LIST_BY_SCHEDULE] = PG_LIST_SCHEDULE,
	};
	struct list_ctx		*c = arg;
	const struct job_filter	*f = c->f;
	struct pg_params	 p;
	PGresult		*r;
	uint64_t		 last = 0;
	int			 rc, rows;

	pg_params_init(&p);
	if (key)
		pg_param_text(&p, key);
	pg_param_int(&p, f->before ? (int64_t)f->before : INT64_MAX);
	pg_param_int(&p, budget);
	if ((rc = pg_exec(c->s, stmt[ix], &p, &r)) < 0)
		return rc;
	rows = PQntuples(r);
	for (int i = 0; i < rows; i++) {
		last = (uint64_t)pg_int(r, i, 0);
		if (row_matches(r, i, f) && list_scan_add(ls, last) < 0) {
			PQclear(r);
			return -ENOMEM;
		}
	}
	PQclear(r);
	list_scan_ended(ls, rows, budget, last);
	return 0;
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

/* list_where's statement, not prepared (it varies). */
static int
where_ids(void *arg, const struct list_sql *q, uint64_t **ids, size_t *n)
{
	struct list_ctx		*c = arg;
	struct pg_params	 p;
	PGresult		*r;
	int			 rc, rows;

	*ids = NULL;
	*n = 0;
	pg_params_init(&p);
	for (int i = 0; i < q->n; i++) {
		if (q->is_text[i])
			pg_param_text(&p, q->text[i]);
		else
			pg_param_int(&p, q->num[i]);
	}
	if ((rc = pg_exec_sql(c->s, "list search", q->sql, &p, &r)) < 0)
		return rc;
	rows = PQntuples(r);
	if (rows > 0 && (*ids = calloc((size_t)rows, sizeof(**ids))) == NULL) {
		PQclear(r);
		return -ENOMEM;
	}
	for (int i = 0; i < rows; i++)
		(*ids)[i] = (uint64_t)pg_int(r, i, 0);
	*n = (size_t)rows;
	PQclear(r);
	return 0;
}

static const struct list_where_ops where_ops = {where_ids};

int
pg_list(struct store *store, const struct job_filter *f, struct job **jobs,
    size_t *n, uint64_t *next)
{
	struct list_ctx		 c = {pg_of(store), f};
	struct list_scan	 ls = {0};
	size_t			 take;
	uint64_t		 resume;
	int			 rc;

	*jobs = NULL;
	*n = 0;
	*next = 0;
	if (list_where_wanted(f)) {
		rc = list_where_page(f, LIST_POSTGRESQL, &where_ops, &c,
		    &ls.ids, &take, &resume);
		if (rc < 0)
			goto out;
	} else {
		if ((rc = list_scan_run(&ls, f, list_stream, &c)) < 0)
			goto out;
		take = list_scan_page(&ls, f->limit, &resume);
	}
	if (take && (rc = list_rows(c.s, ls.ids, take, jobs, n)) < 0)
		goto out;
	*next = resume;
out:
	free(ls.ids);
	return rc;
}
