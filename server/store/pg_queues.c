/*
 * The PostgreSQL backend's queues: their settings, the runnable job that
 * heads each, and how many jobs each holds in each state.
 */
#include "store/pg.h"

int
pg_head(struct store *store, const char *queue, uint64_t *id,
    int64_t *priority)
{
	struct pg_params	 p;
	PGresult		*r;
	int			 rc;

	pg_params_init(&p);
	pg_param_text(&p, queue);
	if ((rc = pg_exec(pg_of(store), PG_HEAD, &p, &r)) < 0)
		return rc;
	if (PQntuples(r) == 1) {
		*id = (uint64_t)pg_int(r, 0, 0);
		*priority = pg_int(r, 0, 1);
		rc = 1;
	}
	PQclear(r);
	return rc;
}

void
pg_count_rows(const PGresult *r,
    void (*cb)(void *, const char *, enum job_state, int64_t), void *arg)
{
	for (int i = 0; i < PQntuples(r); i++) {
		int state = job_state_parse(PQgetvalue(r, i, 1));

		if (state >= 0)
			cb(arg, PQgetvalue(r, i, 0), state, pg_int(r, i, 2));
	}
}

int
pg_count(struct store *store,
    void (*cb)(void *, const char *, enum job_state, int64_t), void *arg)
{
	PGresult	*r;
	int		 rc;

	if ((rc = pg_exec(pg_of(store), PG_COUNT, NULL, &r)) < 0)
		return rc;
	pg_count_rows(r, cb, arg);
	PQclear(r);
	return 0;
}

int
pg_queue_set(struct store *store, const char *name, int paused,
    int concurrency)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_text(&p, name);
	pg_param_int(&p, paused ? 1 : 0);
	pg_param_opt(&p, concurrency, concurrency > 0);
	return pg_exec(pg_of(store), PG_QUEUE_SET, &p, NULL);
}

int
pg_queues(struct store *store, void (*cb)(void *, const char *, int, int),
    void *arg)
{
	PGresult	*r;
	int		 rc;

	if ((rc = pg_exec(pg_of(store), PG_QUEUES, NULL, &r)) < 0)
		return rc;
	for (int i = 0; i < PQntuples(r); i++)
		cb(arg, PQgetvalue(r, i, 0), (int)pg_int(r, i, 1),
		    (int)pg_opt(r, i, 2, -1));
	PQclear(r);
	return 0;
}
