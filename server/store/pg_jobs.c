/*
 * The PostgreSQL backend's job rows: inserting them (a batch in one
 * statement), reading them back, and every change of a job's state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/pg_array.h"
#include "store/pg_cluster.h"

/* Rows of one INSERT: a bound on the arrays' memory, not on PostgreSQL. */
#define INSERT_ROWS_MAX		5000

/* A job's row, a value to each column's array (PG_INSERT_COLUMNS). */
static void
column_job(struct pg_array *a, const struct job *j)
{
	pg_array_text(a++, job_type_name(j->type));
	pg_array_text(a++, j->name);
	pg_array_text(a++, j->queue);
	pg_array_int(a++, j->priority, 1);
	pg_array_text(a++, job_state_name(j->state));
	pg_array_text(a++, j->command);
	pg_array_text(a++, j->argv_json);
	pg_array_text(a++, j->env_json);
	pg_array_text(a++, j->cwd);
	pg_array_bytes(a++, j->has_stdin ? (j->stdin_data ? j->stdin_data :
	    "") : NULL, j->stdin_len);
	pg_array_int(a++, j->timeout_ms, j->timeout_ms > 0);
	pg_array_text(a++, j->limits_json);
	pg_array_int(a++, j->max_attempts, 1);
	pg_array_int(a++, j->created_at, 1);
	pg_array_int(a++, j->run_at, j->run_at > 0);
	pg_array_text(a++, j->file_name);
	pg_array_int(a++, j->file_size, j->file_name != NULL);
	pg_array_text(a++, j->file_sha256);
	pg_array_text(a++, j->after_json);
	pg_array_int(a++, j->deps_left, 1);
	/* A job born failed (its dependency already had) says why. */
	pg_array_text(a++, j->error);
	pg_array_int(a++, j->finished_at, j->finished_at > 0);
	pg_array_int(a++, (int64_t)j->schedule_id, j->schedule_id > 0);
	pg_array_int(a++, j->scheduled_for, j->schedule_id > 0);
	pg_array_text(a++, j->webhooks_json);
	pg_array_int(a, j->shell, 1);
}

/*
 * Inserts n jobs with one prepared statement, a column an array: its
 * plan is the same whatever n is, and nothing is parsed per row.
 * PostgreSQL inserts the rows in unnest's order, each taking the next
 * id of the sequence as it goes, and returns them in that order: the
 * ids are ascending, and consecutive unless another connection inserts
 * meanwhile.  A batch that does not come back so is refused, and the
 * turn with it.
 */
static int
insert_rows(struct pg_store *s, struct job *jobs, int n)
{
	struct pg_array		 cols[PG_INSERT_PARAMS];
	struct pg_params	 p;
	PGresult		*r;
	int			 rc;

	memset(cols, 0, sizeof(cols));
	for (int i = 0; i < n; i++)
		column_job(cols, &jobs[i]);
	pg_params_init(&p);
	for (int c = 0; c < PG_INSERT_PARAMS; c++)
		pg_param_array(&p, &cols[c]);
	if ((rc = pg_exec(s, PG_INSERT, &p, &r)) < 0)
		return rc;
	if (PQntuples(r) != n)
		rc = -EIO;
	for (int i = 0; rc == 0 && i < n; i++) {
		jobs[i].id = (uint64_t)pg_int(r, i, 0);
		if (i > 0 && jobs[i].id <= jobs[i - 1].id)
			rc = -EIO;
	}
	PQclear(r);
	if (rc < 0) {
		log_warnx("store: insert jobs: the ids did not come back in "
		    "order");
		pg_turn_failed(s, rc);
	}
	return rc;
}

/* The jobs as they are, created_at included. */
static int
submit_rows(struct store *store, struct job *jobs, size_t n)
{
	struct pg_store	*s = pg_of(store);
	size_t		 i;
	int		 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	for (i = 0; rc == 0 && i < n; ) {
		int rows = n - i > INSERT_ROWS_MAX ? INSERT_ROWS_MAX :
		    (int)(n - i);

		rc = insert_rows(s, jobs + i, rows);
		i += (size_t)rows;
	}
	return rc;
}

int
pg_submit(struct store *store, struct job *jobs, size_t n, int64_t now_ms)
{
	for (size_t i = 0; i < n; i++)
		jobs[i].created_at = now_ms;
	return submit_rows(store, jobs, n);
}

int
pg_submit_held(struct store *store, struct job *jobs, size_t n)
{
	return submit_rows(store, jobs, n);
}

/* A bytea column of text format into a NUL-terminated copy. */
static int
row_bytes(const PGresult *r, int row, int col, struct job *j)
{
	unsigned char	*b;
	size_t		 len;

	if (PQgetisnull(r, row, col))
		return 0;
	b = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col),
	    &len);
	if (b == NULL)
		return -ENOMEM;
	if ((j->stdin_data = malloc(len + 1)) != NULL) {
		if (len)
			memcpy(j->stdin_data, b, len);
		j->stdin_data[len] = '\0';
		j->stdin_len = len;
		j->has_stdin = 1;
	}
	PQfreemem(b);
	return j->stdin_data ? 0 : -ENOMEM;
}

/* pg_str, noting in *oom a copy that could not be made. */
static char *
row_str(const PGresult *r, int row, int col, int *oom)
{
	char *v = pg_str(r, row, col);

	if (v == NULL && !PQgetisnull(r, row, col))
		*oom = 1;
	return v;
}

int
pg_row_job(const PGresult *r, int row, struct job *j)
{
	int c = 0, t, state, oom = 0, rc;

	job_init(j);
	if (PQnfields(r) != 37)
		return -EIO;
	j->id = (uint64_t)pg_int(r, row, c++);
	t = job_type_parse(PQgetvalue(r, row, c++));
	j->name = row_str(r, row, c++, &oom);
	j->queue = row_str(r, row, c++, &oom);
	j->priority = pg_int(r, row, c++);
	state = job_state_parse(PQgetvalue(r, row, c++));
	j->command = row_str(r, row, c++, &oom);
	j->argv_json = row_str(r, row, c++, &oom);
	j->env_json = row_str(r, row, c++, &oom);
	j->cwd = row_str(r, row, c++, &oom);
	if (row_bytes(r, row, c++, j) < 0)
		oom = 1;
	j->timeout_ms = pg_opt(r, row, c++, 0);
	j->limits_json = row_str(r, row, c++, &oom);
	j->attempts = (int)pg_int(r, row, c++);
	j->max_attempts = (int)pg_int(r, row, c++);
	j->created_at = pg_int(r, row, c++);
	j->run_at = pg_opt(r, row, c++, 0);
	j->started_at = pg_opt(r, row, c++, 0);
	j->finished_at = pg_opt(r, row, c++, 0);
	j->exit_code = (int)pg_opt(r, row, c++, -1);
	j->signal = (int)pg_opt(r, row, c++, -1);
	j->error = row_str(r, row, c++, &oom);
	j->worker = (int)pg_opt(r, row, c++, -1);
	j->stdout_bytes = pg_int(r, row, c++);
	j->stderr_bytes = pg_int(r, row, c++);
	j->cpu_ms = pg_opt(r, row, c++, -1);
	j->max_rss_kb = pg_opt(r, row, c++, -1);
	j->file_name = row_str(r, row, c++, &oom);
	j->file_size = pg_opt(r, row, c++, -1);
	j->file_sha256 = row_str(r, row, c++, &oom);
	j->after_json = row_str(r, row, c++, &oom);
	j->deps_left = (int)pg_int(r, row, c++);
	j->schedule_id = (uint64_t)pg_opt(r, row, c++, 0);
	j->scheduled_for = pg_opt(r, row, c++, 0);
	j->webhooks_json = row_str(r, row, c++, &oom);
	j->shell = (int)pg_int(r, row, c++);
	j->node = row_str(r, row, c++, &oom);
	rc = oom ? -ENOMEM : t < 0 || state < 0 ? -EIO : 0;
	if (rc < 0) {
		job_clear(j);
		return rc;
	}
	j->type = t;
	j->state = state;
	return 0;
}

int
pg_get(struct store *store, uint64_t id, struct job *out)
{
	struct pg_store		*s = pg_of(store);
	struct pg_params	 p;
	PGresult		*r;
	int			 rc;

	job_init(out);
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	if ((rc = pg_exec(s, PG_GET, &p, &r)) < 0)
		return rc;
	rc = PQntuples(r) == 1 ? pg_row_job(r, 0, out) : -ENOENT;
	PQclear(r);
	return rc;
}

int
pg_claim(struct store *store, uint64_t id, int worker, int64_t now_ms,
    struct job *out)
{
	struct pg_store		*s = pg_of(store);
	struct pg_params	 p;
	PGresult		*r;
	int			 rc;

	job_init(out);
	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	pg_param_int(&p, now_ms);
	pg_param_int(&p, worker);
	if ((rc = pg_exec(s, PG_CLAIM, &p, &r)) < 0)
		return rc;
	if (PQntuples(r) == 1 && (rc = pg_row_job(r, 0, out)) == 0)
		rc = 1;
	PQclear(r);
	return rc;
}

/* The parameters $1..$12 of a finish (PG_FINISH, and the fenced one). */
void
pg_finish_params(struct pg_params *p, const struct job_result *res)
{
	pg_param_int(p, (int64_t)res->id);
	pg_param_text(p, job_state_name(res->state));
	pg_param_opt(p, res->exit_code, res->exit_code >= 0);
	pg_param_opt(p, res->signal, res->signal > 0);
	pg_param_text(p, res->error);
	pg_param_opt(p, res->finished_at, res->state != JOB_SCHEDULED);
	pg_param_int(p, res->stdout_bytes);
	pg_param_int(p, res->stderr_bytes);
	pg_param_opt(p, res->cpu_ms, res->cpu_ms >= 0);
	pg_param_opt(p, res->max_rss_kb, res->max_rss_kb >= 0);
	pg_param_opt(p, res->started_at, res->started_at > 0);
	pg_param_opt(p, res->run_at, res->state == JOB_SCHEDULED);
}

int
pg_finish(struct store *store, const struct job_result *res)
{
	struct pg_store		*s = pg_of(store);
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_finish_params(&p, res);
	return pg_change(s, PG_FINISH, &p, -EBUSY);
}

int
pg_set_state(struct store *store, uint64_t id, enum job_state from,
    enum job_state to, const char *error, int64_t finished_at)
{
	struct pg_store		*s = pg_of(store);
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	pg_param_text(&p, job_state_name(from));
	pg_param_text(&p, job_state_name(to));
	pg_param_text(&p, error);
	pg_param_opt(&p, finished_at, finished_at > 0);
	return pg_change(s, PG_SET_STATE, &p, -EBUSY);
}

int
pg_requeue(struct store *store, uint64_t id, enum job_state from,
    int undo_attempt, int deps_left)
{
	struct pg_store		*s = pg_of(store);
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	pg_param_text(&p, job_state_name(from));
	pg_param_int(&p, undo_attempt ? 1 : 0);
	pg_param_int(&p, deps_left);
	return pg_change(s, PG_REQUEUE, &p, -EBUSY);
}

/* A change whose one parameter is the job's id; no row is `miss`. */
static int
change_id(struct store *store, enum pg_stmt_id stmt, uint64_t id, int miss)
{
	struct pg_params	 p;
	int			 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	pg_params_init(&p);
	pg_param_int(&p, (int64_t)id);
	return pg_change(pg_of(store), stmt, &p, miss);
}

int
pg_promote(struct store *store, uint64_t id)
{
	return change_id(store, PG_PROMOTE, id, -EBUSY);
}

int
pg_delete(struct store *store, uint64_t id)
{
	return change_id(store, PG_DELETE, id, -ENOENT);
}

int
pg_running(struct store *store, uint64_t **ids, size_t *n)
{
	return pg_ids(pg_of(store), PG_RUNNING, NULL, ids, n);
}

int
pg_finished_since(struct store *store, int64_t since_ms,
    void (*cb)(void *, int64_t), void *arg)
{
	struct pg_params	 p;
	PGresult		*r;
	int			 rc;

	pg_params_init(&p);
	pg_param_int(&p, since_ms);
	if ((rc = pg_exec(pg_of(store), PG_FINISHED_SINCE, &p, &r)) < 0)
		return rc;
	for (int i = 0; i < PQntuples(r); i++)
		cb(arg, pg_int(r, i, 0));
	PQclear(r);
	return 0;
}

/* The rows are all in the result before cb runs: cb may delete them. */
int
pg_expired(struct store *store, int64_t before_ms, int limit,
    void (*cb)(void *, uint64_t, int), void *arg)
{
	struct pg_params	 p;
	PGresult		*r;
	int			 rc, n;

	pg_params_init(&p);
	pg_param_int(&p, before_ms);
	pg_param_int(&p, limit);
	if ((rc = pg_exec(pg_of(store), PG_EXPIRED, &p, &r)) < 0)
		return rc;
	n = PQntuples(r);
	for (int i = 0; i < n; i++)
		cb(arg, (uint64_t)pg_int(r, i, 0), (int)pg_int(r, i, 1));
	PQclear(r);
	return n;
}
