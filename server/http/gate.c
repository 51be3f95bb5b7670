/*
 * The gate.  A new connection's bytes are only peeked at (MSG_PEEK): once
 * its first head is whole and valid, libmicrohttpd reads them again from
 * the socket as if the gate had never been there.  Connections waiting
 * for their head sit in an epoll set of the gate's own, watched through
 * one uv_poll; the client counts live in a small hash of addresses.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/counts.h"
#include "http/gate.h"
#include "http/head.h"
#include "log.h"
#include "server.h"

#define GATE_BUCKETS	1024
#define ACCEPTS_PER_RUN	64
#define SWEEP_MS	500
#define PAUSE_MS	100	/* after EMFILE: let descriptors come back */

struct client {
	uint8_t		 addr[16];	/* IPv4 as ::ffff:a.b.c.d */
	int		 count;
	struct client	*next;
};

struct gate_conn {
	struct gate		*gate;
	int			 fd;
	struct client		*client;
	int			 adopted;	/* libmicrohttpd has it */
	int			 in_request;
	int			 polled;	/* in the gate's epoll set */
	uint64_t		 since;		/* accepted, or its last answer */
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	char			 text[INET6_ADDRSTRLEN];
	struct gate_conn	*prev;
	struct gate_conn	*next;
};

struct gate {
	struct server		*srv;
	int			 listen_fd;
	int			 port;
	int			 epfd;
	uv_poll_t		 listen_poll;
	uv_poll_t		 ep_poll;
	uv_timer_t		 sweep;
	uv_timer_t		 pause;
	int			 started;
	int			 stopping;
	int			 nconns;
	uint64_t		 warned_at;	/* last "too many" log line */
	struct gate_conn	*waiting;	/* heads not in yet */
	struct gate_conn	*adopted;	/* with libmicrohttpd */
	struct client		*buckets[GATE_BUCKETS];
};

/* One peek buffer for every connection: the loop is single-threaded. */
static char	peek[HEAD_MAX];

/* ---- client counts ----------------------------------------------------- */

static void
client_key(const struct sockaddr_storage *ss, uint8_t key[16])
{
	memset(key, 0, 16);
	if (ss->ss_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	}
}

static struct client **
client_slot(struct gate *g, const uint8_t key[16])
{
	uint32_t	 h = 2166136261u;
	struct client	**p;

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	for (p = &g->buckets[h % GATE_BUCKETS]; *p; p = &(*p)->next)
		if (memcmp((*p)->addr, key, 16) == 0)
			break;
	return p;
}

static struct client *
client_get(struct gate *g, const uint8_t key[16])
{
	struct client **p = client_slot(g, key);

	if (*p == NULL && (*p = calloc(1, sizeof(**p))) != NULL)
		memcpy((*p)->addr, key, 16);
	return *p;
}

/* Forgets an address that has no connection left. */
static void
client_forget(struct gate *g, struct client *c)
{
	struct client **p;

	if (c->count > 0)
		return;
	p = client_slot(g, c->addr);
	*p = c->next;
	free(c);
}

static void
client_put(struct gate *g, struct client *c)
{
	c->count--;
	client_forget(g, c);
}

/* ---- connections ------------------------------------------------------- */

static void
list_add(struct gate_conn **head, struct gate_conn *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

static void
list_del(struct gate_conn **head, struct gate_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void
conn_free(struct gate *g, struct gate_conn *c)
{
	list_del(c->adopted ? &g->adopted : &g->waiting, c);
	if (c->client)
		client_put(g, c->client);
	g->nconns--;
	free(c);
	if (g->nconns == 0)
		uv_timer_stop(&g->sweep);
}

/*
 * Answers a refusal and closes fd.  What the client sent is read first,
 * so that the close does not reset the connection under the answer.
 */
static void
answer(int fd, int status, const char *code, const char *message,
    const char *extra)
{
	char	 buf[768];
	char	 sink[4096];
	int	 body, n;

	for (int i = 0; i < 16 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0;
	    i++)
		;
	body = snprintf(buf, sizeof(buf), "{\"error\":{\"code\":\"%s\","
	    "\"message\":\"%s\"}}\n", code, message);
	n = snprintf(buf + body, sizeof(buf) - (size_t)body, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Content-Length: %d\r\nConnection: close\r\n%s\r\n", status,
	    MHD_get_reason_phrase_for((unsigned)status),
	    body, extra ? extra : "");
	if (body > 0 && n > 0 && (size_t)(body + n) < sizeof(buf)) {
		struct iovec	 iov[2] = {{buf + body, (size_t)n}, {buf, (size_t)body}};
		struct msghdr	 mh = {.msg_iov = iov, .msg_iovlen = 2};

		(void)sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	shutdown(fd, SHUT_WR);
	close(fd);
}

/* A refusal counts as an answer: in the metrics and the access log. */
static void
counted(struct gate *g, const char *client, int status)
{
	g->srv->counts->http_by_status[status]++;
	if (g->srv->cfg->access_log)
		log_info("access client=%s method=- path=- status=%d bytes=- ms=-",
		    client, status);
}

/* Refuses a connection still in the gate and forgets it. */
static void
refuse(struct gate *g, struct gate_conn *c, int status, const char *code,
    const char *message)
{
	if (c->polled)
		epoll_ctl(g->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	answer(c->fd, status, code, message, NULL);
	log_debug("gate: client=%s refused: %d %s", c->text, status, message);
	counted(g, c->text, status);
	conn_free(g, c);
}

static void
hand_over(struct gate *g, struct gate_conn *c)
{
	if (c->polled)
		epoll_ctl(g->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	c->polled = 0;
	list_del(&g->waiting, c);
	c->adopted = 1;
	c->in_request = 1;
	list_add(&g->adopted, c);
	if (http_adopt(g->srv, c->fd, (struct sockaddr *)&c->ss, c->sl, c) < 0) {
		log_warnx("gate: client=%s: libmicrohttpd would not take the "
		    "connection", c->text);
		conn_free(g, c);
	}
}

/* Looks at what the connection sent so far. */
static void
look(struct gate *g, struct gate_conn *c)
{
	struct head_fault	 f;
	struct epoll_event	 ev = {.events = EPOLLIN};
	ssize_t			 n;
	size_t			 len;
	int			 rc;

	n = recv(c->fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* Gone before it asked anything. */
		if (c->polled)
			epoll_ctl(g->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		conn_free(g, c);
		return;
	}
	rc = n < 0 ? HEAD_MORE : head_scan(peek, (size_t)n, &len, &f);
	if (rc == HEAD_DONE) {
		hand_over(g, c);
	} else if (rc == HEAD_BAD) {
		refuse(g, c, f.status, f.code, f.why);
	} else if (!c->polled) {
		ev.data.ptr = c;
		if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
			log_warn("gate: epoll_ctl");
			close(c->fd);
			conn_free(g, c);
			return;
		}
		c->polled = 1;
	}
}

static void
too_many(struct gate *g, int fd, const char *text, int per_client)
{
	char		 msg[160];
	uint64_t	 now = uv_now(g->srv->loop);
	const struct config *cfg = g->srv->cfg;

	if (per_client)
		snprintf(msg, sizeof(msg), "too many connections from %s (at most "
		    "%d; --max-client-connections)", text,
		    cfg->max_client_connections);
	else
		snprintf(msg, sizeof(msg), "too many connections (at most %d; "
		    "--max-connections)", cfg->max_connections);
	if (now - g->warned_at >= 10000 || g->warned_at == 0) {
		g->warned_at = now;
		log_warnx("gate: %s: refusing new ones", msg);
	}
	answer(fd, 503, "too_many_connections", msg, "Retry-After: 1\r\n");
	counted(g, text, 503);
}

static void
admit(struct gate *g, int fd, const struct sockaddr_storage *ss, socklen_t sl)
{
	const struct config	*cfg = g->srv->cfg;
	struct gate_conn	*c;
	uint8_t			 key[16];
	char			 text[INET6_ADDRSTRLEN] = "-";
	struct client		*cl;

	client_key(ss, key);
	if (memcmp(key, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		inet_ntop(AF_INET, key + 12, text, sizeof(text));
	else
		inet_ntop(AF_INET6, key, text, sizeof(text));
	if (g->nconns >= cfg->max_connections) {
		too_many(g, fd, text, 0);
		return;
	}
	if ((cl = client_get(g, key)) == NULL) {
		close(fd);
		return;
	}
	if (cl->count >= cfg->max_client_connections) {
		too_many(g, fd, text, 1);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		client_forget(g, cl);
		close(fd);
		return;
	}
	cl->count++;
	c->gate = g;
	c->fd = fd;
	c->client = cl;
	c->ss = *ss;
	c->sl = sl;
	c->since = uv_now(g->srv->loop);
	snprintf(c->text, sizeof(c->text), "%s", text);
	list_add(&g->waiting, c);
	g->nconns++;
	look(g, c);
}

/* ---- the loop ---------------------------------------------------------- */

static void	on_sweep(uv_timer_t *);

static void
on_pause(uv_timer_t *t)
{
	struct gate *g = t->data;

	if (!g->stopping)
		uv_poll_start(&g->listen_poll, UV_READABLE, NULL);
}

static void	on_listen(uv_poll_t *, int, int);

static void
on_listen(uv_poll_t *p, int status, int events)
{
	struct gate		*g = p->data;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	int			 fd;

	(void)status;
	(void)events;
	for (int i = 0; i < ACCEPTS_PER_RUN && !g->stopping; i++) {
		sl = sizeof(ss);
		fd = accept4(g->listen_fd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			admit(g, fd, &ss, sl);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* The socket stays readable: wait, do not spin. */
			uint64_t now = uv_now(g->srv->loop);

			if (now - g->warned_at >= 10000 || g->warned_at == 0) {
				g->warned_at = now;
				log_warn("gate: accept");
			}
			uv_poll_stop(&g->listen_poll);
			uv_timer_start(&g->pause, on_pause, PAUSE_MS, 0);
		} else if (errno != EAGAIN) {
			log_warn("gate: accept");
		}
		break;
	}
	if (g->nconns && !uv_is_active((uv_handle_t *)&g->sweep))
		uv_timer_start(&g->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
}

static void
on_epoll(uv_poll_t *p, int status, int events)
{
	struct gate		*g = p->data;
	struct epoll_event	 ev[64];
	int			 n;

	(void)status;
	(void)events;
	n = epoll_wait(g->epfd, ev, 64, 0);
	for (int i = 0; i < n; i++)
		look(g, ev[i].data.ptr);
}

/* Heads that did not come in time; keep-alive connections idle too long. */
static void
on_sweep(uv_timer_t *t)
{
	struct gate		*g = t->data;
	uint64_t		 now = uv_now(g->srv->loop);
	uint64_t		 head_ms = (uint64_t)g->srv->cfg->header_timeout_ms;
	struct gate_conn	*c, *next;
	char			 msg[96];

	for (c = g->waiting; c; c = next) {
		next = c->next;
		if (now - c->since < head_ms)
			continue;
		snprintf(msg, sizeof(msg), "the request's headers did not arrive "
		    "within %.1f s (--header-timeout)", (double)head_ms / 1000.0);
		refuse(g, c, 408, "request_timeout", msg);
	}
	/* libmicrohttpd closes a connection whose socket was shut down. */
	for (c = g->adopted; c; c = c->next)
		if (!c->in_request && now - c->since >= GATE_IDLE_MS)
			shutdown(c->fd, SHUT_RDWR);
}

/* ---- the interface ----------------------------------------------------- */

void
gate_request_begin(struct gate_conn *c)
{
	if (c)
		c->in_request = 1;
}

void
gate_request_end(struct gate_conn *c)
{
	if (c == NULL)
		return;
	c->in_request = 0;
	c->since = uv_now(c->gate->srv->loop);
}

void
gate_closed(struct server *srv, struct gate_conn *c)
{
	(void)srv;
	if (c)
		conn_free(c->gate, c);
}

const char *
gate_client(const struct gate_conn *c)
{
	return c ? c->text : "-";
}

int
gate_listen(struct server *srv, const char *host, int port)
{
	struct addrinfo		 hints, *res = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	struct gate		*g;
	char			 portstr[16];
	int			 fd = -1, one = 1, rc;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return -ENOMEM;
	g->srv = srv;
	g->listen_fd = g->epfd = -1;
	srv->gate = g;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		log_warnx("http: cannot resolve %s: %s", host, gai_strerror(rc));
		return -EINVAL;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
	    listen(fd, 1024) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		goto fail;
	g->port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	freeaddrinfo(res);
	g->listen_fd = fd;
	return 0;
fail:
	rc = -errno;
	log_warn("http: listen on %s:%d", host, port);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return rc;
}

int
gate_connections(const struct server *srv)
{
	return srv->gate ? srv->gate->nconns : 0;
}

int
gate_port(const struct server *srv)
{
	return srv->gate ? srv->gate->port : -1;
}

int
gate_start(struct server *srv)
{
	struct gate *g = srv->gate;

	if ((g->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return -errno;
	uv_poll_init(srv->loop, &g->listen_poll, g->listen_fd);
	uv_poll_init(srv->loop, &g->ep_poll, g->epfd);
	uv_timer_init(srv->loop, &g->sweep);
	uv_timer_init(srv->loop, &g->pause);
	g->listen_poll.data = g->ep_poll.data = g->sweep.data = g->pause.data = g;
	g->started = 1;
	uv_poll_start(&g->listen_poll, UV_READABLE, on_listen);
	uv_poll_start(&g->ep_poll, UV_READABLE, on_epoll);
	return 0;
}

static void
on_closed(uv_handle_t *h)
{
	(void)h;
}

void
gate_stop(struct server *srv)
{
	struct gate *g = srv->gate;

	if (g == NULL || g->stopping)
		return;
	g->stopping = 1;
	while (g->waiting) {
		close(g->waiting->fd);
		conn_free(g, g->waiting);
	}
	if (!g->started)
		return;
	uv_close((uv_handle_t *)&g->listen_poll, on_closed);
	uv_close((uv_handle_t *)&g->ep_poll, on_closed);
	uv_close((uv_handle_t *)&g->sweep, on_closed);
	uv_close((uv_handle_t *)&g->pause, on_closed);
}

void
gate_free(struct server *srv)
{
	struct gate *g = srv->gate;

	if (g == NULL)
		return;
	/* libmicrohttpd has closed the rest, each with gate_closed. */
	while (g->adopted)
		conn_free(g, g->adopted);
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	if (g->epfd >= 0)
		close(g->epfd);
	free(g);
	srv->gate = NULL;
}
