/*
 * Request heads (server/head.c): a table of heads with the verdict for
 * each, every prefix of a valid head is "more" (never refused early),
 * and a refusal comes as soon as the bytes cannot begin a valid head.
 */
#include "http/head.h"
#include "test.h"

struct want {
	const char	*head;
	size_t		 len;		/* heads may hold a NUL */
	int		 status;	/* 0: accepted */
	const char	*code;
};

#define H(s)	s, sizeof(s) - 1

static const struct want table[] = {
	{H("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0, NULL},
	{H("GET /api/v1/jobs?limit=1 HTTP/1.0\r\n\r\n"), 0, NULL},
	{H("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0, NULL},
	{H("POST /api/v1/jobs HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n"),
	    0, NULL},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), 0,
	    NULL},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  Chunked \r\n\r\n"), 0,
	    NULL},
	{H("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 0, NULL},
	{H("GET http://a/x HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n"), 0, NULL},
	{H("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\t v\r\n\r\n"), 0, NULL},
	/* smuggling */
	{H("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400, "bad_request"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n"), 400, "bad_request"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
	    "Content-Length: 30\r\n\r\n"), 400, "bad_request"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
	    "Content-Length: 2\r\n\r\n"), 400, "bad_request"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\n"), 400,
	    "bad_request"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400,
	    "bad_request"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n"), 400,
	    "bad_request"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n"), 400,
	    "bad_request"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: "
	    "99999999999999999999\r\n\r\n"), 400, "bad_request"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"),
	    400, "bad_request"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n"
	    "\r\n"), 400, "bad_request"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
	    501, "not_implemented"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n"
	    "\r\n"), 400, "bad_request"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 400, "bad_request"},
	{H("POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400,
	    "bad_request"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"),
	    400, "bad_request"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\n Transfer-Encoding: chunked\r\n\r\n"),
	    400, "bad_request"},
	{H("POST /x HTTP/1.1\r\nHost: a\r\nX: a\r\n  folded\r\n\r\n"), 400,
	    "bad_request"},
	{H("GET / HTTP/1.1\nHost: a\n\n"), 400, "bad_request"},
	{H("GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n"), 400, "bad_request"},
	{H("GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n"), 400, "bad_request"},
	{H("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"), 400, "bad_request"},
	/* request lines */
	{H("GET / HTTP/1.1\r\n\r\n"), 400, "bad_request"},
	{H("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400, "bad_request"},
	{H("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505, "http_version_not_supported"},
	{H("GET / HTTP/9.9\r\nHost: a\r\n\r\n"), 505, "http_version_not_supported"},
	{H("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 505, "http_version_not_supported"},
	{H("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400, "bad_request"},
	{H("GET /\r\n\r\n"), 400, "bad_request"},
	{H("GET\r\n\r\n"), 400, "bad_request"},
	{H("GARBAGE\r\n\r\n"), 400, "bad_request"},
	{H("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "bad_request"},
	{H("GET x HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "bad_request"},
	{H("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "bad_request"},
	{H("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "bad_request"},
	{H("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), 400, "bad_request"},
	{H("\x01\x02\x03 / HTTP/1.1\r\n\r\n"), 400, "bad_request"},
	{H("GET / HTTP/1.1\r\n: v\r\n\r\n"), 400, "bad_request"},
};

static int
scan(const char *head, size_t n, size_t *len, struct head_fault *f)
{
	return head_scan(head, n, len, f);
}

TEST(each_head_gets_its_verdict)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct want	*w = &table[i];
		struct head_fault	 f = {0};
		size_t			 len = 0, n = w->len;
		int			 rc;

		rc = scan(w->head, n, &len, &f);
		if (w->status == 0) {
			if (rc != HEAD_DONE || len != n)
				FAIL("head %zu refused (%d %s: %s)", i, f.status,
				    f.code ? f.code : "-", f.why ? f.why : "-");
			continue;
		}
		if (rc != HEAD_BAD)
			FAIL("head %zu not refused (rc %d)", i, rc);
		if (f.status != w->status || strcmp(f.code, w->code) != 0)
			FAIL("head %zu: %d %s (%s), not %d %s", i, f.status,
			    f.code, f.why, w->status, w->code);
		ASSERT(f.why != NULL && f.why[0] != '\0');
	}
}

TEST(every_prefix_of_a_valid_head_asks_for_more)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const char	*h = table[i].head;
		size_t		 n = table[i].len, len;

		if (table[i].status != 0)
			continue;
		for (size_t k = 0; k < n; k++) {
			struct head_fault f = {0};

			if (scan(h, k, &len, &f) != HEAD_MORE)
				FAIL("head %zu cut at %zu: not \"more\" (%s)", i, k,
				    f.why ? f.why : "done");
		}
	}
}

TEST(garbage_is_refused_at_once)
{
	struct head_fault	 f;
	size_t			 len;

	/* the first bytes of a TLS hello, of binary, of a bad method */
	ASSERT_INT(scan("\x16\x03", 2, &len, &f), ==, HEAD_BAD);
	ASSERT_INT(scan("\x00", 1, &len, &f), ==, HEAD_BAD);
	ASSERT_INT(scan("GE(", 3, &len, &f), ==, HEAD_BAD);
	ASSERT_INT(scan("GET /a\x01", 7, &len, &f), ==, HEAD_BAD);
	ASSERT_INT(scan("GET / HTTP/1.1\r\nHost: a\r\nX\x01", 27, &len, &f), ==,
	    HEAD_BAD);
	ASSERT_INT(scan("GET / HTTP/1.1\r\n\n", 17, &len, &f), ==, HEAD_BAD);
}

TEST(a_head_past_the_limits_is_refused)
{
	static char	 big[HEAD_MAX + 64];
	struct head_fault f;
	size_t		 len, n;

	/* a target over 8 KiB: 414, even before its line ends */
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', HEAD_TARGET_MAX + 10);
	ASSERT_INT(scan(big, 5 + HEAD_TARGET_MAX + 10, &len, &f), ==, HEAD_BAD);
	ASSERT_INT(f.status, ==, 414);
	/* fields over 16 KiB: 431 */
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(big + n, 'v', HEAD_MAX - n);
	ASSERT_INT(scan(big, HEAD_MAX, &len, &f), ==, HEAD_BAD);
	ASSERT_INT(f.status, ==, 431);
	/* 101 fields: 431 */
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X%d: v\r\n", i);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\r\n");
	ASSERT_INT(scan(big, n, &len, &f), ==, HEAD_BAD);
	ASSERT_INT(f.status, ==, 431);
}

TEST(bytes_after_the_head_are_the_body)
{
	const char	*h = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
	    "\r\nbody";
	struct head_fault f;
	size_t		 len;

	ASSERT_INT(scan(h, strlen(h), &len, &f), ==, HEAD_DONE);
	ASSERT_INT(len, ==, strlen(h) - 4);
}

TEST(fields_as_libmicrohttpd_gives_them_follow_the_same_rules)
{
	struct head_field	 ok[] = {{"Host", 4, "a", 1},
	    {"transfer-encoding", 17, "chunked", 7}};
	struct head_field	 both[] = {{"Host", 4, "a", 1},
	    {"Content-Length", 14, "3", 1}, {"Transfer-Encoding", 17, "chunked", 7}};
	struct head_fault	 f;

	ASSERT_INT(head_check_fields(ok, 2, 1, &f), ==, 0);
	ASSERT_INT(head_check_fields(both, 3, 1, &f), ==, -1);
	ASSERT_INT(f.status, ==, 400);
	ASSERT_INT(head_check_fields(ok, 1, 0, &f), ==, 0);	/* 1.0: no Host needed */
	ASSERT_INT(head_check_fields(ok + 1, 1, 1, &f), ==, -1);	/* 1.1: Host */
}

TEST_MAIN_BEGIN
	RUN(each_head_gets_its_verdict);
	RUN(every_prefix_of_a_valid_head_asks_for_more);
	RUN(garbage_is_refused_at_once);
	RUN(a_head_past_the_limits_is_refused);
	RUN(bytes_after_the_head_are_the_body);
	RUN(fields_as_libmicrohttpd_gives_them_follow_the_same_rules);
TEST_MAIN_END
