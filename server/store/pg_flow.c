/*
 * The PostgreSQL backend's flow control: who waits for whom, jobs
 * waiting for their time, and what each Idempotency-Key made.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/pg.h"

/* All of a job's dependencies in one statement; pairs known are kept once. */
int
pg_add_deps(struct store *store, uint64_t job_id, const uint64_t *deps,
    size_t n)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0 || n == 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)job_id);
	pg_param_ids(&p, deps, n);
	return pg_exec(pg_of(store), PG_DEP_ADD, &p, NULL);
}

int
pg_dependents(struct store *store, uint64_t dep_id, uint64_t **ids, size_t *n)
{
	struct pg_store		*s = pg_of(store);
	struct pg_params	 p;

	/* Read with the job's finish, nothing sent since (pg_deps_keep). */
	if (s->deps_of != 0 && s->deps_of == dep_id) {
		*ids = s->deps;
		*n = s->ndeps;
		s->deps = NULL;
		pg_deps_forget(s);
		return 0;
	}
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)dep_id);
	return pg_ids(s, PG_DEPENDENTS, &p, ids, n);
}

int
pg_dep_done(struct store *store, uint64_t job_id)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)job_id);
	return pg_change(pg_of(store), PG_DEP_DONE, &p, 0);
}

int
pg_next_due(struct store *store, int64_t *run_at)
{
	PGresult	*r;
	int		 rc;

	*run_at = 0;
	if ((rc = pg_exec(pg_of(store), PG_NEXT_DUE, NULL, &r)) < 0)
		return rc;
	if (PQntuples(r) == 1)
		*run_at = pg_opt(r, 0, 0, 0);
	PQclear(r);
	return 0;
}

/* The rows are all in the result before cb runs: cb changes the jobs. */
int
pg_due(struct store *store, int64_t now_ms, int limit,
    void (*cb)(void *, uint64_t, const char *), void *arg)
{
	struct pg_params	 p;
	PGresult		*r;
	int			 rc, n;

	pg_params_init(&p);
	pg_param_int(&p, now_ms);
	pg_param_int(&p, limit);
	if ((rc = pg_exec(pg_of(store), PG_DUE, &p, &r)) < 0)
		return rc;
	n = PQntuples(r);
	for (int i = 0; i < n; i++)
		cb(arg, (uint64_t)pg_int(r, i, 0), PQgetvalue(r, i, 1));
	PQclear(r);
	return n;
}

int
pg_idem_get(struct store *store, const char *key, int64_t since_ms,
    char *sha, size_t shasize, char **jobs_json, int *batch)
{
	struct pg_params	 p;
	PGresult		*r;
	int			 rc;

	*jobs_json = NULL;
	pg_params_init(&p);
	pg_param_text(&p, key);
	pg_param_int(&p, since_ms);
	if ((rc = pg_exec(pg_of(store), PG_IDEM_GET, &p, &r)) < 0)
		return rc;
	if (PQntuples(r) == 1) {
		snprintf(sha, shasize, "%s", PQgetvalue(r, 0, 0));
		*jobs_json = pg_str(r, 0, 1);
		*batch = (int)pg_int(r, 0, 2);
		rc = *jobs_json ? 1 : -ENOMEM;
	}
	PQclear(r);
	return rc;
}

void
pg_idem_params(struct pg_params *p, const char *key, const char *sha,
    const char *jobs_json, int batch, int64_t now_ms)
{
	pg_params_init(p);
	pg_param_text(p, key);
	pg_param_text(p, sha);
	pg_param_text(p, jobs_json);
	pg_param_int(p, batch);
	pg_param_int(p, now_ms);
}

int
pg_idem_put(struct store *store, const char *key, const char *sha,
    const char *jobs_json, int batch, int64_t now_ms)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_idem_params(&p, key, sha, jobs_json, batch, now_ms);
	return pg_exec(pg_of(store), PG_IDEM_PUT, &p, NULL);
}

int
pg_idem_purge(struct store *store, int64_t before_ms)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, before_ms);
	return pg_changes(pg_of(store), PG_IDEM_PURGE, &p);
}
