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

/* ---- running statements ---- */

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

PGresult *
pg_answer(struct pg_store *s, int sent, const char *what)
{
	PGconn		*c = s->conn;
	PGresult	*r, *last = NULL;
	int64_t		 end = s->answer_ms > 0 ? clock_mono_ms() + s->answer_ms : 0;
	short		 ev = 0;
	int		 rc = 0, f;

	if (!sent)
		return NULL;
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
		/* Hung, or cut off without a word: PQgetResult would wait for
		 * ever.  Cut the connection, so libpq fails the statement. */
		if (rc == -ETIMEDOUT) {
			log_warnx("store: %s: no answer from PostgreSQL in "
			    "%.1fs: cutting the connection", what,
			    (double)s->answer_ms / 1000.0);
			s->answer_cut = 1;
		}
		shutdown(PQsocket(c), SHUT_RDWR);
		PQconsumeInput(c);
	}
	/* As PQexec: the last result; a lost connection ends the list. */
	while ((r = PQgetResult(c)) != NULL) {
		PQclear(last);
		last = r;
		if (PQstatus(c) != CONNECTION_OK)
			break;
	}
	return last;
}

static int
run(struct pg_store *s, const char *what, const char *name, const char *sql,
    struct pg_params *p, PGresult **res)
{
	PGresult	*r;
	ExecStatusType	 st;
	int		 rc = 0;

	if (res)
		*res = NULL;
	if (p && p->err)
		rc = p->err;
	else if (s->in_txn && s->mark_error)
		rc = s->mark_error;
	else if (PQstatus(s->conn) != CONNECTION_OK ||
	    (name && !s->prepared)) {
		/* Logged when it broke; it is being made again. */
		rc = -ENOTCONN;
		pg_turn_failed(s, rc);
		if (PQstatus(s->conn) != CONNECTION_OK)
			pg_link_lost(s, 0);
	}
	if (rc < 0)
		goto out;
	if (name)
		r = pg_answer(s, PQsendQueryPrepared(s->conn, name, p ? p->n : 0,
		    p ? p->values : NULL, p ? p->lengths : NULL,
		    p ? p->formats : NULL, 0), what);
	else if (p)
		r = pg_answer(s, PQsendQueryParams(s->conn, sql, p->n, NULL,
		    p->values, p->lengths, p->formats, 0), what);
	else
		r = pg_answer(s, PQsendQuery(s->conn, sql), what);
	st = PQresultStatus(r);
	if (r && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
		if (res)
			*res = r;
		else
			PQclear(r);
	} else {
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
	return run(s, pg_stmt_name(id), pg_stmt_name(id), NULL, p, res);
}

int
pg_exec_sql(struct pg_store *s, const char *what, const char *sql,
    struct pg_params *p, PGresult **res)
{
	return run(s, what, NULL, sql, p, res);
}

/* ---- shapes of answers ---- */

int
pg_changes(struct pg_store *s, enum pg_stmt_id id, struct pg_params *p)
{
	PGresult	*r;
	int		 rc;

	if ((rc = pg_exec(s, id, p, &r)) < 0)
		return rc;
	rc = atoi(PQcmdTuples(r));
	PQclear(r);
	return rc;
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
pg_ids(struct pg_store *s, enum pg_stmt_id id, struct pg_params *p,
    uint64_t **ids, size_t *n)
{
	PGresult	*r;
	int		 rc, rows;

	*ids = NULL;
	*n = 0;
	if ((rc = pg_exec(s, id, p, &r)) < 0)
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
