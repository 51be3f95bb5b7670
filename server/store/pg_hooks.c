/*
 * The PostgreSQL backend's webhook deliveries (store/delivery.h): the rows
 * the schema's triggers record, leased, tried and read back.  Only the
 * leader sends; a lease moves next_at, so a leader lost mid-try leaves
 * the delivery due again for the next.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

static int
row_delivery(const PGresult *r, int row, struct delivery *d)
{
	int c = 0;

	memset(d, 0, sizeof(*d));
	d->id = (uint64_t)pg_int(r, row, c++);
	d->job_id = (uint64_t)pg_int(r, row, c++);
	d->url = pg_str(r, row, c++);
	d->event = pg_str(r, row, c++);
	d->attempt = (int)pg_int(r, row, c++);
	d->created_at = pg_int(r, row, c++);
	d->state = delivery_state_parse(PQgetvalue(r, row, c++));
	d->tries = (int)pg_int(r, row, c++);
	d->next_at = pg_int(r, row, c++);
	d->last_at = pg_opt(r, row, c++, 0);
	d->last_status = (int)pg_opt(r, row, c++, -1);
	d->last_error = pg_str(r, row, c++);
	if (d->url == NULL || d->event == NULL) {
		delivery_clear(d);
		return -ENOMEM;
	}
	return d->state < 0 ? -EIO : 0;
}

static int
rows(struct pg_store *s, enum pg_stmt_id id, struct pg_params *p,
    struct delivery **out, size_t *n)
{
	struct delivery	*all = NULL;
	PGresult	*r;
	int		 rc, nr;

	*out = NULL;
	*n = 0;
	if ((rc = pg_exec(s, id, p, &r)) < 0)
		return rc;
	nr = PQntuples(r);
	if (nr > 0 && (all = calloc((size_t)nr, sizeof(*all))) == NULL) {
		PQclear(r);
		return -ENOMEM;
	}
	for (int i = 0; i < nr; i++)
		if ((rc = row_delivery(r, i, &all[i])) < 0) {
			delivery_free_all(all, (size_t)i);
			PQclear(r);
			return rc;
		}
	PQclear(r);
	*out = all;
	*n = (size_t)nr;
	return 0;
}

static int
hook_next(struct store *store, int64_t *at)
{
	PGresult	*r;
	int		 rc;

	*at = 0;
	if ((rc = pg_exec(pg_of(store), PG_HOOK_NEXT, NULL, &r)) < 0)
		return rc;
	if (PQntuples(r) == 1)
		*at = pg_opt(r, 0, 0, 0);
	PQclear(r);
	return 0;
}

static int
hook_due(struct store *store, int64_t now_ms, int limit,
    struct delivery **out, size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	pg_param_int(&p, now_ms);
	pg_param_int(&p, limit);
	return rows(pg_of(store), PG_HOOK_DUE, &p, out, n);
}

static int
hook_lease(struct store *store, uint64_t id, int64_t next_at, int64_t until)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	pg_param_int(&p, next_at);
	pg_param_int(&p, until);
	return pg_change(pg_of(store), PG_HOOK_LEASE, &p, -ESTALE);
}

static int
hook_tried(struct store *store, const struct delivery_try *t, int state,
    int64_t next_at)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)t->delivery_id);
	pg_param_int(&p, t->try);
	pg_param_int(&p, t->at);
	pg_param_opt(&p, t->status, t->status >= 0);
	pg_param_text(&p, t->error);
	pg_param_text(&p, t->response);
	pg_param_text(&p, delivery_state_name(state));
	pg_param_int(&p, next_at);
	return pg_exec(pg_of(store), PG_HOOK_TRIED, &p, NULL);
}

static int
hook_list(struct store *store, uint64_t job_id, struct delivery **out,
    size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	pg_param_int(&p, (int64_t)job_id);
	return rows(pg_of(store), PG_HOOK_LIST, &p, out, n);
}

static int
hook_tries(struct store *store, uint64_t job_id, struct delivery_try **out,
    size_t *n)
{
	struct delivery_try	*all = NULL;
	struct pg_params	 p;
	PGresult		*r;
	int			 rc, nr;

	*out = NULL;
	*n = 0;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)job_id);
	if ((rc = pg_exec(pg_of(store), PG_HOOK_TRIES, &p, &r)) < 0)
		return rc;
	nr = PQntuples(r);
	if (nr > 0 && (all = calloc((size_t)nr, sizeof(*all))) == NULL) {
		PQclear(r);
		return -ENOMEM;
	}
	for (int i = 0; i < nr; i++) {
		all[i].delivery_id = (uint64_t)pg_int(r, i, 0);
		all[i].try = (int)pg_int(r, i, 1);
		all[i].at = pg_int(r, i, 2);
		all[i].status = (int)pg_opt(r, i, 3, -1);
		all[i].error = pg_str(r, i, 4);
		all[i].response = pg_str(r, i, 5);
	}
	PQclear(r);
	*out = all;
	*n = (size_t)nr;
	return 0;
}

static int
hook_queue_set(struct store *store, const char *queue, const char *json)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_text(&p, queue);
	pg_param_text(&p, json);
	return pg_exec(pg_of(store), PG_HOOK_QUEUE_SET, &p, NULL);
}

static int
hook_queue_get(struct store *store, const char *queue, char **json)
{
	struct pg_params	 p;
	PGresult		*r;
	int			 rc;

	*json = NULL;
	pg_params_init(&p);
	pg_param_text(&p, queue);
	if ((rc = pg_exec(pg_of(store), PG_HOOK_QUEUE_GET, &p, &r)) < 0)
		return rc;
	if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) &&
	    (*json = pg_str(r, 0, 0)) == NULL)
		rc = -ENOMEM;
	PQclear(r);
	return rc;
}

const struct store_hook_ops pg_hook_ops = {
	.next = hook_next,
	.due = hook_due,
	.lease = hook_lease,
	.tried = hook_tried,
	.list = hook_list,
	.tries = hook_tries,
	.queue_set = hook_queue_set,
	.queue_get = hook_queue_get,
};
