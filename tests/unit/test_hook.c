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


TEST_MAIN_BEGIN
	RUN(signature_matches_a_vector_computed_apart);
	RUN(signature_covers_the_timestamp_and_every_byte_of_the_body);
	RUN(signature_refuses_no_secret_and_takes_an_empty_body);
	RUN(allow_list_takes_names_wildcards_addresses_and_networks);
	RUN(allow_list_refuses_hostile_entries_and_keeps_what_it_had);
	RUN(urls_without_a_list_reach_public_hosts_only);
	RUN(urls_with_a_list_reach_only_what_it_names);
	RUN(addresses_at_connect_time_follow_the_table);
TEST_MAIN_END
