/*
 * The connections of store/pgio.h: blocking libpq, one connection per
 * thread at a time, idle ones kept under a mutex for the next caller.
 * They are apart from the loop's connection (store/pg*.c) so that a
 * gigabyte going to or from the database never holds up a turn.
 */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "log.h"
#include "store/pgio_int.h"

#define PGIO_IDLE_MAX	16

/* A connection that fails is said at most this often (threads retry). */
#define PGIO_LOG_EVERY_MS	60000

struct pgio {
	char		*conninfo;
	int		 max;
	pthread_mutex_t	 mu;
	PGconn		*idle[PGIO_IDLE_MAX];
	int		 nidle;
	int64_t		 logged_ms;	/* the last failure said (mono) */
	unsigned	 unsaid;	/* failures since, not said */
};

const char *
pgio_msg(const char *m, char *buf, size_t size)
{
	size_t n = 0;

	for (; m && *m && n + 1 < size; m++) {
		if (*m == '\n' || *m == '\t') {
			if (n > 0 && buf[n - 1] != ' ')
				buf[n++] = ' ';
		} else {
			buf[n++] = *m;
		}
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return buf;
}

struct pgio *
pgio_new(const char *conninfo, int max)
{
	struct pgio *io = calloc(1, sizeof(*io));

	if (io == NULL || (io->conninfo = strdup(conninfo)) == NULL) {
		free(io);
		return NULL;
	}
	io->max = max < 1 ? 1 : max > PGIO_IDLE_MAX ? PGIO_IDLE_MAX : max;
	pthread_mutex_init(&io->mu, NULL);
	return io;
}

void
pgio_free(struct pgio *io)
{
	if (io == NULL)
		return;
	for (int i = 0; i < io->nidle; i++)
		PQfinish(io->idle[i]);
	pthread_mutex_destroy(&io->mu);
	free(io->conninfo);
	free(io);
}

/*
 * conninfo, but with a connect_timeout (unless it or PGCONNECT_TIMEOUT
 * gives one: a database that does not answer holds a thread 5 s, not
 * the system's TCP timeout) and TCP keepalives (a peer gone without a
 * word is found in about 30 s), as the loop's connection has them.
 * What conninfo says wins: it comes after them (expand_dbname).
 */
static PGconn *
connect_params(const char *conninfo)
{
	const char	*keys[8], *vals[8];
	int		 k = 0;

	if (getenv("PGCONNECT_TIMEOUT") == NULL) {
		keys[k] = "connect_timeout";
		vals[k++] = "5";
	}
	keys[k] = "keepalives_idle";
	vals[k++] = "15";
	keys[k] = "keepalives_interval";
	vals[k++] = "5";
	keys[k] = "keepalives_count";
	vals[k++] = "3";
	keys[k] = "dbname";
	vals[k++] = conninfo;
	keys[k] = vals[k] = NULL;
	return PQconnectdbParams(keys, vals, 1);
}

struct pg_conn *
pgio_get(struct pgio *io)
{
	PGconn *c = NULL;

	pthread_mutex_lock(&io->mu);
	if (io->nidle > 0)
		c = io->idle[--io->nidle];
	pthread_mutex_unlock(&io->mu);
	if (c != NULL && PQstatus(c) == CONNECTION_OK)
		return c;
	if (c != NULL)
		PQfinish(c);
	c = connect_params(io->conninfo);
	if (c == NULL) {
		log_warnx("pgio: connect: out of memory");
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		/* The message names host and user, never the password. */
		char		 m[512];
		int64_t		 now = clock_mono_ms();
		unsigned	 unsaid = 0;
		int		 say = 0;

		pthread_mutex_lock(&io->mu);
		if (io->logged_ms == 0 || now - io->logged_ms >=
		    PGIO_LOG_EVERY_MS) {
			say = 1;
			unsaid = io->unsaid;
			io->logged_ms = now;
			io->unsaid = 0;
		} else {
			io->unsaid++;
		}
		pthread_mutex_unlock(&io->mu);
		if (say)
			log_warnx("pgio: connect: %s (%u more failures not "
			    "logged)", pgio_msg(PQerrorMessage(c), m, sizeof(m)),
			    unsaid);
		PQfinish(c);
		return NULL;
	}
	/*
	 * Output rows need no flush of their own: the commit of the job's
	 * finish, which comes after them, flushes the WAL up to itself and
	 * so through them.  What must be durable at once (a blob before its
	 * 201) says so in its own transaction.
	 */
	if (pgio_simple(c, "session", "SET synchronous_commit = off") < 0) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

void
pgio_put(struct pgio *io, struct pg_conn *c, int ok)
{
	if (c == NULL)
		return;
	if (ok && PQstatus(c) == CONNECTION_OK &&
	    PQtransactionStatus(c) == PQTRANS_IDLE) {
		pthread_mutex_lock(&io->mu);
		if (io->nidle < io->max) {
			io->idle[io->nidle++] = c;
			c = NULL;
		}
		pthread_mutex_unlock(&io->mu);
	}
	if (c != NULL)
		PQfinish(c);
}

int
pgio_exec(PGconn *c, const char *what, const char *sql, int n,
    const char *const *vals, const int *lens, PGresult **res, char state[6])
{
	int		 fmts[8], plens[8];
	PGresult	*r;
	ExecStatusType	 st;

	if (res)
		*res = NULL;
	if (state)
		state[0] = '\0';
	for (int i = 0; i < n && i < 8; i++) {
		fmts[i] = lens && lens[i] >= 0;
		plens[i] = fmts[i] ? lens[i] : 0;
	}
	r = PQexecParams(c, sql, n, NULL, vals, plens, fmts, 1);
	st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (res)
			*res = r;
		else
			PQclear(r);
		return 0;
	}
	if (state && r && PQresultErrorField(r, PG_DIAG_SQLSTATE))
		snprintf(state, 6, "%s", PQresultErrorField(r, PG_DIAG_SQLSTATE));
	/* An FK miss is an answer the caller expects, not a failure. */
	if (!(state && strcmp(state, "23503") == 0)) {
		char m[512];

		log_warnx("pgio: %s: %s", what, pgio_msg(r ?
		    PQresultErrorMessage(r) : PQerrorMessage(c), m, sizeof(m)));
	}
	PQclear(r);
	return -EIO;
}

int
pgio_simple(PGconn *c, const char *what, const char *sql)
{
	return pgio_exec(c, what, sql, 0, NULL, NULL, NULL, NULL);
}

int64_t
pgio_int(const PGresult *r, int row, int col)
{
	const unsigned char	*p = (const unsigned char *)PQgetvalue(r, row, col);
	int			 len = PQgetlength(r, row, col);
	uint64_t		 v = 0;

	for (int i = 0; i < len && i < 8; i++)
		v = v << 8 | p[i];
	if (len == 4)
		return (int32_t)(uint32_t)v;
	return (int64_t)v;
}
