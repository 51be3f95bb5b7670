/*
 * Webhooks out (server/hook/): the signature against a vector computed
 * apart (openssl dgst -hmac), the allow-list's parsing and its tables of
 * URLs and addresses, hostile ones included, and the engine's POSTs
 * against a small HTTP server run on 127.0.0.1 in the same loop.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <uv.h>

#include "test.h"
#include "hook/allow.h"
#include "hook/net.h"
#include "hook/sign.h"

/* ---- the signature ------------------------------------------------------ */

TEST(signature_matches_a_vector_computed_apart)
{
	/* printf '%s' '1700000000.{"id":42,"state":"failed"}' |
	 *     openssl dgst -sha256 -hmac whsec_test */
	const char	*body = "{\"id\":42,\"state\":\"failed\"}";
	char		 hex[HOOK_SIGN_HEX_LEN + 1];

	ASSERT_INT(hook_sign("whsec_test", 10, 1700000000, body, strlen(body),
	    hex), ==, 0);
	ASSERT_STR(hex, "985c412bcfa88eb26c25ad266e78ec6ac25db8dcab635de05dd94923b3fd0c36");
}

TEST(signature_covers_the_timestamp_and_every_byte_of_the_body)
{
	unsigned char	 body[300];
	char		 a[HOOK_SIGN_HEX_LEN + 1], b[HOOK_SIGN_HEX_LEN + 1];

	test_fill_bytes(body, sizeof(body), 7);
	ASSERT_INT(hook_sign("k", 1, 1, body, sizeof(body), a), ==, 0);
	ASSERT_INT(hook_sign("k", 1, 2, body, sizeof(body), b), ==, 0);
	ASSERT(strcmp(a, b) != 0);
	body[299] ^= 1;
	ASSERT_INT(hook_sign("k", 1, 1, body, sizeof(body), b), ==, 0);
	ASSERT(strcmp(a, b) != 0);
	ASSERT_INT(hook_sign("K", 1, 1, body, sizeof(body), b), ==, 0);
	ASSERT(strcmp(a, b) != 0);
	ASSERT_INT(strlen(a), ==, HOOK_SIGN_HEX_LEN);
	ASSERT_INT(strspn(a, "0123456789abcdef"), ==, HOOK_SIGN_HEX_LEN);
}

TEST(signature_refuses_no_secret_and_takes_an_empty_body)
{
	char	 hex[HOOK_SIGN_HEX_LEN + 1];

	ASSERT_INT(hook_sign("", 0, 1, "x", 1, hex), ==, -EINVAL);
	ASSERT_INT(hook_sign(NULL, 3, 1, "x", 1, hex), ==, -EINVAL);
	ASSERT_INT(hook_sign("k", 1, -1, "x", 1, hex), ==, -EINVAL);
	ASSERT_INT(hook_sign("k", 1, 1, NULL, 1, hex), ==, -EINVAL);
	ASSERT_INT(hook_sign("k", 1, 1, NULL, 0, hex), ==, 0);
	ASSERT_INT(strlen(hex), ==, HOOK_SIGN_HEX_LEN);
}

/* ---- the allow-list ----------------------------------------------------- */

TEST(allow_list_takes_names_wildcards_addresses_and_networks)
{
	struct hook_allow	 a;
	char			 why[200];

	hook_allow_init(&a);
	ASSERT_INT(hook_allow_add(&a, " Hooks.Example.com, *.example.org,"
	    "203.0.113.7,10.1.0.0/16,2001:db8::/32,[fd00::1], ci.example.net.",
	    why, sizeof(why)), ==, 0);
	ASSERT_INT(a.n, ==, 7);
	ASSERT_INT(a.v[0].kind, ==, HOOK_ALLOW_NAME);
	ASSERT_STR(a.v[0].name, "hooks.example.com");
	ASSERT_INT(a.v[1].kind, ==, HOOK_ALLOW_SUFFIX);
	ASSERT_STR(a.v[1].name, ".example.org");
	ASSERT_INT(a.v[2].kind, ==, HOOK_ALLOW_NET);
	ASSERT_INT(a.v[2].prefix, ==, 128);
	ASSERT_INT(a.v[3].prefix, ==, 96 + 16);
	ASSERT_INT(a.v[4].prefix, ==, 32);
	ASSERT_INT(a.v[5].kind, ==, HOOK_ALLOW_NET);
	ASSERT_STR(a.v[6].name, "ci.example.net");
	/* a second option adds to the first */
	ASSERT_INT(hook_allow_add(&a, "127.0.0.1", why, sizeof(why)), ==, 0);
	ASSERT_INT(a.n, ==, 8);
	hook_allow_clear(&a);
	ASSERT_INT(a.n, ==, 0);
}

TEST(allow_list_refuses_hostile_entries_and_keeps_what_it_had)
{
	static const char *bad[] = {
		"", ",", "a,,b", "a,", " , ", "*", "*.", "*.*.x", "**.x",
		"x.*.com", "exa mple.com", "a..b", ".a", "ex\x01" "ample",
		"h\xc3\xa9.example", "10.0.0.1/8", "10.0.0.0/33", "::/129",
		"10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/8x", "10.0.0.0/ 8",
		"1.2.3", "0x7f.1", "127.1", "2130706433", "host/24",
		"[10.0.0.1]", "[::1", "::1]", "[]", "fe80::1%eth0",
		"http://x.com", "x.com:80", "a_b.c,ok.com,bad host",
	};
	struct hook_allow	 a;
	char			 why[200], big[400];

	hook_allow_init(&a);
	ASSERT_INT(hook_allow_add(&a, "keep.example", why, sizeof(why)), ==, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (hook_allow_add(&a, bad[i], why, sizeof(why)) != -EINVAL)
			FAIL("accepted \"%s\"", bad[i]);
		ASSERT(why[0] != '\0');
		ASSERT_INT(a.n, ==, 1);
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ASSERT_INT(hook_allow_add(&a, big, why, sizeof(why)), ==, -EINVAL);
	memcpy(big, "a.", 2);	/* a 64-byte label */
	big[66] = '\0';
	ASSERT_INT(hook_allow_add(&a, big, why, sizeof(why)), ==, -EINVAL);
	ASSERT_INT(hook_allow_add(&a, NULL, why, sizeof(why)), ==, -EINVAL);
	ASSERT_INT(a.n, ==, 1);
	ASSERT_STR(a.v[0].name, "keep.example");
	hook_allow_clear(&a);
}

struct url_case {
	const char	*url;
	int		 rc;
	int		 named;
};

static void
url_table(const char *list, const struct url_case *c, size_t n)
{
	struct hook_allow	 a;
	char			 why[200];

	hook_allow_init(&a);
	if (list)
		ASSERT_INT(hook_allow_add(&a, list, why, sizeof(why)), ==, 0);
	for (size_t i = 0; i < n; i++) {
		bool	 named = true;
		int	 rc;

		why[0] = '\0';
		rc = hook_allow_target(&a, c[i].url, &named, why, sizeof(why));
		if (rc != c[i].rc || (rc == 0 && (int)named != c[i].named))
			FAIL("list %s url %s: rc %d named %d (%s), expected "
			    "rc %d named %d", list ? list : "(none)",
			    c[i].url ? c[i].url : "(null)", rc, named, why,
			    c[i].rc, c[i].named);
		ASSERT(why[0] != '\0');
		ASSERT_INT(hook_allow_url(&a, c[i].url, NULL, 0), ==, rc);
	}
	hook_allow_clear(&a);
}

TEST(urls_without_a_list_reach_public_hosts_only)
{
	static const struct url_case c[] = {
		{ "https://hooks.example.com/x", 0, 0 },
		{ "http://example.com:8080/p?q=1#f", 0, 0 },
		{ "HTTPS://example.com/", 0, 0 },
		{ "http://8.8.8.8/", 0, 0 },
		{ "http://[2606:4700::1111]/", 0, 0 },
		{ "http://[::ffff:8.8.8.8]/", 0, 0 },
		{ "ftp://example.com/", -EPERM, 0 },
		{ "file:///etc/passwd", -EPERM, 0 },
		{ "gopher://example.com/", -EPERM, 0 },
		{ "dict://example.com:11211/", -EPERM, 0 },
		{ "example.com/x", -EINVAL, 0 },
		{ "http://", -EINVAL, 0 },
		{ "http:///x", 0, 0 },	/* libcurl reads host "x" */
		{ "", -EINVAL, 0 },
		{ NULL, -EINVAL, 0 },
		{ "http://exa mple.com/", -EINVAL, 0 },
		{ "http://ex\nample.com/", -EINVAL, 0 },
		{ "http://h\xc3\xa9.example/", -EINVAL, 0 },
		{ "http://127.0.0.1/", -EPERM, 0 },
		{ "http://127.0.0.1:8080/", -EPERM, 0 },
		{ "http://2130706433/", -EPERM, 0 },
		{ "http://0x7f.1/", -EPERM, 0 },
		{ "http://127.1/", -EPERM, 0 },
		{ "http://[::1]/", -EPERM, 0 },
		{ "http://[::]/", -EPERM, 0 },
		{ "http://0.0.0.0/", -EPERM, 0 },
		{ "http://[::ffff:127.0.0.1]/", -EPERM, 0 },
		{ "http://[::FFFF:7f00:1]/", -EPERM, 0 },
		{ "http://[::127.0.0.1]/", -EPERM, 0 },
		{ "http://[64:ff9b::10.0.0.1]/", -EPERM, 0 },
		{ "http://[2002:a00:1::]/", -EPERM, 0 },
		{ "http://169.254.169.254/latest/meta-data/", -EPERM, 0 },
		{ "http://10.0.0.5/", -EPERM, 0 },
		{ "http://172.16.0.1/", -EPERM, 0 },
		{ "http://172.31.255.255/", -EPERM, 0 },
		{ "http://172.32.0.1/", 0, 0 },
		{ "http://192.168.1.1/", -EPERM, 0 },
		{ "http://100.64.0.1/", -EPERM, 0 },
		{ "http://100.128.0.1/", 0, 0 },
		{ "http://224.0.0.1/", -EPERM, 0 },
		{ "http://255.255.255.255/", -EPERM, 0 },
		{ "http://[fe80::1%25eth0]/", -EPERM, 0 },
		{ "http://[fe80::1]/", -EPERM, 0 },
		{ "http://[fd12:3456::1]/", -EPERM, 0 },
		{ "http://[ff02::1]/", -EPERM, 0 },
		{ "http://user:pw@127.0.0.1/", -EPERM, 0 },
		{ "http://example.com@127.0.0.1/", -EPERM, 0 },
		{ "http://127.0.0.1#@example.com/", -EPERM, 0 },
		/* libcurl takes "127.0.0.1\\" as user info: host example.com */
		{ "http://127.0.0.1\\@example.com/", 0, 0 },
	};

	url_table(NULL, c, sizeof(c) / sizeof(c[0]));
}

TEST(urls_with_a_list_reach_only_what_it_names)
{
	static const struct url_case c[] = {
		{ "https://hooks.example.com/", 0, 1 },
		{ "https://HOOKS.Example.COM./x", 0, 1 },
		{ "https://evil.example.com/", -EPERM, 0 },
		{ "https://hooks.example.com.evil.net/", -EPERM, 0 },
		{ "https://a.corp.example/", 0, 0 },
		{ "https://a.b.corp.example/", 0, 0 },
		{ "https://corp.example/", -EPERM, 0 },
		{ "https://xcorp.example/", -EPERM, 0 },
		{ "http://10.1.2.3/", 0, 0 },
		{ "http://[::ffff:10.1.2.3]/", 0, 0 },
		{ "http://10.2.0.1/", -EPERM, 0 },
		{ "http://[fd00::1]:9000/", 0, 0 },
		{ "http://[fd00::2]/", -EPERM, 0 },
		{ "http://8.8.8.8/", -EPERM, 0 },
		{ "http://example.org/", -EPERM, 0 },
		{ "ftp://hooks.example.com/", -EPERM, 0 },
		{ "http://hooks.example.com@evil.net/", -EPERM, 0 },
	};

	url_table("hooks.example.com,*.corp.example,10.1.0.0/16,[fd00::1]",
	    c, sizeof(c) / sizeof(c[0]));
}

static struct sockaddr_storage
sa_of(const char *text)
{
	struct sockaddr_storage	 ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		ASSERT_INT(inet_pton(AF_INET6, text, &s6->sin6_addr), ==, 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		ASSERT_INT(inet_pton(AF_INET, text, &s4->sin_addr), ==, 1);
	}
	return ss;
}

TEST(addresses_at_connect_time_follow_the_table)
{
	static const struct { const char *addr; const char *what; } c[] = {
		{ "127.0.0.1", "loopback" }, { "127.255.0.9", "loopback" },
		{ "::1", "loopback" }, { "::ffff:127.0.0.1", "loopback" },
		{ "10.9.8.7", "private" }, { "172.16.0.1", "private" },
		{ "192.168.0.1", "private" }, { "::ffff:192.168.1.1", "private" },
		{ "fc00::1", "private" }, { "fdff::1", "private" },
		{ "169.254.169.254", "link-local" }, { "fe80::1", "link-local" },
		{ "febf::1", "link-local" }, { "0.0.0.0", "unspecified" },
		{ "::", "unspecified" }, { "224.0.0.1", "multicast" },
		{ "ff02::1", "multicast" }, { "100.64.0.1", "shared (CGNAT)" },
		{ "100.127.255.255", "shared (CGNAT)" },
		{ "64:ff9b::a9fe:a9fe", "link-local" },
		{ "2002:7f00:1::", "loopback" }, { "::10.0.0.1", "IPv4-compatible" },
		{ "8.8.8.8", NULL }, { "1.1.1.1", NULL }, { "172.32.0.1", NULL },
		{ "100.128.0.1", NULL }, { "169.253.0.1", NULL },
		{ "2606:4700::1111", NULL }, { "::ffff:8.8.8.8", NULL },
		{ "64:ff9b::808:808", NULL }, { "fec0::1", "site-local" },
	};
	struct hook_allow	 none, some;
	struct sockaddr_un	 un = { .sun_family = AF_UNIX };
	char			 why[200];

	hook_allow_init(&none);
	hook_allow_init(&some);
	ASSERT_INT(hook_allow_add(&some, "127.0.0.0/8,fd00::/8", why,
	    sizeof(why)), ==, 0);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sockaddr_storage	 ss = sa_of(c[i].addr);
		uint8_t			*raw;
		const char		*what = NULL;
		int			 rc;

		why[0] = '\0';
		rc = hook_allow_addr(&none, (struct sockaddr *)&ss, false, why,
		    sizeof(why));
		if (c[i].what == NULL) {
			if (rc != 0)
				FAIL("%s refused: %s", c[i].addr, why);
			continue;
		}
		if (rc != -EPERM || strstr(why, c[i].what) == NULL ||
		    strstr(why, "not allowed") == NULL)
			FAIL("%s: rc %d \"%s\", expected %s", c[i].addr, rc,
			    why, c[i].what);
		/* a name matched exactly in the list lets it through */
		ASSERT_INT(hook_allow_addr(&none, (struct sockaddr *)&ss, true,
		    NULL, 0), ==, 0);
		raw = ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr : NULL;
		if (raw)
			ASSERT_INT(hook_allow_addr_special(raw, &what), ==, 1);
	}
	ASSERT_INT(hook_allow_addr(&some, (struct sockaddr *)&(struct
	    sockaddr_storage){ 0 }, false, why, sizeof(why)), ==, -EPERM);
	{
		struct sockaddr_storage	 lo = sa_of("127.0.0.1"),
					 lo6 = sa_of("::ffff:127.0.0.2"),
					 ula = sa_of("fd00::5"),
					 ula2 = sa_of("fc00::5"),
					 ten = sa_of("10.0.0.1");

		ASSERT_INT(hook_allow_addr(&some, (struct sockaddr *)&lo,
		    false, NULL, 0), ==, 0);
		ASSERT_INT(hook_allow_addr(&some, (struct sockaddr *)&lo6,
		    false, NULL, 0), ==, 0);
		ASSERT_INT(hook_allow_addr(&some, (struct sockaddr *)&ula,
		    false, NULL, 0), ==, 0);
		ASSERT_INT(hook_allow_addr(&some, (struct sockaddr *)&ula2,
		    false, NULL, 0), ==, -EPERM);
		ASSERT_INT(hook_allow_addr(&some, (struct sockaddr *)&ten,
		    false, NULL, 0), ==, -EPERM);
	}
	ASSERT_INT(hook_allow_addr(&some, (struct sockaddr *)&un, true, why,
	    sizeof(why)), ==, -EPERM);
	hook_allow_clear(&none);
	hook_allow_clear(&some);
}


/* ---- the engine, against a server on 127.0.0.1 in the same loop --------- */

enum srv_mode {
	SRV_OK,		/* 200 "thanks" */
	SRV_FAIL,	/* 500 */
	SRV_REDIRECT,	/* 302 to /elsewhere */
	SRV_BIG,	/* 200 with 5000 bytes */
	SRV_SILENT,	/* reads the request, never answers */
	SRV_KEEP	/* 200, and the connection stays open */
};

struct srv {
	uv_tcp_t	 tcp;
	int		 port;
	enum srv_mode	 mode;
	int		 accepted, requests, open;
	char		 req[65536];	/* the last request, head and body */
	size_t		 req_len;
	size_t		 head_len;	/* of req, up to the blank line */
};

struct conn {
	uv_tcp_t	 tcp;
	struct srv	*srv;
	char		 buf[65536];
	size_t		 len;
	bool		 done;
};

struct outcome {
	int		 calls;
	int		 status;
	char		 error[256];
	bool		 had_error;
	char		 resp[8192];
	size_t		 resp_len;
	struct hooknet	*free_net;	/* freed from within the cb */
	int		 post_after_free;	/* what hooknet_post said then */
};

static struct hook_headers	headers(const char *);

static uv_loop_t	 loop;

static void
on_done(void *arg, int status, const char *error, const char *resp,
    size_t len)
{
	struct outcome	*o = arg;

	o->calls++;
	uv_stop(&loop);	/* wait_n looks again before the loop sleeps */
	o->status = status;
	o->had_error = error != NULL;
	snprintf(o->error, sizeof(o->error), "%s", error ? error : "");
	ASSERT(len <= sizeof(o->resp));
	memcpy(o->resp, resp, len);
	o->resp_len = len;
	if (o->free_net) {
		struct hook_headers h = headers(NULL);

		hooknet_free(o->free_net);
		o->post_after_free = hooknet_post(o->free_net,
		    "http://example.com/", "{}", 2, &h, on_done, o);
	}
}

static void
alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct conn	*c = h->data;

	b->base = c->buf + c->len;
	b->len = sizeof(c->buf) - c->len;
}

static void
conn_closed(uv_handle_t *h)
{
	struct conn	*c = h->data;

	c->srv->open--;
	free(c);
}

static void
written(uv_write_t *w, int status)
{
	struct conn	*c = w->data;

	free(w);
	if (c->srv->mode != SRV_KEEP) {
		uv_close((uv_handle_t *)&c->tcp, conn_closed);
		return;
	}
	c->len = 0;	/* ready for the next request */
	c->done = false;
}

static void
answer(struct conn *c)
{
	static char	 big[6000];
	char		 head[256];
	const char	*body = "thanks";
	uv_write_t	*w;
	uv_buf_t	 b[2];

	switch (c->srv->mode) {
	case SRV_SILENT:
		return;
	case SRV_FAIL:
		snprintf(head, sizeof(head), "HTTP/1.1 500 Internal Server "
		    "Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\n");
		body = "oops";
		break;
	case SRV_REDIRECT:
		snprintf(head, sizeof(head), "HTTP/1.1 302 Found\r\nLocation: "
		    "/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
		body = "";
		break;
	case SRV_BIG:
		memset(big, 'b', 5000);
		big[5000] = '\0';
		body = big;
		/* FALLTHROUGH */
	case SRV_OK:
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length:"
		    " %zu\r\nConnection: close\r\n\r\n", strlen(body));
		break;
	case SRV_KEEP:
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length:"
		    " %zu\r\n\r\n", strlen(body));
		break;
	}
	w = calloc(1, sizeof(*w));
	w->data = c;
	b[0] = uv_buf_init(head, (unsigned)strlen(head));
	b[1] = uv_buf_init((char *)body, (unsigned)strlen(body));
	ASSERT_INT(uv_write(w, (uv_stream_t *)&c->tcp, b, 2, written), ==, 0);
}

static void
conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn	*c = s->data;
	const char	*end, *cl;
	size_t		 head, want;

	if (n < 0) {
		if (!uv_is_closing((uv_handle_t *)s))
			uv_close((uv_handle_t *)s, conn_closed);
		return;
	}
	c->len += (size_t)n;
	if (c->done || (end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL)
		return;
	head = (size_t)(end - c->buf) + 4;
	cl = memmem(c->buf, head, "Content-Length: ", 16);
	want = head + (cl ? strtoul(cl + 16, NULL, 10) : 0);
	if (c->len < want)
		return;
	c->done = true;
	c->srv->requests++;
	uv_stop(&loop);
	memcpy(c->srv->req, c->buf, c->len);
	c->srv->req_len = c->len;
	c->srv->head_len = head;
	answer(c);
}

static void
on_conn(uv_stream_t *l, int status)
{
	struct srv	*srv = l->data;
	struct conn	*c = calloc(1, sizeof(*c));

	ASSERT_INT(status, ==, 0);
	c->srv = srv;
	uv_tcp_init(&loop, &c->tcp);
	c->tcp.data = c;
	ASSERT_INT(uv_accept(l, (uv_stream_t *)&c->tcp), ==, 0);
	srv->accepted++;
	uv_stop(&loop);
	srv->open++;
	uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, conn_read);
}

static void
srv_start(struct srv *srv, enum srv_mode mode)
{
	struct sockaddr_in	 sin;
	struct sockaddr_storage	 ss;
	int			 len = sizeof(ss);

	memset(srv, 0, sizeof(*srv));
	srv->mode = mode;
	uv_ip4_addr("127.0.0.1", 0, &sin);
	uv_tcp_init(&loop, &srv->tcp);
	srv->tcp.data = srv;
	ASSERT_INT(uv_tcp_bind(&srv->tcp, (struct sockaddr *)&sin, 0), ==, 0);
	ASSERT_INT(uv_listen((uv_stream_t *)&srv->tcp, 16, on_conn), ==, 0);
	uv_tcp_getsockname(&srv->tcp, (struct sockaddr *)&ss, &len);
	srv->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* The value of header name in the server's last request, or NULL. */
static const char *
srv_header(struct srv *srv, const char *name)
{
	static char	 v[512];
	size_t		 nl = strlen(name);

	for (const char *p = srv->req; p < srv->req + srv->head_len; ) {
		const char *eol = memmem(p, srv->head_len - (size_t)(p -
		    srv->req), "\r\n", 2);

		if (eol == NULL)
			break;
		if ((size_t)(eol - p) > nl + 1 && strncasecmp(p, name, nl) == 0
		    && p[nl] == ':') {
			const char *q = p + nl + 1;

			while (*q == ' ')
				q++;
			snprintf(v, sizeof(v), "%.*s", (int)(eol - q), q);
			return v;
		}
		p = eol + 2;
	}
	return NULL;
}

static bool	 expired;

static void
deadline_cb(uv_timer_t *t)
{
	expired = true;
}

/*
 * Runs the loop until *v reaches n, failing after 5 s.  What changes *v
 * calls uv_stop: a change made in a timer's callback would otherwise be
 * seen only after the loop's next sleep in poll.
 */
static void
wait_n(const int *v, int n)
{
	uv_timer_t	 t;

	expired = false;
	uv_timer_init(&loop, &t);
	uv_timer_start(&t, deadline_cb, 5000, 0);
	while (*v < n && !expired)
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	if (*v < n)
		FAIL("waited 5 s in vain: %d of %d", *v, n);
}

static void
wait_for(const int *flag)
{
	wait_n(flag, 1);
}

/* Runs the loop until nothing is left in it (a uv_stop may cut a run). */
static void
drain(void)
{
	while (uv_run(&loop, UV_RUN_DEFAULT) != 0)
		continue;
}

/* Closes the server (and net, unless NULL) and checks nothing is left. */
static void
finish(struct srv *srv, struct hooknet *net)
{
	hooknet_free(net);
	uv_close((uv_handle_t *)&srv->tcp, NULL);
	drain();
	ASSERT_INT(uv_loop_close(&loop), ==, 0);
}

static struct hook_headers
headers(const char *sig)
{
	return (struct hook_headers){ .delivery_id = "d-7f3a", .event =
	    "job.failed", .timestamp_sec = 1700000000, .signature_hex = sig };
}

static char	 url[128];

static const char *
url_of(const char *host, int port, const char *path)
{
	snprintf(url, sizeof(url), "http://%s:%d%s", host, port, path);
	return url;
}

static void
setup(struct hook_allow *a, const char *list, const struct hooknet_opts *o,
    struct hooknet **net)
{
	char	 why[200];

	ASSERT_INT(uv_loop_init(&loop), ==, 0);
	hook_allow_init(a);
	if (list)
		ASSERT_INT(hook_allow_add(a, list, why, sizeof(why)), ==, 0);
	ASSERT_INT(hooknet_new(&loop, a, o, net), ==, 0);
}

TEST(post_arrives_signed_with_every_header_and_the_body)
{
	const char		*body = "{\"id\":42,\"state\":\"failed\"}";
	struct hook_allow	 a;
	struct hooknet		*net;
	struct srv		 srv;
	struct outcome		 o = { 0 };
	struct hook_headers	 h;
	char			 sig[HOOK_SIGN_HEX_LEN + 1], again[sizeof(sig)];
	char			 want[100];
	const char		*ts;

	setup(&a, "127.0.0.1", NULL, &net);
	srv_start(&srv, SRV_OK);
	ASSERT_INT(hook_sign("whsec_test", 10, 1700000000, body, strlen(body),
	    sig), ==, 0);
	h = headers(sig);
	ASSERT_INT(hooknet_post(net, url_of("127.0.0.1", srv.port, "/in"),
	    body, strlen(body), &h, on_done, &o), ==, 0);
	ASSERT_INT(o.calls, ==, 0);	/* never from within hooknet_post */
	ASSERT_INT(hooknet_inflight(net), ==, 1);
	wait_for(&o.calls);
	ASSERT_INT(o.calls, ==, 1);
	ASSERT_INT(o.status, ==, 200);
	ASSERT(!o.had_error);
	ASSERT_INT(o.resp_len, ==, 6);
	ASSERT(memcmp(o.resp, "thanks", 6) == 0);
	ASSERT_INT(hooknet_inflight(net), ==, 0);

	ASSERT_INT(srv.requests, ==, 1);
	ASSERT(strncmp(srv.req, "POST /in HTTP/1.1\r\n", 19) == 0);
	ASSERT_STR(srv_header(&srv, "Content-Type"), "application/json");
	ASSERT_STR(srv_header(&srv, "User-Agent"), "runnel-webhook/1");
	ASSERT_STR(srv_header(&srv, "X-Runnel-Delivery"), "d-7f3a");
	ASSERT_STR(srv_header(&srv, "X-Runnel-Event"), "job.failed");
	ASSERT_STR(srv_header(&srv, "X-Runnel-Timestamp"), "1700000000");
	ASSERT(srv_header(&srv, "Expect") == NULL);
	ASSERT_INT(srv.req_len - srv.head_len, ==, strlen(body));
	ASSERT(memcmp(srv.req + srv.head_len, body, strlen(body)) == 0);
	/* the receiver's side: recompute from what arrived */
	ts = srv_header(&srv, "X-Runnel-Timestamp");
	ASSERT_INT(hook_sign("whsec_test", 10, strtoll(ts, NULL, 10),
	    srv.req + srv.head_len, srv.req_len - srv.head_len, again), ==, 0);
	snprintf(want, sizeof(want), "sha256=%s", again);
	ASSERT_STR(srv_header(&srv, "X-Runnel-Signature"), want);
	ASSERT_STR(again,
	    "985c412bcfa88eb26c25ad266e78ec6ac25db8dcab635de05dd94923b3fd0c36");
	finish(&srv, net);
	hook_allow_clear(&a);
}

TEST(post_without_a_secret_has_no_signature_header)
{
	struct hook_allow	 a;
	struct hooknet		*net;
	struct srv		 srv;
	struct outcome		 o = { 0 };
	struct hook_headers	 h = headers(NULL);

	setup(&a, "127.0.0.0/8", NULL, &net);
	srv_start(&srv, SRV_OK);
	ASSERT_INT(hooknet_post(net, url_of("127.0.0.1", srv.port, "/"),
	    "{}", 2, &h, on_done, &o), ==, 0);
	wait_for(&o.calls);
	ASSERT_INT(o.status, ==, 200);
	ASSERT(srv_header(&srv, "X-Runnel-Signature") == NULL);
	ASSERT_STR(srv_header(&srv, "X-Runnel-Delivery"), "d-7f3a");
	finish(&srv, net);
	hook_allow_clear(&a);
}

TEST(an_answer_of_500_reports_status_500)
{
	struct hook_allow	 a;
	struct hooknet		*net;
	struct srv		 srv;
	struct outcome		 o = { 0 };
	struct hook_headers	 h = headers(NULL);

	setup(&a, "127.0.0.1", NULL, &net);
	srv_start(&srv, SRV_FAIL);
	ASSERT_INT(hooknet_post(net, url_of("127.0.0.1", srv.port, "/"),
	    "{}", 2, &h, on_done, &o), ==, 0);
	wait_for(&o.calls);
	ASSERT_INT(o.status, ==, 500);
	ASSERT(!o.had_error);
	ASSERT_INT(o.resp_len, ==, 4);
	ASSERT(memcmp(o.resp, "oops", 4) == 0);
	finish(&srv, net);
	hook_allow_clear(&a);
}

TEST(a_refused_connection_is_an_error)
{
	struct hook_allow	 a;
	struct hooknet		*net;
	struct srv		 srv;
	struct outcome		 o = { 0 };
	struct hook_headers	 h = headers(NULL);
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	socklen_t		 len = sizeof(sin);
	int			 fd;

	setup(&a, "127.0.0.1", NULL, &net);
	srv_start(&srv, SRV_OK);
	/* bound, not listening: a connection to it is refused at once */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	ASSERT_INT(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
	ASSERT_INT(getsockname(fd, (struct sockaddr *)&sin, &len), ==, 0);
	ASSERT_INT(hooknet_post(net, url_of("127.0.0.1",
	    ntohs(sin.sin_port), "/"), "{}", 2, &h, on_done, &o), ==, 0);
	wait_for(&o.calls);
	close(fd);
	ASSERT_INT(o.status, ==, 0);
	ASSERT(o.had_error);
	ASSERT(o.error[0] != '\0');
	ASSERT(strstr(o.error, "not allowed") == NULL);
	finish(&srv, net);
	hook_allow_clear(&a);
}

TEST(loopback_by_name_is_refused_at_connect_time)
{
	struct hook_allow	 a;
	struct hooknet		*net;
	struct srv		 srv;
	struct outcome		 o = { 0 };
	struct hook_headers	 h = headers(NULL);
	uint64_t		 t0;

	setup(&a, NULL, NULL, &net);
	srv_start(&srv, SRV_OK);
	t0 = uv_hrtime();
	/* the name passes the URL check: only its address is wrong */
	ASSERT_INT(hook_allow_url(&a, url_of("localhost", srv.port, "/"),
	    NULL, 0), ==, 0);
	ASSERT_INT(hooknet_post(net, url_of("localhost", srv.port, "/"),
	    "{}", 2, &h, on_done, &o), ==, 0);
	wait_for(&o.calls);
	ASSERT_INT(o.status, ==, 0);
	ASSERT(strstr(o.error, "not allowed") != NULL);
	ASSERT(strstr(o.error, "loopback") != NULL);
	ASSERT(strstr(o.error, "127.0.0.1") || strstr(o.error, "::1"));
	ASSERT_INT(srv.accepted, ==, 0);
	/* at once, not at the connect timeout (5 s) */
	ASSERT_INT((uv_hrtime() - t0) / 1000000, <, 1000);
	finish(&srv, net);
	hook_allow_clear(&a);
}

TEST(a_wildcard_entry_does_not_open_loopback)
{
	struct hook_allow	 a;
	struct hooknet		*net;
	struct srv		 srv;
	struct outcome		 o = { 0 };
	struct hook_headers	 h = headers(NULL);

	/* libcurl resolves *.localhost itself, to loopback, without DNS */
	setup(&a, "*.localhost", NULL, &net);
	srv_start(&srv, SRV_OK);
	ASSERT_INT(hooknet_post(net, url_of("hooks.localhost", srv.port, "/"),
	    "{}", 2, &h, on_done, &o), ==, 0);
	wait_for(&o.calls);
	ASSERT_INT(o.status, ==, 0);
	ASSERT(strstr(o.error, "not allowed") != NULL);
	ASSERT_INT(srv.accepted, ==, 0);
	finish(&srv, net);
	hook_allow_clear(&a);
}

TEST(an_exact_name_entry_opens_the_addresses_it_resolves_to)
{
	struct hook_allow	 a;
	struct hooknet		*net;
	struct srv		 srv;
	struct outcome		 o = { 0 };
	struct hook_headers	 h = headers(NULL);

	setup(&a, "localhost", NULL, &net);
	srv_start(&srv, SRV_OK);
	ASSERT_INT(hooknet_post(net, url_of("localhost", srv.port, "/"),
	    "{}", 2, &h, on_done, &o), ==, 0);
	wait_for(&o.calls);
	ASSERT_INT(o.status, ==, 200);
	ASSERT_INT(srv.requests, ==, 1);
	finish(&srv, net);
	hook_allow_clear(&a);
}

TEST(refusals_known_before_sending_are_returned_and_never_called_back)
{
	struct hook_allow	 a;
	struct hooknet		*net;
	struct srv		 srv;
	struct outcome		 o = { 0 };
	struct hook_headers	 h = headers(NULL), bad;

	setup(&a, NULL, NULL, &net);
	srv_start(&srv, SRV_OK);
	ASSERT_INT(hooknet_post(net, url_of("127.0.0.1", srv.port, "/"),
	    "{}", 2, &h, on_done, &o), ==, -EPERM);
	ASSERT_INT(hooknet_post(net, "ftp://example.com/", "{}", 2, &h,
	    on_done, &o), ==, -EPERM);
	ASSERT_INT(hooknet_post(net, "nope", "{}", 2, &h, on_done, &o), ==,
	    -EINVAL);
	bad = h;
	bad.delivery_id = "d-1\r\nX-Evil: 1";
	ASSERT_INT(hooknet_post(net, "http://example.com/", "{}", 2, &bad,
	    on_done, &o), ==, -EINVAL);
	bad = h;
	bad.event = "";
	ASSERT_INT(hooknet_post(net, "http://example.com/", "{}", 2, &bad,
	    on_done, &o), ==, -EINVAL);
	bad = h;
	bad.delivery_id = NULL;
	ASSERT_INT(hooknet_post(net, "http://example.com/", "{}", 2, &bad,
	    on_done, &o), ==, -EINVAL);
	bad = h;
	bad.signature_hex = "0123\r\n";
	ASSERT_INT(hooknet_post(net, "http://example.com/", "{}", 2, &bad,
	    on_done, &o), ==, -EINVAL);
	ASSERT_INT(hooknet_post(net, "http://example.com/", NULL, 2, &h,
	    on_done, &o), ==, -EINVAL);
	ASSERT_INT(hooknet_post(net, "http://example.com/", "{}",
	    HOOKNET_BODY_MAX + 1, &h, on_done, &o), ==, -EMSGSIZE);
	ASSERT_INT(hooknet_inflight(net), ==, 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	ASSERT_INT(o.calls, ==, 0);
	ASSERT_INT(srv.accepted, ==, 0);
	finish(&srv, net);
	hook_allow_clear(&a);
}

TEST(a_redirect_is_not_followed)
{
	struct hook_allow	 a;
	struct hooknet		*net;
	struct srv		 srv;
	struct outcome		 o = { 0 };
	struct hook_headers	 h = headers(NULL);

	setup(&a, "127.0.0.1", NULL, &net);
	srv_start(&srv, SRV_REDIRECT);
	ASSERT_INT(hooknet_post(net, url_of("127.0.0.1", srv.port, "/"),
	    "{}", 2, &h, on_done, &o), ==, 0);
	wait_for(&o.calls);
	ASSERT_INT(o.status, ==, 302);
	ASSERT(!o.had_error);
	ASSERT_INT(srv.requests, ==, 1);
	ASSERT_INT(srv.accepted, ==, 1);
	finish(&srv, net);
	ASSERT_INT(srv.requests, ==, 1);
	hook_allow_clear(&a);
}

TEST(a_silent_target_times_out)
{
	struct hooknet_opts	 opts = { .connect_ms = 200, .total_ms = 300 };
	struct hook_allow	 a;
	struct hooknet		*net;
	struct srv		 srv;
	struct outcome		 o = { 0 };
	struct hook_headers	 h = headers(NULL);
	uint64_t		 t0;

	setup(&a, "127.0.0.1", &opts, &net);
	srv_start(&srv, SRV_SILENT);
	t0 = uv_hrtime();
	ASSERT_INT(hooknet_post(net, url_of("127.0.0.1", srv.port, "/"),
	    "{}", 2, &h, on_done, &o), ==, 0);
	wait_for(&o.calls);
	ASSERT_INT(o.status, ==, 0);
	ASSERT_STR(o.error, "timed out");
	ASSERT_INT(srv.requests, ==, 1);
	ASSERT_INT((uv_hrtime() - t0) / 1000000, >=, 250);
	ASSERT_INT((uv_hrtime() - t0) / 1000000, <, 3000);
	finish(&srv, net);
	hook_allow_clear(&a);
}

TEST(the_response_kept_is_capped)
{
	struct hook_allow	 a;
	struct hooknet		*net;
	struct srv		 srv;
	struct outcome		 o = { 0 };
	struct hook_headers	 h = headers(NULL);

	setup(&a, "127.0.0.1", NULL, &net);
	srv_start(&srv, SRV_BIG);
	ASSERT_INT(hooknet_post(net, url_of("127.0.0.1", srv.port, "/"),
	    "{}", 2, &h, on_done, &o), ==, 0);
	wait_for(&o.calls);
	ASSERT_INT(o.status, ==, 200);
	ASSERT_INT(o.resp_len, ==, HOOKNET_KEEP_BYTES);
	ASSERT(o.resp[0] == 'b' && o.resp[HOOKNET_KEEP_BYTES - 1] == 'b');
	finish(&srv, net);
	hook_allow_clear(&a);
}

TEST(free_cancels_what_is_in_flight)
{
	struct hook_allow	 a;
	struct hooknet		*net;
	struct srv		 srv;
	struct outcome		 o1 = { 0 }, o2 = { 0 };
	struct hook_headers	 h = headers(NULL);

	setup(&a, "127.0.0.1", NULL, &net);
	srv_start(&srv, SRV_SILENT);
	ASSERT_INT(hooknet_post(net, url_of("127.0.0.1", srv.port, "/a"),
	    "{}", 2, &h, on_done, &o1), ==, 0);
	ASSERT_INT(hooknet_post(net, url_of("127.0.0.1", srv.port, "/b"),
	    "{}", 2, &h, on_done, &o2), ==, 0);
	ASSERT_INT(hooknet_inflight(net), ==, 2);
	wait_n(&srv.requests, 2);
	hooknet_free(net);
	ASSERT_INT(o1.calls, ==, 1);
	ASSERT_INT(o2.calls, ==, 1);
	ASSERT_STR(o1.error, "canceled");
	ASSERT_STR(o2.error, "canceled");
	ASSERT_INT(o1.status, ==, 0);
	/* the connections close: the server sees them go */
	uv_close((uv_handle_t *)&srv.tcp, NULL);
	drain();
	ASSERT_INT(srv.open, ==, 0);
	ASSERT_INT(uv_loop_close(&loop), ==, 0);
	hook_allow_clear(&a);
}

TEST(free_from_within_a_callback_cancels_the_rest)
{
	struct hook_allow	 a;
	struct hooknet		*net;
	struct srv		 fast, slow;
	struct outcome		 o1 = { 0 }, o2 = { 0 };
	struct hook_headers	 h = headers(NULL);

	setup(&a, "127.0.0.1", NULL, &net);
	srv_start(&fast, SRV_FAIL);
	srv_start(&slow, SRV_SILENT);
	o1.free_net = net;
	ASSERT_INT(hooknet_post(net, url_of("127.0.0.1", slow.port, "/"),
	    "{}", 2, &h, on_done, &o2), ==, 0);
	wait_for(&slow.requests);
	ASSERT_INT(hooknet_post(net, url_of("127.0.0.1", fast.port, "/"),
	    "{}", 2, &h, on_done, &o1), ==, 0);
	wait_for(&o1.calls);
	ASSERT_INT(o1.status, ==, 500);
	ASSERT_INT(o2.calls, ==, 1);
	ASSERT_STR(o2.error, "canceled");
	ASSERT_INT(o1.post_after_free, ==, -ESHUTDOWN);
	uv_close((uv_handle_t *)&slow.tcp, NULL);
	finish(&fast, NULL);
	ASSERT_INT(o1.calls, ==, 1);
	ASSERT_INT(o2.calls, ==, 1);
	hook_allow_clear(&a);
}

TEST(a_kept_connection_is_reused_and_closed_by_free)
{
	struct hook_allow	 a;
	struct hooknet		*net;
	struct srv		 srv;
	struct outcome		 o1 = { 0 }, o2 = { 0 };
	struct hook_headers	 h = headers(NULL);

	setup(&a, "127.0.0.1", NULL, &net);
	srv_start(&srv, SRV_KEEP);
	ASSERT_INT(hooknet_post(net, url_of("127.0.0.1", srv.port, "/1"),
	    "{}", 2, &h, on_done, &o1), ==, 0);
	wait_for(&o1.calls);
	ASSERT_INT(hooknet_post(net, url_of("127.0.0.1", srv.port, "/2"),
	    "{}", 2, &h, on_done, &o2), ==, 0);
	wait_for(&o2.calls);
	ASSERT_INT(o1.status, ==, 200);
	ASSERT_INT(o2.status, ==, 200);
	ASSERT_INT(srv.requests, ==, 2);
	ASSERT_INT(srv.accepted, ==, 1);
	ASSERT_INT(srv.open, ==, 1);
	/* libcurl's cache holds the socket: free closes it, and its poll */
	finish(&srv, net);
	ASSERT_INT(srv.open, ==, 0);
	hook_allow_clear(&a);
}

TEST_MAIN_BEGIN
	RUN(signature_matches_a_vector_computed_apart);
	RUN(signature_covers_the_timestamp_and_every_byte_of_the_body);
	RUN(signature_refuses_no_secret_and_takes_an_empty_body);
	RUN(allow_list_takes_names_wildcards_addresses_and_networks);
	RUN(allow_list_refuses_hostile_entries_and_keeps_what_it_had);
	RUN(urls_without_a_list_reach_public_hosts_only);
	RUN(urls_with_a_list_reach_only_what_it_names);
	RUN(addresses_at_connect_time_follow_the_table);
	RUN(post_arrives_signed_with_every_header_and_the_body);
	RUN(post_without_a_secret_has_no_signature_header);
	RUN(an_answer_of_500_reports_status_500);
	RUN(a_refused_connection_is_an_error);
	RUN(loopback_by_name_is_refused_at_connect_time);
	RUN(a_wildcard_entry_does_not_open_loopback);
	RUN(an_exact_name_entry_opens_the_addresses_it_resolves_to);
	RUN(refusals_known_before_sending_are_returned_and_never_called_back);
	RUN(a_redirect_is_not_followed);
	RUN(a_silent_target_times_out);
	RUN(the_response_kept_is_capped);
	RUN(free_cancels_what_is_in_flight);
	RUN(free_from_within_a_callback_cancels_the_rest);
	RUN(a_kept_connection_is_reused_and_closed_by_free);
TEST_MAIN_END
