/*
 * The PostgreSQL backend's plumbing around a statement: its parameters
 * (text, but bytes in binary so that any byte goes through), sending it
 * and waiting for its answer with a deadline (pg.c maps and logs what
 * fails), the shapes of answer most statements want (rows changed, a
 * list of ids), and reading text-format results back into C values.
 */
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "store/pg.h"

/* ---- parameters ---- */

void
pg_params_init(struct pg_params *p)
{
	p->n = 0;
	p->cap = PG_PARAMS_INLINE;
	p->err = 0;
	p->values = p->values_in;
	p->lengths = p->lengths_in;
	p->formats = p->formats_in;
	p->num = p->num_in;
	p->owned = p->owned_in;
}

void
pg_params_clear(struct pg_params *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->owned[i]);
	if (p->values != p->values_in) {
		free(p->values);
		free(p->lengths);
		free(p->formats);
		free(p->num);
		free(p->owned);
	}
	pg_params_init(p);
}

/*
 * Room for one more.  Integer parameters point into num, which moves
 * when it grows: those pointers move with it.
 */
static int
params_room(struct pg_params *p)
{
	const char	**values;
	int		 *lengths, *formats, cap;
	char		(*num)[PG_NUM_SIZE], **owned;

	if (p->err)
		return -1;
	if (p->n < p->cap)
		return 0;
	cap = p->cap * 2;
	values = malloc((size_t)cap * sizeof(*values));
	lengths = malloc((size_t)cap * sizeof(*lengths));
	formats = malloc((size_t)cap * sizeof(*formats));
	num = malloc((size_t)cap * sizeof(*num));
	owned = malloc((size_t)cap * sizeof(*owned));
	if (!values || !lengths || !formats || !num || !owned) {
		free(values);
		free(lengths);
		free(formats);
		free(num);
		free(owned);
		p->err = -ENOMEM;
		return -1;
	}
	for (int i = 0; i < p->n; i++) {
		values[i] = p->values[i] == p->num[i] ? num[i] : p->values[i];
		lengths[i] = p->lengths[i];
		formats[i] = p->formats[i];
		memcpy(num[i], p->num[i], sizeof(num[i]));
		owned[i] = p->owned[i];
	}
	if (p->values != p->values_in) {
		free(p->values);
		free(p->lengths);
		free(p->formats);
		free(p->num);
		free(p->owned);
	}
	p->values = values;
	p->lengths = lengths;
	p->formats = formats;
	p->num = num;
	p->owned = owned;
	p->cap = cap;
	return 0;
}

static void
add(struct pg_params *p, const char *v, int len, int format, char *owned)
{
	if (params_room(p) < 0) {
		free(owned);
		return;
	}
	p->values[p->n] = v;
	p->lengths[p->n] = len;
	p->formats[p->n] = format;
	p->owned[p->n++] = owned;
}

void
pg_param_text(struct pg_params *p, const char *v)
{
	add(p, v, 0, 0, NULL);
}

void
pg_param_int(struct pg_params *p, int64_t v)
{
	if (params_room(p) < 0)
		return;
	snprintf(p->num[p->n], PG_NUM_SIZE, "%" PRId64, v);
	add(p, p->num[p->n], 0, 0, NULL);
}

void
pg_param_opt(struct pg_params *p, int64_t v, int present)
{
	if (present)
		pg_param_int(p, v);
	else
		pg_param_text(p, NULL);
}

void
pg_param_bytes(struct pg_params *p, const void *v, size_t len)
{
	if (len > INT32_MAX) {
		p->err = -ENOMEM;
		return;
	}
	/* Not NULL even when empty: an empty bytea is not SQL NULL. */
	add(p, v ? v : "", (int)len, 1, NULL);
}

void
pg_param_owned(struct pg_params *p, char *v)
{
	add(p, v, 0, 0, v);
}

void
pg_param_ids(struct pg_params *p, const uint64_t *ids, size_t n)
{
	size_t	 size = 3 + n * 21, len = 0;
	char	*s;

	if (p->err)
		return;
	if ((s = malloc(size)) == NULL) {
		p->err = -ENOMEM;
		return;
	}
	s[len++] = '{';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, size - len, "%s%" PRIu64,
		    i ? "," : "", ids[i]);
	snprintf(s + len, size - len, "}");
	add(p, s, 0, 0, s);
}

/* ---- dependents read with a finish ---- */

void
pg_deps_forget(struct pg_store *s)
{
	free(s->deps);
	s->deps = NULL;
	s->ndeps = 0;
	s->deps_of = 0;
}

int
pg_deps_keep(struct pg_store *s, uint64_t id, const PGresult *res)
{
	int rows = PQntuples(res);

	pg_deps_forget(s);
	if (rows > 0 && (s->deps = calloc((size_t)rows, sizeof(*s->deps))) == NULL)
		return -ENOMEM;
	for (int i = 0; i < rows; i++)
		s->deps[i] = (uint64_t)pg_int(res, i, 0);
	s->ndeps = (size_t)rows;
	s->deps_of = id;
	return 0;
}

/* ---- waiting for answers ---- */

/* Waits for events on c's socket until end_ms (0: no end).  0 or a code. */
static int
wait_socket(PGconn *c, short events, int64_t end_ms, short *revents)
{
	struct pollfd	 pfd = {.fd = PQsocket(c), .events = events};
	int64_t		 left;
	int		 n;

	if (pfd.fd < 0)
		return -ENOTCONN;
	for (;;) {
		left = end_ms ? end_ms - clock_mono_ms() : -1;
		if (end_ms && left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left < 0 ? -1 : left > INT_MAX ? INT_MAX :
		    (int)left);
		if (n > 0) {
			*revents = pfd.revents;
			return 0;
		}
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* When the answers to what is sent now must have come: 0 for never. */
static int64_t
answer_end(const struct pg_store *s)
{
	return s->answer_ms > 0 ? clock_mono_ms() + s->answer_ms : 0;
}

/*
 * Sends what is left to send and waits until the next result can be
 * read without blocking, until end (answer_end).  A server that does not
 * answer by then (hung, or cut off without a word: PQgetResult would
 * wait for ever) gets its connection cut, so libpq fails what waits.
 */
static void
await_result(struct pg_store *s, int64_t end, const char *what)
{
	PGconn	*c = s->conn;
	short	 ev = 0;
	int	 rc = 0, f;

	if (PQstatus(c) != CONNECTION_OK)
		return;
	/* Non-blocking: what did not fit in the socket goes out as it can,
	 * the answer read meanwhile (the server may be sending already). */
	while ((f = PQflush(c)) == 1) {
		if ((rc = wait_socket(c, POLLOUT | POLLIN, end, &ev)) < 0)
			break;
		if ((ev & POLLIN) && !PQconsumeInput(c))
			break;
	}
	while (rc == 0 && f == 0 && PQisBusy(c)) {
		if ((rc = wait_socket(c, POLLIN, end, &ev)) < 0 ||
		    !PQconsumeInput(c))
			break;
	}
	if (rc < 0 || f != 0) {
		if (rc == -ETIMEDOUT) {
			log_warnx("store: %s: no answer from PostgreSQL in "
			    "%.1fs: cutting the connection", what,
			    (double)s->answer_ms / 1000.0);
			s->answer_cut = 1;
		}
		shutdown(PQsocket(c), SHUT_RDWR);
		PQconsumeInput(c);
	}
}

PGresult *
pg_answer(struct pg_store *s, int sent, const char *what)
{
	PGconn		*c = s->conn;
	PGresult	*r, *last = NULL;

	if (!sent)
		return NULL;
	await_result(s, answer_end(s), what);
	/* As PQexec: the last result; a lost connection ends the list. */
	while ((r = PQgetResult(c)) != NULL) {
		PQclear(last);
		last = r;
		if (PQstatus(c) != CONNECTION_OK)
			break;
	}
	return last;
}

/* ---- held back for the next round trip ---- */

void
pg_defer_clear(struct pg_store *s)
{
	for (int i = 0; i < s->ndefer; i++) {
		struct pg_deferred *d = &s->defer[i];

		for (int k = 0; k < d->n; k++)
			free(d->values[k]);
		free(d->values);
		free(d->lengths);
		free(d->formats);
	}
	s->ndefer = 0;
	s->fresh = 0;
}

/* A copy of p's values in d; 0 or -ENOMEM. */
static int
defer_params(struct pg_deferred *d, const struct pg_params *p)
{
	d->values = calloc((size_t)p->n, sizeof(*d->values));
	d->lengths = calloc((size_t)p->n, sizeof(*d->lengths));
	d->formats = calloc((size_t)p->n, sizeof(*d->formats));
	if (!d->values || !d->lengths || !d->formats)
		goto fail;
	for (int i = 0; i < p->n; i++) {
		size_t len;

		d->lengths[i] = p->lengths[i];
		d->formats[i] = p->formats[i];
		if (p->values[i] == NULL)
			continue;
		len = p->formats[i] ? (size_t)p->lengths[i] :
		    strlen(p->values[i]) + 1;
		if ((d->values[i] = malloc(len ? len : 1)) == NULL)
			goto fail;
		memcpy(d->values[i], p->values[i], len);
		d->n = i + 1;
	}
	d->n = p->n;
	return 0;
fail:
	for (int i = 0; d->values && i < p->n; i++)
		free(d->values[i]);
	free(d->values);
	free(d->lengths);
	free(d->formats);
	d->values = NULL;
	d->lengths = d->formats = NULL;
	d->n = 0;
	return -ENOMEM;
}

int
pg_defer(struct pg_store *s, const char *what, const char *name,
    const char *sql, struct pg_params *p)
{
	struct pg_deferred	*d;
	int			 rc = 0;

	if (p && p->err)
		rc = p->err;
	else if (s->in_txn && s->mark_error)
		rc = s->mark_error;
	else if (s->ndefer == PG_DEFER_MAX)
		rc = pg_defer_flush(s);
	if (rc < 0)
		goto out;
	s->stmts++;
	d = &s->defer[s->ndefer];
	memset(d, 0, sizeof(*d));
	d->what = what;
	if (name)
		snprintf(d->name, sizeof(d->name), "%s", name);
	d->sql = sql;
	if (p && p->n > 0 && (rc = defer_params(d, p)) < 0)
		goto out;
	s->ndefer++;
out:
	if (p)
		pg_params_clear(p);
	return rc;
}

static int
send_one(PGconn *c, const char *name, const char *sql, int n,
    const char *const *values, const int *lengths, const int *formats)
{
	if (name && *name)
		return PQsendQueryPrepared(c, name, n, values, lengths, formats,
		    0);
	return PQsendQueryParams(c, sql, n, NULL, values, lengths, formats, 0);
}

/* Only BEGIN, savepoints and releases held back: any connection takes
 * them as well. */
static int
defer_plain(const struct pg_store *s)
{
	for (int i = 0; i < s->ndefer; i++)
		if (s->defer[i].name[0] || s->defer[i].n)
			return 0;
	return 1;
}

/* Enters pipeline mode and sends what is held back, then st[0..n).
 * Returns how many went out; *ok is 0 when one could not. */
static int
pipe_send(struct pg_store *s, const struct pg_stmt *st, int n, int *ok)
{
	PGconn	*c = s->conn;
	int	 nd = s->ndefer, sent = 0;

	*ok = PQenterPipelineMode(c);
	for (int i = 0; *ok && i < nd + n; i++, sent += *ok) {
		if (i < nd) {
			const struct pg_deferred *d = &s->defer[i];

			*ok = send_one(c, d->name, d->sql, d->n,
			    (const char *const *)d->values, d->lengths,
			    d->formats);
		} else {
			const struct pg_params *p = st[i - nd].p;

			*ok = send_one(c, st[i - nd].name, st[i - nd].sql,
			    p ? p->n : 0, p ? p->values : NULL,
			    p ? p->lengths : NULL, p ? p->formats : NULL);
		}
	}
	if (*ok)
		*ok = PQpipelineSync(c);
	return sent;
}

/*
 * Reads the answers of the sent commands: in a pipeline every command
 * has its results, then NULL; a command after a failed one has
 * PGRES_PIPELINE_ABORTED; the sync has PGRES_PIPELINE_SYNC.  res[i]
 * gets the statements' results, *err the first held-back command that
 * failed (*early its name).  Leaves pipeline mode.
 */
static void
pipe_read(struct pg_store *s, int sent, int synced, PGresult **res,
    PGresult **err, const char **early, const char *what)
{
	PGconn		*c = s->conn;
	PGresult	*r;
	int64_t		 end = answer_end(s);
	int		 nd = s->ndefer;

	for (int i = 0; synced && i < sent; i++) {
		while (await_result(s, end, what), (r = PQgetResult(c)) !=
		    NULL) {
			ExecStatusType rs = PQresultStatus(r);

			if (i >= nd && res[i - nd] == NULL) {
				res[i - nd] = r;
			} else if (i < nd && *err == NULL &&
			    rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
				*err = r;
				*early = s->defer[i].what;
			} else {
				PQclear(r);
			}
		}
		if (PQstatus(c) != CONNECTION_OK)
			break;
	}
	if (synced && PQstatus(c) == CONNECTION_OK) {
		await_result(s, end, what);
		PQclear(PQgetResult(c));	/* the sync */
	}
	if (!PQexitPipelineMode(c) && PQstatus(c) == CONNECTION_OK) {
		/* Out of step with the server (a send that failed): the
		 * next pg_begin resets the connection. */
		log_warnx("store: a pipeline to PostgreSQL failed: %s",
		    PQerrorMessage(c));
		s->prepared = 0;
	}
}

static void
clear_all(PGresult **res, int n)
{
	for (int i = 0; i < n; i++) {
		PQclear(res[i]);
		res[i] = NULL;
	}
}

int
pg_send_all(struct pg_store *s, const char *what, const struct pg_stmt *st,
    int n, PGresult **res, const char **early, int *again)
{
	PGresult	*err = NULL;
	int		 retry = *again && s->fresh && defer_plain(s);
	int		 sent, ok;

	/* Whatever it is, it comes after the finish they were read with. */
	pg_deps_forget(s);
	s->stmts++;
	*early = NULL;
	*again = 0;
	for (int i = 0; i < (n > 0 ? n : 1); i++)
		res[i] = NULL;
	if (s->ndefer == 0 && n == 1) {
		const struct pg_params *p = st->p;

		if (st->name)
			res[0] = pg_answer(s, PQsendQueryPrepared(s->conn,
			    st->name, p ? p->n : 0, p ? p->values : NULL,
			    p ? p->lengths : NULL, p ? p->formats : NULL, 0),
			    what);
		else if (p)
			res[0] = pg_answer(s, PQsendQueryParams(s->conn, st->sql,
			    p->n, NULL, p->values, p->lengths, p->formats, 0),
			    what);
		else
			res[0] = pg_answer(s, PQsendQuery(s->conn, st->sql),
			    what);
		return 0;
	}
	if (s->ndefer + n == 0)
		return 0;
	sent = pipe_send(s, st, n, &ok);
	pipe_read(s, sent, ok, res, &err, early, what);
	if (retry && PQstatus(s->conn) != CONNECTION_OK &&
	    pg_reconnect_fresh(s) == 0) {
		clear_all(res, n);
		PQclear(err);
		*early = NULL;
		*again = 1;
		return 0;
	}
	pg_defer_clear(s);
	if (err == NULL)
		return 0;
	clear_all(res, n);
	res[0] = err;
	return 1;
}

PGresult *
pg_send(struct pg_store *s, const char *what, const char *name,
    const char *sql, const struct pg_params *p, const char **early,
    int *again)
{
	struct pg_stmt	 st = {name, sql, p};
	PGresult	*r;

	pg_send_all(s, what, &st, 1, &r, early, again);
	return r;
}

int
pg_defer_flush(struct pg_store *s)
{
	PGresult	*r;
	const char	*early;
	int		 again = 1;

	if (s->ndefer == 0)
		return 0;
	pg_send_all(s, "held-back commands", NULL, 0, &r, &early, &again);
	if (again) {
		again = 0;
		pg_send_all(s, "held-back commands", NULL, 0, &r, &early,
		    &again);
	}
	if (early)
		return pg_fail_early(s, early, r);
	if (PQstatus(s->conn) != CONNECTION_OK)
		return pg_fail(s, "held-back commands", NULL);
	if (!s->prepared) {
		/* Out of step: the next pg_begin resets it. */
		pg_turn_failed(s, -EIO);
		return -EIO;
	}
	return 0;
}

int
pg_fail_early(struct pg_store *s, const char *what, PGresult *res)
{
	/* What follows it never ran: no savepoint can keep the turn. */
	s->marks = 0;
	s->mark_error = 0;
	return pg_fail(s, what, res);
}

/* ---- running statements ---- */

int
pg_sendable(struct pg_store *s, const struct pg_params *p, int named)
{
	int rc = 0;

	if (p && p->err)
		rc = p->err;
	else if (s->in_txn && s->mark_error)
		rc = s->mark_error;
	else if (PQstatus(s->conn) != CONNECTION_OK ||
	    (named && !s->prepared)) {
		/* Logged when it broke; it is being made again. */
		rc = -ENOTCONN;
		pg_turn_failed(s, rc);
		if (PQstatus(s->conn) != CONNECTION_OK)
			pg_link_lost(s, 0);
	}
	return rc;
}

int
pg_unknown(const PGresult *r)
{
	const char *code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	return code != NULL && strcmp(code, "26000") == 0;
}

int
pg_run(struct pg_store *s, const char *what, const char *name,
    const char *sql, const struct pg_prep *prep, struct pg_params *p,
    PGresult **res)
{
	PGresult	*r;
	ExecStatusType	 st;
	const char	*early;
	int		 rc, again = 1;

	if (res)
		*res = NULL;
	if ((rc = pg_sendable(s, p, name != NULL)) < 0)
		goto out;
	/* Several statements in one string go alone (simple protocol). */
	if (!name && !p && s->ndefer > 0 && (rc = pg_defer_flush(s)) < 0)
		goto out;
	/* Sent again once on the new connection: the statements are
	 * prepared there again. */
	for (;;) {
		if (prep && (rc = prep->prepare(s, prep->id)) < 0)
			goto out;
		if ((r = pg_send(s, what, name, sql, p, &early, &again)) !=
		    NULL || !again)
			break;
		again = 0;
	}
	st = PQresultStatus(r);
	if (early) {
		rc = pg_fail_early(s, early, r);
	} else if (r && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
		if (res)
			*res = r;
		else
			PQclear(r);
	} else {
		if (prep && pg_unknown(r))
			prep->forget(s);
		rc = pg_fail(s, what, r);
	}
out:
	if (p)
		pg_params_clear(p);
	return rc;
}

int
pg_exec(struct pg_store *s, enum pg_stmt_id id, struct pg_params *p,
    PGresult **res)
{
	return pg_run(s, pg_stmt_name(id), pg_stmt_name(id), NULL, NULL, p,
	    res);
}

int
pg_exec_sql(struct pg_store *s, const char *what, const char *sql,
    struct pg_params *p, PGresult **res)
{
	return pg_run(s, what, NULL, sql, NULL, p, res);
}

/* ---- shapes of answers ---- */

int
pg_run_changes(struct pg_store *s, const char *what, const char *name,
    const struct pg_prep *prep, struct pg_params *p)
{
	PGresult	*r;
	int		 rc;

	if ((rc = pg_run(s, what, name, NULL, prep, p, &r)) < 0)
		return rc;
	rc = atoi(PQcmdTuples(r));
	PQclear(r);
	return rc;
}

int
pg_changes(struct pg_store *s, enum pg_stmt_id id, struct pg_params *p)
{
	return pg_run_changes(s, pg_stmt_name(id), pg_stmt_name(id), NULL, p);
}

int
pg_change(struct pg_store *s, enum pg_stmt_id id, struct pg_params *p,
    int none)
{
	int rc;

	if ((rc = pg_changes(s, id, p)) < 0)
		return rc;
	return rc == 1 ? 0 : none;
}

int
pg_run_ids(struct pg_store *s, const char *what, const char *name,
    const struct pg_prep *prep, struct pg_params *p, uint64_t **ids,
    size_t *n)
{
	PGresult	*r;
	int		 rc, rows;

	*ids = NULL;
	*n = 0;
	if ((rc = pg_run(s, what, name, NULL, prep, p, &r)) < 0)
		return rc;
	if ((rows = PQntuples(r)) > 0) {
		if ((*ids = calloc((size_t)rows, sizeof(**ids))) == NULL) {
			PQclear(r);
			return -ENOMEM;
		}
		for (int i = 0; i < rows; i++)
			(*ids)[i] = (uint64_t)pg_int(r, i, 0);
		*n = (size_t)rows;
	}
	PQclear(r);
	return 0;
}

int
pg_ids(struct pg_store *s, enum pg_stmt_id id, struct pg_params *p,
    uint64_t **ids, size_t *n)
{
	return pg_run_ids(s, pg_stmt_name(id), pg_stmt_name(id), NULL, p, ids,
	    n);
}

/* ---- reading results ---- */

int64_t
pg_int(const PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int64_t
pg_opt(const PGresult *r, int row, int col, int64_t absent)
{
	if (PQgetisnull(r, row, col))
		return absent;
	return pg_int(r, row, col);
}

char *
pg_str(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return NULL;
	return strdup(PQgetvalue(r, row, col));
}
