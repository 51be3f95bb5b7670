/*
 * libmicrohttpd glue: the daemon and its place in the libuv loop.  MHD
 * runs in external epoll mode: a uv_poll_t on its epoll fd calls
 * MHD_run, and a uv_timer_t follows MHD_get_timeout.  It does not
 * listen: the gate (gate.c) accepts connections, checks their first
 * head and hands them over (http_adopt).  Requests live in hreq.c,
 * streamed responses in stream.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/gate.h"
#include "http/http.h"
#include "http/http_int.h"
#include "http/pct.h"
#include "http/reply.h"
#include "log.h"
#include "server.h"

/* ---- the loop glue ----------------------------------------------------- */

static void	http_run(struct http *);

static void
on_timer(uv_timer_t *t)
{
	http_run(t->data);
}

/*
 * MHD says when it wants to run again.  "At once" (it holds data read
 * ahead) goes through the idle handle, once per loop turn: a 0 ms timer
 * started from a timer callback runs again in the same turn with this
 * libuv (fixed in 1.46), and a busy upload would then starve the end of
 * the turn, where commits and dispatch happen.
 */
static void
http_arm(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG	 ms;

	if (h->stopping)
		return;
	if (MHD_get_timeout(h->daemon, &ms) != MHD_YES) {
		uv_timer_stop(&h->timer);
	} else if (ms == 0) {
		uv_timer_stop(&h->timer);
		http_kick(h);
	} else {
		uv_timer_start(&h->timer, on_timer, ms, 0);
	}
}

static void
http_run(struct http *h)
{
	if (h->daemon == NULL)
		return;
	MHD_run(h->daemon);
	http_arm(h);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	http_run(p->data);
}

static void
on_kick(uv_idle_t *i)
{
	uv_idle_stop(i);
	http_run(i->data);
}

/*
 * In external polling mode MHD does not wake itself for a resumed
 * connection: run it once more before the loop next sleeps.
 */
void
http_kick(struct http *h)
{
	if (!h->stopping)
		uv_idle_start(&h->kick, on_kick);
}

/*
 * Decodes %XX in the path and the query as MHD would, except that a %00
 * is dropped: values are C strings, and a NUL would cut them short
 * ("evil.php%00.jpg" would become "evil.php").
 */
static size_t
on_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char	*r = s, *w = s;

	(void)cls;
	(void)c;
	while (*r) {
		int b;

		if ((b = pct_byte(r)) >= 0) {
			if (b)
				*w++ = (char)b;
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void	on_mhd_log(void *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_debug("http: %s", buf);
}

/* ---- start and stop ---------------------------------------------------- */

static void	on_connection(void *, struct MHD_Connection *, void **,
		    enum MHD_ConnectionNotificationCode);

int
http_start(struct server *srv)
{
	const struct config		*cfg = srv->cfg;
	const union MHD_DaemonInfo	*info;
	struct http			*h;
	int				 rc;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	h->srv = srv;
	srv->http = h;
	srv->turn_over = http_reads_release;
	if ((rc = gate_listen(srv, cfg->listen_host, cfg->listen_port)) < 0)
		return rc;
	/*
	 * The gate counts connections; MHD's limit is only a backstop.  A
	 * connection's pool holds its head (16 KiB at most) and its
	 * buffers; MHD zeroes it at each request, so 32 KiB, not more
	 * (bench/RESULTS.md: enqueue +14 %, uploads -4 to -12 %).
	 */
	h->daemon = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL,
	    hreq_on_request, h,
	    MHD_OPTION_NOTIFY_COMPLETED, hreq_on_completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections + 16,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
	    MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, h,
	    MHD_OPTION_END);
	if (h->daemon == NULL) {
		log_warnx("http: libmicrohttpd did not start");
		return -EIO;
	}
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	uv_poll_init(srv->loop, &h->poll, info->epoll_fd);
	uv_timer_init(srv->loop, &h->timer);
	uv_idle_init(srv->loop, &h->kick);
	uv_timer_init(srv->loop, &h->watch);
	h->poll.data = h->timer.data = h->kick.data = h->watch.data = h;
	uv_poll_start(&h->poll, UV_READABLE, on_poll);
	http_arm(h);
	return gate_start(srv);
}

int
http_port(const struct server *srv)
{
	return gate_port(srv);
}

/* MHD's connection events: the gate's record rides along as its context. */
static void
on_connection(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct http *h = cls;

	(void)c;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		*ctx = h->adopting;
		h->adopted = h->adopting != NULL;
		return;
	}
	if (*ctx)
		gate_closed(h->srv, *ctx);
	*ctx = NULL;
}

int
http_adopt(struct server *srv, int fd, const struct sockaddr *sa,
    socklen_t salen, struct gate_conn *c)
{
	struct http	*h = srv->http;
	enum MHD_Result	 r;

	h->adopting = c;
	h->adopted = 0;
	r = MHD_add_connection(h->daemon, fd, sa, salen);
	h->adopting = NULL;
	http_kick(h);
	/* Once MHD saw it start, its close (now or later) settles c. */
	return r == MHD_YES || h->adopted ? 0 : -1;
}

static void
on_closed(uv_handle_t *hd)
{
	(void)hd;
}

void
http_stop(struct server *srv)
{
	struct http *h = srv->http;

	if (h == NULL || h->daemon == NULL)
		return;
	h->stopping = 1;
	gate_stop(srv);
	/* MHD must not be stopped with suspended connections. */
	while (h->waiting) {
		struct hreq *r = h->waiting;

		if (r->phase == PH_WAIT)
			reply_fail(&r->req, 503, "unavailable", NULL,
			    "runneld is shutting down");
		r->phase = PH_READY;
		hreq_resume(r);
	}
	while (h->parked)
		stream_wake(h->parked);
	MHD_run(h->daemon);
	uv_poll_stop(&h->poll);
	uv_timer_stop(&h->timer);
	MHD_stop_daemon(h->daemon);
	h->daemon = NULL;
	uv_close((uv_handle_t *)&h->poll, on_closed);
	uv_close((uv_handle_t *)&h->timer, on_closed);
	uv_close((uv_handle_t *)&h->kick, on_closed);
	uv_close((uv_handle_t *)&h->watch, on_closed);
}

void
http_free(struct server *srv)
{
	struct http *h = srv->http;

	if (h == NULL)
		return;
	gate_free(srv);
	free(h);
	srv->http = NULL;
	srv->turn_over = NULL;
}
