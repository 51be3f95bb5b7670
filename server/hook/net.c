/*
 * libcurl's multi interface on the libuv loop (net.h): libcurl says which
 * sockets to watch (sock_cb: a uv_poll_t each) and when to wake it
 * (timer_set: one uv_timer_t); the loop hands readiness back through
 * curl_multi_socket_action, and settle() ends the transfers it reports
 * done.  Each transfer opens its sockets in open_sock, which refuses an
 * address the policy forbids: the check sees the address actually
 * connected to, whatever DNS said when the URL was checked.  Closing
 * cancels transfers at once; the struct goes with its last libuv handle.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "log.h"
#include "hook/allow.h"
#include "hook/net.h"

struct hooksock {
	uv_poll_t		 poll;
	struct hooknet		*net;
	curl_socket_t		 fd;
	struct hooksock		*prev, *next;
};

struct hooktx {
	struct hooknet		*net;
	struct hooktx		*prev, *next;
	CURL			*easy;
	struct curl_slist	*headers;
	hooknet_done_cb		 cb;
	void			*arg;
	bool			 named;
	char			*resp;
	size_t			 resp_len;
	char			 refused[128];	/* set by open_sock */
	char			 errbuf[CURL_ERROR_SIZE];
};

struct hooknet {
	uv_loop_t		*loop;
	CURLM			*multi;
	uv_timer_t		 timer;
	const struct hook_allow	*allow;
	struct hooknet_opts	 opts;
	struct hooktx		*txs;
	struct hooksock		*socks;
	size_t			 inflight;
	int			 handles;	/* libuv handles not closed yet */
	int			 dispatching;	/* in settle(): cbs may run */
	bool			 closing;
};

static void	teardown(struct hooknet *);

int
hooknet_global_init(void)
{
	static bool			 done;
	const curl_version_info_data	*v;

	if (done)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("hook: curl_global_init failed");
		return -EIO;
	}
	done = true;
	v = curl_version_info(CURLVERSION_NOW);
	if (!(v->features & CURL_VERSION_ASYNCHDNS))
		log_warnx("hook: libcurl %s resolves names synchronously (no "
		    "AsynchDNS): a slow DNS server will hold runneld's loop",
		    v->version);
	return 0;
}

static void
handle_closed(uv_handle_t *h)
{
	struct hooknet	*net = h->data;

	if (h != (uv_handle_t *)&net->timer)
		free(h);	/* a hooksock: poll is its first member */
	if (--net->handles == 0 && net->closing)
		free(net);
}

static void
sock_close(struct hooknet *net, struct hooksock *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		net->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	uv_close((uv_handle_t *)&s->poll, handle_closed);
}

static void
tx_unlink(struct hooktx *tx)
{
	struct hooknet	*net = tx->net;

	if (tx->prev)
		tx->prev->next = tx->next;
	else
		net->txs = tx->next;
	if (tx->next)
		tx->next->prev = tx->prev;
	net->inflight--;
	curl_multi_remove_handle(net->multi, tx->easy);
	curl_easy_cleanup(tx->easy);
	curl_slist_free_all(tx->headers);
	tx->easy = NULL;
	tx->headers = NULL;
}

static void
tx_end(struct hooktx *tx, int status, const char *error)
{
	tx_unlink(tx);
	tx->cb(tx->arg, status, error, tx->resp, tx->resp_len);
	free(tx->resp);
	free(tx);
}

/* One transfer libcurl reports done: its status or what went wrong. */
static void
tx_done(struct hooktx *tx, CURLcode result)
{
	long		 code = 0;
	const char	*error = NULL;

	if (result == CURLE_OK) {
		curl_easy_getinfo(tx->easy, CURLINFO_RESPONSE_CODE, &code);
	} else if (result == CURLE_COULDNT_CONNECT && tx->refused[0]) {
		error = tx->refused;
	} else if (result == CURLE_OPERATION_TIMEDOUT) {
		error = "timed out";
	} else {
		error = tx->errbuf[0] ? tx->errbuf : curl_easy_strerror(result);
	}
	tx_end(tx, (int)code, error);
}

static void
settle(struct hooknet *net)
{
	CURLMsg		*msg;
	int		 left;

	net->dispatching++;
	while (!net->closing &&
	    (msg = curl_multi_info_read(net->multi, &left)) != NULL) {
		struct hooktx	*tx = NULL;
		CURLcode	 result = msg->data.result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&tx);
		tx_done(tx, result);
	}
	if (--net->dispatching == 0 && net->closing)
		teardown(net);
}

static void
poll_cb(uv_poll_t *h, int status, int events)
{
	struct hooksock	*s = (struct hooksock *)h;
	struct hooknet	*net = s->net;
	int		 flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	else {
		if (events & UV_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	/* s may be closed in there (CURL_POLL_REMOVE): not used after. */
	curl_multi_socket_action(net->multi, s->fd, flags, &running);
	settle(net);
}

static void
timer_cb(uv_timer_t *t)
{
	struct hooknet	*net = t->data;
	int		 running;

	curl_multi_socket_action(net->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	settle(net);
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what, or stop watching it. */
static int
sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct hooknet	*net = userp;
	struct hooksock	*s = socketp;
	int		 events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			curl_multi_assign(net->multi, fd, NULL);
			sock_close(net, s);
		}
		return 0;
	}
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return -1;
		if (uv_poll_init_socket(net->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->poll.data = net;
		s->net = net;
		s->fd = fd;
		s->next = net->socks;
		if (net->socks)
			net->socks->prev = s;
		net->socks = s;
		net->handles++;
		curl_multi_assign(net->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	return uv_poll_start(&s->poll, events, poll_cb) == 0 ? 0 : -1;
}

/* CURLMOPT_TIMERFUNCTION: when libcurl wants timer_cb, -1 for never. */
static int
timer_set(CURLM *multi, long timeout_ms, void *userp)
{
	struct hooknet	*net = userp;

	if (timeout_ms < 0)
		uv_timer_stop(&net->timer);
	else
		uv_timer_start(&net->timer, timer_cb, (uint64_t)timeout_ms, 0);
	return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: the policy's last word on every address. */
static curl_socket_t
open_sock(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct hooktx	*tx = clientp;
	char		 why[sizeof(tx->refused)];

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	if (hook_allow_addr(tx->net->allow, &a->addr, tx->named, why,
	    sizeof(why)) != 0) {
		if (tx->refused[0] == '\0')
			memcpy(tx->refused, why, sizeof(why));
		log_debug("hook: %s", why);
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* CURLOPT_WRITEFUNCTION: keeps the first keep_bytes, drops the rest. */
static size_t
resp_write(char *p, size_t size, size_t n, void *userp)
{
	struct hooktx	*tx = userp;
	size_t		 len = size * n, room;

	room = tx->net->opts.keep_bytes - tx->resp_len;
	if (room > len)
		room = len;
	if (room > 0) {
		memcpy(tx->resp + tx->resp_len, p, room);
		tx->resp_len += room;
	}
	return len;
}

int
hooknet_new(uv_loop_t *loop, const struct hook_allow *allow,
    const struct hooknet_opts *opts, struct hooknet **out)
{
	struct hooknet	*net = NULL;
	int		 rc;

	*out = NULL;
	if ((rc = hooknet_global_init()) != 0)
		return rc;
	if ((net = calloc(1, sizeof(*net))) == NULL)
		return -ENOMEM;
	net->loop = loop;
	net->allow = allow;
	if (opts)
		net->opts = *opts;
	if (net->opts.connect_ms <= 0)
		net->opts.connect_ms = HOOKNET_CONNECT_MS;
	if (net->opts.total_ms <= 0)
		net->opts.total_ms = HOOKNET_TOTAL_MS;
	if (net->opts.keep_bytes == 0)
		net->opts.keep_bytes = HOOKNET_KEEP_BYTES;
	if ((net->multi = curl_multi_init()) == NULL) {
		free(net);
		return -ENOMEM;
	}
	curl_multi_setopt(net->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(net->multi, CURLMOPT_SOCKETDATA, net);
	curl_multi_setopt(net->multi, CURLMOPT_TIMERFUNCTION, timer_set);
	curl_multi_setopt(net->multi, CURLMOPT_TIMERDATA, net);
	uv_timer_init(loop, &net->timer);
	net->timer.data = net;
	net->handles = 1;
	*out = net;
	return 0;
}

/* A header's value: printable ASCII, 1 to 256 bytes. */
static int
value_ok(const char *v)
{
	size_t	 n = 0;

	if (v == NULL)
		return 0;
	for (; v[n]; n++)
		if ((unsigned char)v[n] < 0x20 || (unsigned char)v[n] > 0x7e)
			return 0;
	return n > 0 && n <= 256;
}

static int
headers_build(const struct hook_headers *h, struct curl_slist **out)
{
	struct curl_slist	*l = NULL, *t;
	char			 line[320];
	const char		*fixed[] = {
		"Content-Type: application/json",
		"User-Agent: runnel-webhook/1",
		"Expect:",	/* no 100-continue wait on larger bodies */
		"Accept:",
	};
	int			 rc = -EINVAL;

	*out = NULL;
	if (!value_ok(h->delivery_id) || !value_ok(h->event) ||
	    h->timestamp_sec < 0)
		return -EINVAL;
	if (h->signature_hex && (strlen(h->signature_hex) != 64 ||
	    strspn(h->signature_hex, "0123456789abcdef") != 64))
		return -EINVAL;
	rc = -ENOMEM;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if ((t = curl_slist_append(l, fixed[i])) == NULL)
			goto out;
		else
			l = t;
#define ADD(...) do {							\
	snprintf(line, sizeof(line), __VA_ARGS__);			\
	if ((t = curl_slist_append(l, line)) == NULL)			\
		goto out;						\
	l = t;								\
} while (0)
	ADD("X-Runnel-Delivery: %s", h->delivery_id);
	ADD("X-Runnel-Event: %s", h->event);
	ADD("X-Runnel-Timestamp: %lld", (long long)h->timestamp_sec);
	if (h->signature_hex)
		ADD("X-Runnel-Signature: sha256=%s", h->signature_hex);
#undef ADD
	*out = l;
	l = NULL;
	rc = 0;
out:
	curl_slist_free_all(l);
	return rc;
}

static int
easy_setup(struct hooktx *tx, const char *url, const char *body, size_t len)
{
	const struct hooknet_opts	*o = &tx->net->opts;
	CURL				*e = tx->easy;
	CURLcode			 c = CURLE_OK;

#define SET(opt, v) do { if (c == CURLE_OK) c = curl_easy_setopt(e, opt, v); } while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PRIVATE, (void *)tx);
	SET(CURLOPT_ERRORBUFFER, tx->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROXY, "");		/* not the environment's proxy */
	SET(CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_ms);
	SET(CURLOPT_TIMEOUT_MS, (long)o->total_ms);
	SET(CURLOPT_HTTPHEADER, tx->headers);
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	SET(CURLOPT_COPYPOSTFIELDS, len ? body : "");
	SET(CURLOPT_WRITEFUNCTION, resp_write);
	SET(CURLOPT_WRITEDATA, (void *)tx);
	SET(CURLOPT_OPENSOCKETFUNCTION, open_sock);
	SET(CURLOPT_OPENSOCKETDATA, (void *)tx);
#undef SET
	if (c != CURLE_OK) {
		log_error("hook: curl_easy_setopt: %s", curl_easy_strerror(c));
		return -EIO;
	}
	return 0;
}

int
hooknet_post(struct hooknet *net, const char *url, const char *body,
    size_t len, const struct hook_headers *h, hooknet_done_cb cb, void *arg)
{
	struct hooktx	*tx = NULL;
	char		 why[256];
	int		 rc;

	if (net->closing)
		return -ESHUTDOWN;
	if (cb == NULL || h == NULL || (body == NULL && len > 0))
		return -EINVAL;
	if (len > HOOKNET_BODY_MAX)
		return -EMSGSIZE;
	if ((tx = calloc(1, sizeof(*tx))) == NULL)
		return -ENOMEM;
	tx->net = net;
	tx->cb = cb;
	tx->arg = arg;
	if ((rc = hook_allow_target(net->allow, url, &tx->named, why,
	    sizeof(why))) != 0) {
		log_debug("hook: %s", why);
		goto out;
	}
	if ((rc = headers_build(h, &tx->headers)) != 0)
		goto out;
	rc = -ENOMEM;
	if ((tx->resp = malloc(net->opts.keep_bytes)) == NULL ||
	    (tx->easy = curl_easy_init()) == NULL)
		goto out;
	if ((rc = easy_setup(tx, url, body, len)) != 0)
		goto out;
	if (curl_multi_add_handle(net->multi, tx->easy) != CURLM_OK) {
		log_error("hook: curl_multi_add_handle failed");
		rc = -EIO;
		goto out;
	}
	tx->next = net->txs;
	if (net->txs)
		net->txs->prev = tx;
	net->txs = tx;
	net->inflight++;
	tx = NULL;
	rc = 0;
out:
	if (tx != NULL) {
		curl_easy_cleanup(tx->easy);
		curl_slist_free_all(tx->headers);
		free(tx->resp);
		free(tx);
	}
	return rc;
}

size_t
hooknet_inflight(const struct hooknet *net)
{
	return net->inflight;
}

/* Cancels what is in flight and closes the handles; settle() is not on. */
static void
teardown(struct hooknet *net)
{
	while (net->txs != NULL)
		tx_end(net->txs, 0, "canceled");
	/* libcurl closes its cached connections in there: stop our watch on
	 * them first, and close what it did not tell us of after. */
	for (struct hooksock *s = net->socks; s != NULL; s = s->next)
		uv_poll_stop(&s->poll);
	curl_multi_cleanup(net->multi);
	net->multi = NULL;
	while (net->socks != NULL)
		sock_close(net, net->socks);
	uv_close((uv_handle_t *)&net->timer, handle_closed);
}

void
hooknet_free(struct hooknet *net)
{
	if (net == NULL || net->closing)
		return;
	net->closing = true;
	if (net->dispatching == 0)
		teardown(net);
}
