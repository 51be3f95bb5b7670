/*
 * A request's life inside libmicrohttpd: from its head (framing checked
 * again here with head.c, for the requests that follow the first on a
 * keep-alive connection) through routing, authorisation and its body to
 * the handler, and back as an MHD response; then its access log line.
 *
 * A request is answered from the handler's call after the body is
 * complete (answering on the very first call makes MHD close keep-alive
 * connections).  A handler may return API_PENDING: the connection is
 * suspended until request_done() calls back.
 *
 * A read that comes while the store has a turn open is held until that
 * turn is over: its handler would see rows not committed yet, which a
 * crash or a failed commit then takes back (a reader must never see a
 * job that later vanishes).  Writes need not wait: they join the turn
 * and are answered after its commit anyway.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "clock.h"
#include "core/core.h"
#include "core/counts.h"
#include "http/auth.h"
#include "http/gate.h"
#include "http/head.h"
#include "http/http_int.h"
#include "http/origin.h"
#include "http/reply.h"
#include "http/route.h"
#include "log.h"
#include "server.h"
#include "vec.h"

#define HTTP_CSP	"default-src 'self'; img-src 'self' data:; " \
	"object-src 'none'; base-uri 'none'; form-action 'self'; " \
	"frame-ancestors 'none'"

/* ---- suspend and resume ------------------------------------------------ */

static void
hreq_suspend(struct hreq *r)
{
	struct http *h = r->http;

	MHD_suspend_connection(r->conn);
	r->suspended = 1;
	r->prev = NULL;
	r->next = h->waiting;
	if (r->next)
		r->next->prev = r;
	h->waiting = r;
}

void
hreq_resume(struct hreq *r)
{
	struct http *h = r->http;

	if (!r->suspended)
		return;
	r->suspended = 0;
	if (r->prev)
		r->prev->next = r->next;
	else
		h->waiting = r->next;
	if (r->next)
		r->next->prev = r->prev;
	MHD_resume_connection(r->conn);
	http_kick(h);
}

static void
hreq_done(struct request *req)
{
	struct hreq *r = (struct hreq *)req;

	r->phase = PH_READY;
	hreq_resume(r);
}

/* ---- responses --------------------------------------------------------- */

static struct MHD_Response *
hreq_mhd_response(struct hreq *r)
{
	struct response		*resp = &r->req.resp;
	struct MHD_Response	*m;
	int			 head_chunked = 0;

	if (resp->stream) {
		head_chunked = r->req.method == HTTP_HEAD && !resp->stream->sized;
		m = stream_response(r->http, r->conn, resp->stream);
		if (m)
			resp->stream = NULL;	/* MHD owns it now */
	} else if (resp->fd >= 0) {
		m = MHD_create_response_from_fd_at_offset64(resp->fd_len,
		    resp->fd, resp->fd_offset);
		if (m)
			resp->fd = -1;
	} else if (resp->body_static) {
		m = MHD_create_response_from_buffer(resp->body_len,
		    (void *)(uintptr_t)resp->body_static, MHD_RESPMEM_PERSISTENT);
	} else {
		m = MHD_create_response_from_buffer(resp->body_len,
		    resp->body ? resp->body : (void *)"", resp->body ?
		    MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
		if (m)
			resp->body = NULL;
	}
	if (m == NULL)
		return NULL;
	if (resp->content_type)
		MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE,
		    resp->content_type);
	/* No answer is ever read as another type; pages (HTML, SVG) are
	 * never framed and load only their own scripts, styles and
	 * connections. */
	MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
	if (resp->content_type && (strncmp(resp->content_type, "text/html", 9) == 0 ||
	    strncmp(resp->content_type, "image/svg", 9) == 0)) {
		MHD_add_response_header(m, "Content-Security-Policy", HTTP_CSP);
		MHD_add_response_header(m, "X-Frame-Options", "DENY");
		MHD_add_response_header(m, "Referrer-Policy", "same-origin");
	}
	for (int i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(m, resp->headers[i].name,
		    resp->headers[i].value);
	/*
	 * libmicrohttpd 0.9.75 follows the head of a chunked answer to HEAD
	 * with the last chunk ("0\r\n\r\n"), a body HEAD must not have: a
	 * client reusing the connection would read it as the start of its
	 * next answer.  The connection ends with the head instead.
	 */
	if (head_chunked)
		MHD_add_response_header(m, MHD_HTTP_HEADER_CONNECTION, "close");
	return m;
}

static enum MHD_Result
respond(struct hreq *r)
{
	struct MHD_Response	*m;
	enum MHD_Result		 ret;

	if (r->req.resp.status == 0)
		reply_fail(&r->req, 500, "internal", NULL, "no response");
	origin_cors(&r->req);
	r->bytes = r->req.resp.stream ? -1 : r->req.resp.fd >= 0 ?
	    (int64_t)r->req.resp.fd_len : (int64_t)r->req.resp.body_len;
	if ((m = hreq_mhd_response(r)) == NULL)
		return MHD_NO;
	r->status = r->req.resp.status;
	r->phase = PH_SENT;
	ret = MHD_queue_response(r->conn, (unsigned)r->status, m);
	MHD_destroy_response(m);
	return ret;
}

/* ---- requests ---------------------------------------------------------- */

static enum MHD_Result
query_cb(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct request *req = cls;

	(void)kind;
	if (req->nquery == REQUEST_QUERY_MAX) {
		req->query_overflow = 1;
		return MHD_NO;
	}
	req->query[req->nquery].key = key;
	req->query[req->nquery].value = value ? value : "";
	req->nquery++;
	return MHD_YES;
}

static enum http_method
method_parse(const char *m)
{
	static const struct {
		const char		*name;
		enum http_method	 method;
	} methods[] = {
		{"GET", HTTP_GET}, {"HEAD", HTTP_HEAD}, {"POST", HTTP_POST},
		{"PUT", HTTP_PUT}, {"PATCH", HTTP_PATCH},
		{"DELETE", HTTP_DELETE}, {"OPTIONS", HTTP_OPTIONS},
	};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m, methods[i].name) == 0)
			return methods[i].method;
	return HTTP_OTHER;
}

static const char *
header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static struct hreq *
hreq_new(struct http *h, struct MHD_Connection *c, const char *url,
    const char *method)
{
	struct hreq			*r = calloc(1, sizeof(*r));
	const union MHD_ConnectionInfo	*ci;
	const char			*cl;

	if (r == NULL)
		return NULL;
	r->http = h;
	r->conn = c;
	r->t0_ns = uv_hrtime();
	if ((ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT)) != NULL)
		r->gc = ci->socket_context;
	gate_request_begin(r->gc);
	r->req.srv = h->srv;
	r->req.conn = r;
	r->req.done = hreq_done;
	r->req.path = url;
	r->req.method_name = method;
	r->req.method = method_parse(method);
	r->req.resp.fd = -1;
	r->req.content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
	r->req.idempotency_key = header(c, "Idempotency-Key");
	r->req.range = header(c, MHD_HTTP_HEADER_RANGE);
	r->req.if_none_match = header(c, MHD_HTTP_HEADER_IF_NONE_MATCH);
	r->req.accept_encoding = header(c, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	r->req.authorization = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
	r->req.cookie = header(c, MHD_HTTP_HEADER_COOKIE);
	r->req.host = header(c, MHD_HTTP_HEADER_HOST);
	r->req.origin = header(c, "Origin");
	r->req.sec_fetch_site = header(c, "Sec-Fetch-Site");
	r->req.cors_method = header(c, "Access-Control-Request-Method");
	r->req.content_length = -1;
	if ((cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH)) != NULL) {
		char *end;
		unsigned long long n = strtoull(cl, &end, 10);

		if (end != cl && *end == '\0' && n <= INT64_MAX)
			r->req.content_length = (int64_t)n;
	}
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_cb, &r->req);
	return r;
}

struct fields {
	struct head_field	 f[HEAD_FIELDS_MAX];
	size_t			 n;
	int			 over;
};

static enum MHD_Result
field_cb(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct fields *fs = cls;

	(void)kind;
	if (fs->n == HEAD_FIELDS_MAX) {
		fs->over = 1;
		return MHD_NO;
	}
	fs->f[fs->n].name = key;
	fs->f[fs->n].name_len = strlen(key);
	fs->f[fs->n].value = value ? value : "";
	fs->f[fs->n].value_len = value ? strlen(value) : 0;
	fs->n++;
	return MHD_YES;
}

/*
 * The framing rules for every request, as MHD parsed it: the gate checked
 * a connection's first head, this also covers the ones after it.  A head
 * that could be read two ways is answered and the connection closed.
 */
static int
framing_refused(struct hreq *r, const char *version)
{
	struct fields		 fs = {.n = 0};
	struct head_fault	 f = {0};

	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, field_cb, &fs);
	if (fs.over) {
		f.status = 431;
		f.code = "header_too_large";
		f.why = "more than 100 header fields";
	} else if (r->req.method_name[strspn(r->req.method_name,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	    "!#$%&'*+-.^_`|~")] != '\0' || r->req.method_name[0] == '\0') {
		f.status = 400;
		f.code = "bad_request";
		f.why = "the method is not a method";
	} else if (head_check_fields(fs.f, fs.n, strcmp(version, "HTTP/1.1") == 0,
	    &f) == 0) {
		return 0;
	}
	reply_fail(&r->req, f.status, f.code, NULL, "%s", f.why);
	response_header(&r->req.resp, "Connection", "close");
	return 1;
}

/* Appends a body chunk, refusing past --max-body without buffering it. */
static int
body_append(struct hreq *r, const char *data, size_t n)
{
	uint64_t	 max = r->http->srv->cfg->max_body;
	int		 rc;

	if (r->req.body_len + n > max)
		return -EFBIG;
	if ((rc = vec_grow(&r->req.body, &r->body_cap, r->req.body_len + n + 1,
	    1)) < 0)
		return rc;
	memcpy(r->req.body + r->req.body_len, data, n);
	r->req.body_len += n;
	r->req.body[r->req.body_len] = '\0';
	return 0;
}

/*
 * Sends r's response straight to the socket and has MHD close it.  For
 * a body refused halfway: MHD cannot queue a response while a body is
 * still arriving, and reading the rest only to refuse it is what a
 * limit is there to avoid.
 */
static enum MHD_Result
respond_and_close(struct hreq *r)
{
	const union MHD_ConnectionInfo	*ci;
	struct response			*resp = &r->req.resp;
	char				 head[512];
	int				 n;

	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", resp->status,
	    MHD_get_reason_phrase_for((unsigned)resp->status),
	    resp->content_type ? resp->content_type : "text/plain",
	    resp->body_len);
	r->status = resp->status;
	if (ci && n > 0 && (size_t)n < sizeof(head)) {
		struct iovec iov[2] = {{head, (size_t)n},
		    {resp->body, resp->body_len}};

		if (writev(ci->connect_fd, iov, 2) > 0)
			shutdown(ci->connect_fd, SHUT_WR);
	}
	r->phase = PH_SENT;
	return MHD_NO;
}

static int
too_large(struct hreq *r)
{
	return reply_fail(&r->req, 413, "too_large", NULL,
	    "request body is over the %llu-byte limit (--max-body)",
	    (unsigned long long)r->http->srv->cfg->max_body);
}

static int
has_body(struct hreq *r)
{
	return r->req.content_length > 0 ||
	    header(r->conn, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

/* The announced length alone may already be too much. */
static int
length_refused(struct hreq *r)
{
	const char	*cl = header(r->conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
	char		*end;
	unsigned long long n;

	if (cl == NULL)
		return 0;
	n = strtoull(cl, &end, 10);
	return *end == '\0' && n > r->http->srv->cfg->max_body;
}

/*
 * Routes and authorises at the first call, when only the headers are
 * in.  Refusals are kept for the final call (an answer before the body
 * is read closes a keep-alive connection), except for streaming routes,
 * whose body is not to be read at all when refused.
 */
static void
route(struct hreq *r)
{
	struct request	*req = &r->req;
	int		 streams;

	r->fn = route_find(req->srv->routes, req->srv->nroutes, req, &r->allow,
	    &streams);
	/* Where it comes from first: a cross-site page is not asked for a token. */
	r->proceed = !origin_preflight(req) && origin_check(req) == 0 &&
	    auth_check(req);
	if (r->proceed && req->query_overflow) {
		reply_fail(req, 400, "invalid_field", NULL, "more than %d query "
		    "parameters", REQUEST_QUERY_MAX);
		r->proceed = 0;
	}
	if (r->proceed && r->fn && route_params_check(route_found(
	    req->srv->routes, req->srv->nroutes, req), req) < 0)
		r->proceed = 0;
	if (!streams || r->fn == NULL)
		return;
	if (!r->proceed || r->fn(req) != API_STREAM) {
		r->refused = 1;
		r->phase = PH_READY;
		return;
	}
	r->phase = PH_STREAM;
}

/* Runs the handler; a pending request sleeps until request_done(). */
static void
run(struct hreq *r)
{
	struct request	*req = &r->req;
	int		 rc;

	r->phase = PH_WAIT;
	rc = r->phase_stream ? req->sink->end(req) : r->fn(req);
	if (rc == API_DONE)
		r->phase = PH_READY;
	if (r->phase == PH_READY)
		hreq_resume(r);
	else if (r->phase == PH_WAIT && !r->suspended)
		hreq_suspend(r);
}

/* ---- reads held for a commit ------------------------------------------ */

static int
reads_wait(const struct hreq *r)
{
	return (r->req.method == HTTP_GET || r->req.method == HTTP_HEAD) &&
	    core_turn_open(r->req.srv);
}

static void
hold(struct hreq *r)
{
	struct http *h = r->http;

	if (h->held == NULL)
		h->held_tail = &h->held;
	r->held = 1;
	r->hnext = NULL;
	*h->held_tail = r;
	h->held_tail = &r->hnext;
	r->phase = PH_WAIT;
	hreq_suspend(r);
}

static void
unhold(struct hreq *r)
{
	struct http	*h = r->http;
	struct hreq	**p;

	if (!r->held)
		return;
	r->held = 0;
	for (p = &h->held; *p != r; p = &(*p)->hnext)
		;
	*p = r->hnext;
	if (h->held_tail == &r->hnext)
		h->held_tail = p;
}

void
http_reads_release(struct server *srv)
{
	struct http *h = srv->http;
	struct hreq *r;

	while (h && (r = h->held) != NULL && !h->stopping &&
	    !core_turn_open(srv)) {
		unhold(r);
		run(r);
	}
}

static void
dispatch(struct hreq *r)
{
	struct request	*req = &r->req;

	if (!r->proceed) {
		r->phase = PH_READY;
		return;
	}
	if (r->fn == NULL) {
		route_refuse(req, r->allow);
		r->phase = PH_READY;
		return;
	}
	if (reads_wait(r)) {
		hold(r);
		return;
	}
	run(r);
}

/* ---- bodies that stop arriving ---------------------------------------- */

#define WATCH_MS	1000

static void	on_watch(uv_timer_t *);

static void
receiving_add(struct hreq *r)
{
	struct http *h = r->http;

	r->data_at = clock_mono_ms();
	if (r->receiving)
		return;
	r->receiving = 1;
	r->rprev = NULL;
	r->rnext = h->receiving;
	if (r->rnext)
		r->rnext->rprev = r;
	h->receiving = r;
	if (!uv_is_active((uv_handle_t *)&h->watch) && !h->stopping)
		uv_timer_start(&h->watch, on_watch, WATCH_MS, WATCH_MS);
}

static void
receiving_del(struct hreq *r)
{
	struct http *h = r->http;

	if (!r->receiving)
		return;
	r->receiving = 0;
	if (r->rprev)
		r->rprev->rnext = r->rnext;
	else
		h->receiving = r->rnext;
	if (r->rnext)
		r->rnext->rprev = r->rprev;
	if (h->receiving == NULL)
		uv_timer_stop(&h->watch);
}

/*
 * In epoll mode this libmicrohttpd misses a client's close that arrives
 * right behind the last bytes of a body: no new edge comes, and the
 * request would hang (its upload's temp file with it) until the
 * connection timeout.  A body quiet for a second is looked at: when the
 * client has closed, shutting our side down wakes MHD, which ends it.
 */
static void
on_watch(uv_timer_t *t)
{
	struct http	*h = t->data;
	int64_t		 now = clock_mono_ms();
	char		 c;

	for (struct hreq *r = h->receiving; r; r = r->rnext) {
		const union MHD_ConnectionInfo *ci;

		if (now - r->data_at < WATCH_MS)
			continue;
		ci = MHD_get_connection_info(r->conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci && recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
			shutdown(ci->connect_fd, SHUT_RDWR);
	}
}

static enum MHD_Result
on_data(struct hreq *r, const char *data, size_t *data_size)
{
	size_t	 n = *data_size;
	int	 rc;

	*data_size = 0;
	receiving_add(r);
	if (r->phase == PH_STREAM) {
		if ((rc = r->req.sink->data(&r->req, data, n)) < 0) {
			r->refused = 1;
			return respond_and_close(r);
		}
		return MHD_YES;
	}
	if (r->phase != PH_BODY)
		return MHD_YES;		/* refused already: discard */
	rc = body_append(r, data, n);
	if (rc == -EFBIG) {
		too_large(r);
		r->refused = 1;
		return respond_and_close(r);
	}
	return rc < 0 ? MHD_NO : MHD_YES;
}

enum MHD_Result
hreq_on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *data_size, void **ctx)
{
	struct http	*h = cls;
	struct hreq	*r = *ctx;

	if (r == NULL) {
		if ((r = hreq_new(h, c, url, method)) == NULL)
			return MHD_NO;
		*ctx = r;
		if (framing_refused(r, version)) {
			r->refused = 1;
			return respond(r);
		}
		route(r);
		if (r->refused)
			return respond(r);
		/* A body for a request refused anyway is not worth reading. */
		if (r->phase == PH_BODY && has_body(r) &&
		    (!r->proceed || r->fn == NULL)) {
			dispatch(r);
			r->refused = 1;
			return respond(r);
		}
		if (r->phase == PH_BODY && length_refused(r)) {
			too_large(r);
			r->refused = 1;
			return respond(r);
		}
		return MHD_YES;
	}
	if (*data_size > 0)
		return on_data(r, data, data_size);
	receiving_del(r);	/* the body is complete */
	if (r->refused || r->phase == PH_SENT)
		return MHD_YES;
	if (r->phase == PH_STREAM) {
		r->phase_stream = 1;
		r->phase = PH_BODY;
	}
	if (r->phase == PH_BODY)
		dispatch(r);
	if (r->phase == PH_READY)
		return respond(r);
	return MHD_YES;
}

/* ---- the end of a request ---------------------------------------------- */

/* Copies s for a log line: bytes that could fake a line or a field go as \xNN. */
static void
log_safe(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s && n + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c == 0x7f || c == '"' || c == '\\')
			n += (size_t)snprintf(out + n, size - n, "\\x%02x", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
}

static void
access_line(struct hreq *r)
{
	char	 path[512], method[48], bytes[24] = "-", status[16] = "-";

	log_safe(r->req.path, path, sizeof(path));
	log_safe(r->req.method_name, method, sizeof(method));
	if (r->status > 0)
		snprintf(status, sizeof(status), "%d", r->status);
	if (r->status > 0 && r->bytes >= 0)
		snprintf(bytes, sizeof(bytes), "%lld", (long long)r->bytes);
	log_info("access client=%s method=%s path=%s status=%s bytes=%s ms=%.1f",
	    gate_client(r->gc), method, path, status, bytes,
	    (double)(uv_hrtime() - r->t0_ns) / 1e6);
}

void
hreq_on_completed(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_RequestTerminationCode toe)
{
	struct http	*h = cls;
	struct hreq	*r = *ctx;

	(void)c;
	if (r == NULL)
		return;
	if (h->srv->cfg->access_log)
		access_line(r);
	gate_request_end(r->gc);
	if (r->status >= 100 && r->status < 600)
		h->srv->counts->http_by_status[r->status]++;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_debug("http: %s %s ended early (%d)", r->req.method_name,
		    r->req.path, (int)toe);
	unhold(r);
	hreq_resume(r);
	receiving_del(r);
	if (r->req.sink)
		r->req.sink->close(&r->req);
	response_clear(&r->req.resp);
	free(r->req.body);
	free(r);
	*ctx = NULL;
}
