/* The PostgreSQL backend's overview for the dashboard (store/overview.h). */
#include <errno.h>

#include "store/overview.h"
#include "store/pg.h"

int
pg_overview(struct store *store, int64_t now_ms, struct store_overview *o)
{
	struct pg_store		*s = pg_of(store);
	int64_t			 since = now_ms - OVERVIEW_LATENCY_MS;
	struct pg_params	 p;
	PGresult		*r;
	size_t			 cap = 0;
	int			 rc;

	pg_params_init(&p);
	if ((rc = pg_exec(s, PG_OV_RETRYING, &p, &r)) < 0)
		return rc;
	o->retrying = PQntuples(r) ? pg_int(r, 0, 0) : 0;
	PQclear(r);
	pg_params_init(&p);
	if ((rc = pg_exec(s, PG_OV_OLDEST, &p, &r)) < 0)
		return rc;
	if (PQntuples(r)) {
		o->has_oldest = 1;
		o->oldest_queued_ms = pg_int(r, 0, 0);
	}
	PQclear(r);
	pg_params_init(&p);
	pg_param_int(&p, (now_ms / 60000 - (OVERVIEW_MINUTES - 1)) * 60000);
	if ((rc = pg_exec(s, PG_OV_FAILED, &p, &r)) < 0)
		return rc;
	for (int i = 0; i < PQntuples(r); i++)
		overview_failed_add(o, now_ms, pg_int(r, i, 0), pg_int(r, i, 1));
	PQclear(r);
	for (int q = 0; q < 2; q++) {
		pg_params_init(&p);
		pg_param_int(&p, since);
		if (q == 0)
			pg_param_int(&p, OVERVIEW_LATENCY_MAX);
		if ((rc = pg_exec(s, q ? PG_OV_RUNNING : PG_OV_FINISHED, &p,
		    &r)) < 0)
			return rc;
		for (int i = 0; i < PQntuples(r) && rc == 0; i++)
			rc = overview_latency_add(o, pg_int(r, i, 0), &cap);
		PQclear(r);
		if (rc < 0)
			return rc;
	}
	return 0;
}
