/*
 * The loop's connection to PostgreSQL when it is lost (store/cluster.h,
 * store_link_*): from the moment a statement finds it lost, statements
 * fail at once with -ENOTCONN without touching the network, and the
 * connection is made again step by step on the loop (PQresetStart, then
 * PQresetPoll each time its socket is ready, in a uv_poll_t that follows
 * the socket as it changes): at once, then with back-off, each attempt
 * bounded by connect_timeout (libpq applies it only to blocking
 * connects).  Once connected, pg_reconnected sets the session up and
 * prepares the statements again (a few round trips, each bounded by
 * answer_ms), and the owner's up callback is called.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "store/cluster.h"
#include "store/pg.h"
#include "store/pg_poll.h"

#define RETRY_FIRST_MS		500
#define CONNECT_DEFAULT_MS	5000
#define LOG_EVERY_MS		60000	/* "still unreachable" at most this often */

enum link_state {
	LINK_UP,
	LINK_WAIT,		/* lost: the timer starts the next attempt */
	LINK_CONNECTING		/* PQresetPoll steps */
};

struct pg_link {
	struct pg_store		*s;
	uv_loop_t		*loop;
	uv_timer_t		 timer;	/* the next attempt; an attempt's end */
	struct pg_poll		*poll;
	enum link_state		 state;
	int64_t			 retry_ms;	/* the last back-off */
	int64_t			 retry_max_ms;
	int64_t			 connect_ms;	/* an attempt's deadline */
	int64_t			 down_at;	/* wall clock */
	int64_t			 down_mono;
	int64_t			 next_mono;	/* LINK_WAIT: the next attempt */
	int64_t			 logged_mono;
	uint64_t		 outages;
	uint64_t		 attempts;	/* in this outage */
	char			 error[256];
	void			(*up)(void *);
	void			*arg;
};

static void	on_poll(uv_poll_t *, int, int);
static void	on_timer(uv_timer_t *);

/* libpq's message (or why) on one line, kept as the outage's reason. */
static void
note_error(struct pg_link *l, const char *why)
{
	const char	*m = why ? why : PQerrorMessage(l->s->conn);
	size_t		 n = 0;

	for (; m && *m && n + 1 < sizeof(l->error); m++)
		if (*m == '\n' || *m == '\t' || *m == ' ') {
			if (n > 0 && l->error[n - 1] != ' ')
				l->error[n++] = ' ';
		} else {
			l->error[n++] = *m;
		}
	while (n > 0 && l->error[n - 1] == ' ')
		n--;
	l->error[n] = '\0';
	if (n == 0)
		snprintf(l->error, sizeof(l->error), "the connection was lost");
}

static void
poll_drop(struct pg_link *l)
{
	pg_poll_drop(&l->poll);
}

static int
poll_watch(struct pg_link *l, int events)
{
	return pg_poll_watch(&l->poll, l->loop, l->s->conn, events, on_poll, l);
}

/*
 * 80-100% of ms: nodes that lost the database together do not all knock
 * at the same moment when it comes back.
 */
static int64_t
jitter(int64_t ms)
{
	static uint64_t seed;

	if (seed == 0)
		seed = ((uint64_t)clock_mono_ms() * 2654435761u ^
		    (uint64_t)getpid() << 32) | 1;
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return ms - (int64_t)(seed % (uint64_t)(ms / 5 + 1));
}

/* An attempt failed: the next one after the back-off. */
static void
attempt_failed(struct pg_link *l, const char *why)
{
	int64_t now = clock_mono_ms(), wait;

	poll_drop(l);
	note_error(l, why);
	l->s->prepared = 0;
	l->state = LINK_WAIT;
	l->retry_ms = l->retry_ms ? l->retry_ms * 2 : RETRY_FIRST_MS;
	if (l->retry_ms > l->retry_max_ms)
		l->retry_ms = l->retry_max_ms;
	wait = jitter(l->retry_ms);
	l->next_mono = now + wait;
	uv_timer_start(&l->timer, on_timer, (uint64_t)wait, 0);
	if (now - l->logged_mono >= LOG_EVERY_MS) {
		log_warnx("store: PostgreSQL still unreachable after %.0fs "
		    "(%llu attempts): %s", (double)(now - l->down_mono) / 1000.0,
		    (unsigned long long)l->attempts, l->error);
		l->logged_mono = now;
	}
}

/* Connected: the session and the statements, then the owner hears. */
static void
attempt_done(struct pg_link *l)
{
	int64_t	 now = clock_mono_ms();
	int	 rc;

	poll_drop(l);
	uv_timer_stop(&l->timer);
	/* Still CONNECTING meanwhile: a failure here is this attempt's. */
	if ((rc = pg_reconnected(l->s)) < 0) {
		attempt_failed(l, PQstatus(l->s->conn) == CONNECTION_OK ?
		    "setting up the session failed" : NULL);
		return;
	}
	l->state = LINK_UP;
	l->s->answer_cut = 0;
	l->retry_ms = 0;
	l->error[0] = '\0';
	log_info("store: reconnected to PostgreSQL after %.1fs (%llu "
	    "attempts): taking writes again", (double)(now - l->down_mono) /
	    1000.0, (unsigned long long)l->attempts);
	if (l->up)
		l->up(l->arg);
}

/* One PQresetPoll; what it asks for next. */
static void
step(struct pg_link *l)
{
	switch (PQresetPoll(l->s->conn)) {
	case PGRES_POLLING_READING:
		if (poll_watch(l, UV_READABLE) < 0)
			attempt_failed(l, NULL);
		return;
	case PGRES_POLLING_WRITING:
		if (poll_watch(l, UV_WRITABLE) < 0)
			attempt_failed(l, NULL);
		return;
	case PGRES_POLLING_OK:
		attempt_done(l);
		return;
	default:
		attempt_failed(l, NULL);
		return;
	}
}

/* Starts an attempt: 0 while it goes on, -ENOTCONN if it failed at once. */
static int
attempt_start(struct pg_link *l)
{
	l->attempts++;
	l->s->prepared = 0;
	if (!PQresetStart(l->s->conn)) {
		attempt_failed(l, NULL);
		return -ENOTCONN;
	}
	l->state = LINK_CONNECTING;
	uv_timer_start(&l->timer, on_timer, (uint64_t)l->connect_ms, 0);
	/* As if PQresetPoll had said PGRES_POLLING_WRITING. */
	if (poll_watch(l, UV_WRITABLE) < 0) {
		attempt_failed(l, NULL);
		return -ENOTCONN;
	}
	return 0;
}

/*
 * The first attempt of an outage, made at once by the statement that
 * found it: a server restarted meanwhile is back before that statement
 * gives up.  What is not done within PG_LINK_INLINE_MS goes on on the
 * loop.
 */
static int
attempt_inline(struct pg_link *l)
{
	int64_t			 end = clock_mono_ms() + PG_LINK_INLINE_MS;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;

	if (attempt_start(l) < 0)
		return -ENOTCONN;
	for (;;) {
		struct pollfd	 pfd = {.fd = PQsocket(l->s->conn),
				    .events = st == PGRES_POLLING_READING ?
				    POLLIN : POLLOUT};
		int64_t		 left = end - clock_mono_ms();

		if (pfd.fd < 0 || left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		st = PQresetPoll(l->s->conn);
		if (st == PGRES_POLLING_OK) {
			attempt_done(l);
			return l->state == LINK_UP ? 0 : -ENOTCONN;
		}
		if (st != PGRES_POLLING_READING && st != PGRES_POLLING_WRITING) {
			attempt_failed(l, NULL);
			return -ENOTCONN;
		}
	}
	/* Not yet: the loop takes over where it stands. */
	if (poll_watch(l, st == PGRES_POLLING_READING ? UV_READABLE :
	    UV_WRITABLE) < 0)
		attempt_failed(l, NULL);
	return -ENOTCONN;
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
	struct pg_link *l = ((struct pg_poll *)h->data)->arg;

	(void)events;
	if (l == NULL || l->state != LINK_CONNECTING)
		return;
	if (status < 0) {
		attempt_failed(l, uv_strerror(status));
		return;
	}
	step(l);
}

static void
on_timer(uv_timer_t *t)
{
	struct pg_link	*l = t->data;
	char		 why[64];

	switch (l->state) {
	case LINK_WAIT:
		attempt_start(l);
		return;
	case LINK_CONNECTING:
		snprintf(why, sizeof(why), "no connection within %.1fs "
		    "(connect_timeout)", (double)l->connect_ms / 1000.0);
		attempt_failed(l, why);
		return;
	case LINK_UP:
		return;
	}
}

int
pg_link_lost(struct pg_store *s, int try_now)
{
	struct pg_link *l = s->link;

	if (l == NULL)
		return -ENOTCONN;
	if (l->state == LINK_UP) {
		l->state = LINK_WAIT;
		l->s->prepared = 0;
		l->outages++;
		l->attempts = 0;
		l->retry_ms = 0;
		l->down_at = clock_now_ms();
		l->down_mono = l->logged_mono = l->next_mono = clock_mono_ms();
		note_error(l, s->answer_cut ? "no answer in time: the server "
		    "hangs or the network drops it" : NULL);
		log_warnx("store: lost the connection to PostgreSQL: %s: writes "
		    "get 503 database_unavailable and running jobs keep their "
		    "ends until it is back; reconnecting", l->error);
		/* The first attempt at once (on the loop, unless made here). */
		uv_timer_start(&l->timer, on_timer, 0, 0);
	}
	if (try_now && l->state == LINK_WAIT && l->attempts == 0 &&
	    !s->in_txn)
		return attempt_inline(l);
	return -ENOTCONN;
}

int
pg_link_down(const struct pg_store *s)
{
	return s->link != NULL && s->link->state != LINK_UP;
}

/* ---- store/cluster.h ---- */

/* The connection's connect_timeout in ms (libpq counts 1 as 2). */
static int64_t
connect_ms(PGconn *c)
{
	PQconninfoOption	*opts = PQconninfo(c);
	int64_t			 ms = CONNECT_DEFAULT_MS;

	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		if (strcmp(o->keyword, "connect_timeout") == 0 && o->val &&
		    atoi(o->val) > 0)
			ms = atoi(o->val) < 2 ? 2000 : atoi(o->val) * 1000LL;
	PQconninfoFree(opts);
	return ms;
}

int
pg_link_start(struct store *store, uv_loop_t *loop, int64_t retry_max_ms,
    int64_t answer_ms, void (*up)(void *), void *arg)
{
	struct pg_store	*s = pg_of(store);
	struct pg_link	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	l->s = s;
	l->loop = loop;
	l->state = PQstatus(s->conn) == CONNECTION_OK ? LINK_UP : LINK_WAIT;
	l->retry_max_ms = retry_max_ms < RETRY_FIRST_MS ? RETRY_FIRST_MS :
	    retry_max_ms;
	l->connect_ms = connect_ms(s->conn);
	l->up = up;
	l->arg = arg;
	uv_timer_init(loop, &l->timer);
	l->timer.data = l;
	s->link = l;
	s->answer_ms = answer_ms;
	if (l->state != LINK_UP) {
		l->state = LINK_UP;
		pg_link_lost(s, 0);
	}
	return 0;
}

static void
timer_closed(uv_handle_t *h)
{
	free(h->data);
}

void
pg_link_stop(struct store *store)
{
	struct pg_store	*s = store ? pg_of(store) : NULL;
	struct pg_link	*l = s ? s->link : NULL;

	if (l == NULL)
		return;
	s->link = NULL;
	poll_drop(l);
	uv_timer_stop(&l->timer);
	uv_close((uv_handle_t *)&l->timer, timer_closed);
}

int
pg_link_up(const struct store *store)
{
	const struct pg_store *s = pg_of(store);

	if (s->link)
		return s->link->state == LINK_UP;
	return PQstatus(s->conn) == CONNECTION_OK;
}

void
pg_link_info(const struct store *store, struct store_link *out)
{
	const struct pg_store	*s = pg_of(store);
	const struct pg_link	*l = s->link;
	int64_t			 now = clock_mono_ms();

	memset(out, 0, sizeof(*out));
	out->up = pg_link_up(store);
	if (l == NULL)
		return;
	out->outages = l->outages;
	if (out->up)
		return;
	out->down_at = l->down_at;
	out->down_ms = now - l->down_mono;
	out->retry_in_ms = l->state == LINK_WAIT && l->next_mono > now ?
	    l->next_mono - now : 0;
	out->attempts = l->attempts;
	snprintf(out->error, sizeof(out->error), "%s", l->error);
}
