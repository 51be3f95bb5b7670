/*
 * The LISTEN connection (store/listen.h): libpq in non-blocking mode on
 * the loop.  PQconnectStartParams and PQconnectPoll make the connection
 * as the socket becomes ready (its descriptor may change on the way:
 * the poll handle follows it), then LISTEN is sent and its result read,
 * then every readable event is PQconsumeInput and PQnotifies.  A query
 * every KEEPALIVE_MS checks that the server still answers; a failure at
 * any step closes the connection and a timer makes it again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "store/listen.h"
#include "store/pg_conninfo.h"
#include "store/pg_poll.h"

#define BACKOFF_MIN_MS		100
#define BACKOFF_MAX_MS		5000
#define CONNECT_TIMEOUT_MS	10000
#define KEEPALIVE_MS		15000

enum lstate {
	L_DOWN,		/* waiting for the retry timer */
	L_CONNECTING,	/* PQconnectPoll steps */
	L_LISTENING,	/* LISTEN sent, its result not read yet */
	L_UP
};

struct pg_listen {
	uv_loop_t		*loop;
	const struct pg_listen_cb	*cb;
	void			*arg;
	struct pg_conninfo	 ci;
	char			 channel[64];
	PGconn			*conn;
	struct pg_poll		*poll;
	enum lstate		 state;
	uv_timer_t		 timer;	/* retry, connect deadline, keepalive */
	int64_t			 backoff_ms;
	int			 query;	/* a keepalive query is out */
	int			 stopping;
	int			 was_up;
};

static void	on_poll(uv_poll_t *, int, int);
static void	on_timer(uv_timer_t *);

static void
poll_drop(struct pg_listen *l)
{
	pg_poll_drop(&l->poll);
}

static int
poll_watch(struct pg_listen *l, int events)
{
	return pg_poll_watch(&l->poll, l->loop, l->conn, events, on_poll, l);
}

/* The connection failed or dropped: close it, try again later. */
static void
down(struct pg_listen *l, const char *why)
{
	if (l->state == L_UP || l->was_up == 0)
		log_warnx("listen: %s%s%s: notifications from other nodes are "
		    "missed until it is back (polling meanwhile)", why,
		    l->conn ? ": " : "",
		    l->conn ? strtok(PQerrorMessage(l->conn), "\n") : "");
	l->was_up = l->state == L_UP ? 1 : l->was_up;
	poll_drop(l);
	PQfinish(l->conn);
	l->conn = NULL;
	l->state = L_DOWN;
	l->query = 0;
	if (l->stopping)
		return;
	uv_timer_start(&l->timer, on_timer, (uint64_t)l->backoff_ms, 0);
	l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    l->backoff_ms * 2;
}

/* The server's notices (its FATAL as it shuts down, say): not stderr. */
static void
notice(void *arg, const PGresult *res)
{
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	(void)arg;
	log_debug("listen: postgresql: %s", msg ? msg : "?");
}

static void
connect_start(struct pg_listen *l)
{
	l->conn = PQconnectStartParams(l->ci.keys, l->ci.vals, 0);
	if (l->conn == NULL || PQstatus(l->conn) == CONNECTION_BAD) {
		down(l, "connect");
		return;
	}
	PQsetNoticeReceiver(l->conn, notice, NULL);
	l->state = L_CONNECTING;
	uv_timer_start(&l->timer, on_timer, CONNECT_TIMEOUT_MS, 0);
	/* As if PQconnectPoll had said PGRES_POLLING_WRITING. */
	if (poll_watch(l, UV_WRITABLE) < 0)
		down(l, "connect");
}

/* Sends q; the rest of it goes out as the socket allows. */
static int
send_query(struct pg_listen *l, const char *q)
{
	int rc;

	if (!PQsendQuery(l->conn, q))
		return -EIO;
	rc = PQflush(l->conn);
	if (rc < 0)
		return -EIO;
	return poll_watch(l, UV_READABLE | (rc == 1 ? UV_WRITABLE : 0));
}

static void
connect_step(struct pg_listen *l)
{
	char q[96];

	switch (PQconnectPoll(l->conn)) {
	case PGRES_POLLING_READING:
		if (poll_watch(l, UV_READABLE) < 0)
			down(l, "connect");
		return;
	case PGRES_POLLING_WRITING:
		if (poll_watch(l, UV_WRITABLE) < 0)
			down(l, "connect");
		return;
	case PGRES_POLLING_OK:
		break;
	default:
		down(l, "connect");
		return;
	}
	if (PQsetnonblocking(l->conn, 1) != 0) {
		down(l, "connect");
		return;
	}
	snprintf(q, sizeof(q), "LISTEN \"%s\"", l->channel);
	l->state = L_LISTENING;
	if (send_query(l, q) < 0)
		down(l, "LISTEN");
}

/* Reads what came: results of our queries, then notifications. */
static int
read_input(struct pg_listen *l)
{
	PGnotify	*n;
	PGresult	*r;

	if (!PQconsumeInput(l->conn))
		return -EIO;
	while (!PQisBusy(l->conn) && (r = PQgetResult(l->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(r);

		PQclear(r);
		if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
			return -EIO;
	}
	if (!PQisBusy(l->conn)) {
		if (l->state == L_LISTENING) {
			l->state = L_UP;
			l->backoff_ms = BACKOFF_MIN_MS;
			if (l->was_up)
				log_info("listen: listening again");
			l->was_up = 1;
			uv_timer_start(&l->timer, on_timer, KEEPALIVE_MS,
			    KEEPALIVE_MS);
			l->cb->up(l->arg);
		}
		l->query = 0;
	}
	while (l->state == L_UP && (n = PQnotifies(l->conn)) != NULL) {
		l->cb->message(l->arg, n->extra);
		PQfreemem(n);
	}
	return 0;
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
	struct pg_listen	*l = ((struct pg_poll *)h->data)->arg;
	int		 rc;

	if (l == NULL || l->stopping)
		return;
	if (status < 0) {
		down(l, "socket");
		return;
	}
	if (l->state == L_CONNECTING) {
		connect_step(l);
		return;
	}
	if (events & UV_WRITABLE) {
		if ((rc = PQflush(l->conn)) < 0) {
			down(l, "send");
			return;
		}
		if (rc == 0)
			poll_watch(l, UV_READABLE);
	}
	if ((events & UV_READABLE) && read_input(l) < 0)
		down(l, l->state == L_UP ? "connection lost" : "LISTEN");
}

static void
on_timer(uv_timer_t *t)
{
	struct pg_listen *l = t->data;

	switch (l->state) {
	case L_DOWN:
		connect_start(l);
		return;
	case L_CONNECTING:
	case L_LISTENING:
		down(l, "connect timed out");
		return;
	case L_UP:
		/* The server still answers, or we learn now that it does not. */
		if (l->query) {
			down(l, "no answer to the keepalive");
			return;
		}
		l->query = 1;
		if (send_query(l, "SELECT 1") < 0)
			down(l, "keepalive");
		return;
	}
}

/* conninfo's options, with TCP keepalives and a name unless it gives them. */
static int
options(struct pg_listen *l, const char *conninfo)
{
	int rc;

	if ((rc = pg_conninfo_parse(&l->ci, conninfo, 4, NULL)) < 0)
		return rc;
	pg_conninfo_default(&l->ci, "keepalives_idle", "10");
	pg_conninfo_default(&l->ci, "keepalives_interval", "5");
	pg_conninfo_default(&l->ci, "keepalives_count", "3");
	pg_conninfo_default(&l->ci, "fallback_application_name",
	    "runneld-listen");
	return 0;
}

static void
pg_listen_free(struct pg_listen *l)
{
	pg_conninfo_free(&l->ci);
	free(l);
}

int
pg_listen_start(uv_loop_t *loop, const char *conninfo, const char *channel,
    const struct pg_listen_cb *cb, void *arg, struct pg_listen **out)
{
	struct pg_listen	*l;
	int		 rc;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	if ((rc = options(l, conninfo)) < 0) {
		pg_listen_free(l);
		return rc;
	}
	l->loop = loop;
	l->cb = cb;
	l->arg = arg;
	l->backoff_ms = BACKOFF_MIN_MS;
	snprintf(l->channel, sizeof(l->channel), "%s", channel);
	uv_timer_init(loop, &l->timer);
	l->timer.data = l;
	connect_start(l);
	*out = l;
	return 0;
}

static void
timer_closed(uv_handle_t *h)
{
	pg_listen_free(h->data);
}

void
pg_listen_stop(struct pg_listen *l)
{
	if (l == NULL || l->stopping)
		return;
	l->stopping = 1;
	poll_drop(l);
	PQfinish(l->conn);
	l->conn = NULL;
	uv_timer_stop(&l->timer);
	uv_close((uv_handle_t *)&l->timer, timer_closed);
}

int
pg_listen_is_up(const struct pg_listen *l)
{
	return l != NULL && l->state == L_UP;
}
