/*
 * The PostgreSQL backend's schedules (store/schedule.h): their rows and
 * the ticks fired.  Only the leader fires ticks; the tick row and the
 * compare-and-set on next_at keep a tick to one job whoever fires it.
 */
#include <errno.h>
#include <stdlib.h>

#include "store/pg.h"

/* The fields of sc but id and created_at, in the statements' order. */
static void
params_fields(struct pg_params *p, const struct schedule *sc)
{
	pg_param_text(p, sc->name);
	pg_param_text(p, sc->cron);
	pg_param_text(p, sc->timezone);
	pg_param_text(p, sc->job_json);
	pg_param_text(p, schedule_overlap_name(sc->overlap));
	pg_param_text(p, schedule_misfire_name(sc->misfire));
	pg_param_int(p, sc->paused != 0);
	pg_param_opt(p, sc->until, sc->until > 0);
}

static void
params_state(struct pg_params *p, const struct schedule *sc)
{
	pg_param_opt(p, sc->next_at, sc->next_at > 0);
	pg_param_opt(p, (int64_t)sc->last_job, sc->last_job > 0);
	pg_param_opt(p, sc->waiting, sc->waiting > 0);
}

/* Reads row of PG_SCHED_COLUMNS; 0, -ENOMEM or -EIO (a policy unknown). */
static int
row_sched(const PGresult *r, int row, struct schedule *sc)
{
	int c = 0;

	schedule_init(sc);
	sc->id = (uint64_t)pg_int(r, row, c++);
	sc->name = pg_str(r, row, c++);
	sc->cron = pg_str(r, row, c++);
	sc->timezone = pg_str(r, row, c++);
	sc->job_json = pg_str(r, row, c++);
	sc->overlap = schedule_overlap_parse(PQgetvalue(r, row, c++));
	sc->misfire = schedule_misfire_parse(PQgetvalue(r, row, c++));
	sc->paused = (int)pg_int(r, row, c++);
	sc->until = pg_opt(r, row, c++, 0);
	sc->created_at = pg_int(r, row, c++);
	sc->next_at = pg_opt(r, row, c++, 0);
	sc->last_job = (uint64_t)pg_opt(r, row, c++, 0);
	sc->waiting = pg_opt(r, row, c++, 0);
	if (!sc->name || !sc->cron || !sc->timezone || !sc->job_json) {
		schedule_clear(sc);
		return -ENOMEM;
	}
	if (sc->overlap < 0 || sc->misfire < 0) {
		schedule_clear(sc);
		return -EIO;
	}
	return 0;
}

static int
sched_add(struct store *store, struct schedule *sc)
{
	struct pg_params	 p;
	PGresult		*r;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	params_fields(&p, sc);
	pg_param_int(&p, sc->created_at);
	params_state(&p, sc);
	if ((rc = pg_exec(pg_of(store), PG_SCHED_ADD, &p, &r)) < 0)
		return rc;
	if (PQntuples(r) == 1)
		sc->id = (uint64_t)pg_int(r, 0, 0);
	else
		rc = -EEXIST;
	PQclear(r);
	return rc;
}

static int
sched_get(struct store *store, uint64_t id, struct schedule *out)
{
	struct pg_params	 p;
	PGresult		*r;
	int			 rc;

	schedule_init(out);
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	if ((rc = pg_exec(pg_of(store), PG_SCHED_GET, &p, &r)) < 0)
		return rc;
	rc = PQntuples(r) == 1 ? row_sched(r, 0, out) : -ENOENT;
	PQclear(r);
	return rc;
}

static int
sched_all(struct store *store, struct schedule **out, size_t *n)
{
	struct schedule	*all = NULL;
	PGresult	*r;
	int		 rc, rows;

	*out = NULL;
	*n = 0;
	if ((rc = pg_exec(pg_of(store), PG_SCHED_ALL, NULL, &r)) < 0)
		return rc;
	rows = PQntuples(r);
	if (rows > 0 && (all = calloc((size_t)rows, sizeof(*all))) == NULL) {
		PQclear(r);
		return -ENOMEM;
	}
	for (int i = 0; i < rows; i++)
		if ((rc = row_sched(r, i, &all[i])) < 0) {
			schedule_free_all(all, (size_t)i);
			PQclear(r);
			return rc;
		}
	PQclear(r);
	*out = all;
	*n = (size_t)rows;
	return 0;
}

/* Why a put changed no row: -ENOENT if the schedule is gone, else -EEXIST. */
static int
put_refused(struct store *store, uint64_t id)
{
	struct schedule	 sc;
	int		 rc = sched_get(store, id, &sc);

	schedule_clear(&sc);
	return rc == 0 ? -EEXIST : rc;
}

static int
sched_put(struct store *store, const struct schedule *sc)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)sc->id);
	params_fields(&p, sc);
	/* A row unchanged is a name in use, or a schedule gone. */
	if ((rc = pg_change(pg_of(store), PG_SCHED_PUT, &p, -EEXIST)) ==
	    -EEXIST)
		rc = put_refused(store, sc->id);
	return rc;
}

/* One id parameter, in the turn's transaction; none: no row changed. */
static int
change_id(struct store *store, enum pg_stmt_id st, uint64_t id, int none)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	return pg_change(pg_of(store), st, &p, none);
}

static int
sched_delete(struct store *store, uint64_t id)
{
	return change_id(store, PG_SCHED_DELETE, id, -ENOENT);
}

static int
sched_next(struct store *store, int64_t *at)
{
	PGresult	*r;
	int		 rc;

	*at = 0;
	if ((rc = pg_exec(pg_of(store), PG_SCHED_NEXT, NULL, &r)) < 0)
		return rc;
	if (PQntuples(r) == 1)
		*at = pg_opt(r, 0, 0, 0);
	PQclear(r);
	return 0;
}

static int
sched_due(struct store *store, int64_t now_ms, int limit, uint64_t **ids,
    size_t *n)
{
	struct pg_params p;

	pg_params_init(&p);
	pg_param_int(&p, now_ms);
	pg_param_int(&p, limit);
	return pg_ids(pg_of(store), PG_SCHED_DUE, &p, ids, n);
}

static int
sched_owed(struct store *store, uint64_t **ids, size_t *n)
{
	return pg_ids(pg_of(store), PG_SCHED_OWED, NULL, ids, n);
}

static int
sched_advance(struct store *store, uint64_t id, int64_t from, int64_t to)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	pg_param_int(&p, from);
	pg_param_opt(&p, to, to > 0);
	return pg_change(pg_of(store), PG_SCHED_ADVANCE, &p, -ESTALE);
}

static int
sched_made(struct store *store, uint64_t id, uint64_t last_job,
    int64_t waiting)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	pg_param_opt(&p, (int64_t)last_job, last_job > 0);
	pg_param_opt(&p, waiting, waiting > 0 || waiting == SCHED_KEEP);
	return pg_change(pg_of(store), PG_SCHED_MADE, &p, -ENOENT);
}

static int
sched_replan(struct store *store, uint64_t id, int64_t next_at)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	pg_param_opt(&p, next_at, next_at > 0);
	return pg_change(pg_of(store), PG_SCHED_REPLAN, &p, -ENOENT);
}

static int
sched_tick_job(struct store *store, uint64_t id, int64_t tick, uint64_t job)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	pg_param_int(&p, tick);
	pg_param_opt(&p, (int64_t)job, job > 0);
	return pg_change(pg_of(store), PG_SCHED_TICK_JOB, &p, -ENOENT);
}

static int
sched_tick(struct store *store, uint64_t id, int64_t tick, uint64_t job)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	pg_param_int(&p, tick);
	pg_param_opt(&p, (int64_t)job, job > 0);
	return pg_change(pg_of(store), PG_SCHED_TICK, &p, -EEXIST);
}

static int
sched_ticks_purge(struct store *store, int64_t before_ms)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, before_ms);
	return pg_exec(pg_of(store), PG_SCHED_TICKS_PURGE, &p, NULL);
}

const struct store_sched_ops pg_sched_ops = {
	.add = sched_add,
	.get = sched_get,
	.all = sched_all,
	.put = sched_put,
	.replan = sched_replan,
	.delete = sched_delete,
	.next = sched_next,
	.due = sched_due,
	.owed = sched_owed,
	.advance = sched_advance,
	.made = sched_made,
	.tick = sched_tick,
	.tick_job = sched_tick_job,
	.ticks_purge = sched_ticks_purge,
};
