/*
 * Time zones: offsets against glibc's localtime_r (setenv TZ, allowed in
 * this test only) across zones, years and every transition; POSIX rule
 * strings; local-to-UTC over gaps and repeats; hostile names; truncated,
 * garbled and odd TZif files written into a temp TZDIR.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <time.h>

#include "civil.h"
#include "clock.h"
#include "test.h"
#include "tz.h"

#define SYS_ZONEINFO	"/usr/share/zoneinfo"

static const char *oracle_zones[] = {
	"Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
	"Asia/Kolkata", "Europe/Dublin", "America/St_Johns",
	"Pacific/Chatham", "America/Sao_Paulo", "Africa/Casablanca",
	"Antarctica/Troll", "Asia/Tehran", "Pacific/Apia",
	"America/Santiago", "Europe/London", "Australia/Sydney",
};

static int
have_tzdata(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/Europe/Berlin", SYS_ZONEINFO);
	if (access(path, R_OK) == 0)
		return 1;
	printf("skip: no tzdata in %s\n", SYS_ZONEINFO);
	return 0;
}

static int64_t
at(const char *rfc3339)
{
	int64_t ms;

	if (clock_parse_ms(rfc3339, &ms) != 0)
		FAIL("bad timestamp %s", rfc3339);
	return ms / 1000;
}

static long
glibc_offset(int64_t t)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (localtime_r(&tt, &tm) == NULL)
		FAIL("localtime_r %lld", (long long)t);
	return tm.tm_gmtoff;
}

/* tz_offset(tz, t) is glibc's, with TZ already set to the same zone. */
static void
check_against_glibc(const struct tz *tz, int64_t t)
{
	long want = glibc_offset(t);

	if (tz_offset(tz, t) != want)
		FAIL("%s at %lld: %d, glibc %ld", tz_name(tz), (long long)t,
		    tz_offset(tz, t), want);
}

TEST(offsets_agree_with_glibc_across_zones_and_years)
{
	int64_t	from = at("1901-12-14T00:00:00Z"), to = at("2105-01-01T00:00:00Z");
	int	zones = 0;

	if (!have_tzdata())
		return;
	unsetenv("TZDIR");
	for (size_t i = 0; i < sizeof(oracle_zones) / sizeof(*oracle_zones); i++) {
		struct tz	*tz;
		int		 rc = tz_load(oracle_zones[i], &tz);

		if (rc == -ENOENT)
			continue;
		ASSERT_INT(rc, ==, 0);
		zones++;
		setenv("TZ", oracle_zones[i], 1);
		tzset();
		/* an odd stride visits every time of day and day of week */
		for (int64_t t = from; t < to; t += 7 * 86400 + 3607)
			check_against_glibc(tz, t);
		tz_free(tz);
	}
	ASSERT_INT(zones, >=, 10);
}

TEST(offsets_agree_with_glibc_at_every_transition_1970_to_2100)
{
	int64_t	to = at("2100-01-01T00:00:00Z");
	int	transitions = 0;

	if (!have_tzdata())
		return;
	for (size_t i = 0; i < sizeof(oracle_zones) / sizeof(*oracle_zones); i++) {
		struct tz	*tz;
		struct tz_span	 s;

		if (tz_load(oracle_zones[i], &tz) != 0)
			continue;
		setenv("TZ", oracle_zones[i], 1);
		tzset();
		tz_span_at(tz, 0, &s);
		while (s.end_sec < to) {
			int64_t t = s.end_sec;

			check_against_glibc(tz, t - 1);
			check_against_glibc(tz, t);
			tz_span_at(tz, t, &s);
			/* spans tile time: each starts where the last ended */
			ASSERT_INT(s.start_sec, ==, t);
			ASSERT_INT(s.prev_utoff, ==, glibc_offset(t - 1));
			ASSERT_INT(s.utoff, ==, glibc_offset(t));
			transitions++;
		}
		tz_free(tz);
	}
	ASSERT_INT(transitions, >, 1000);
}

TEST(rules_agree_with_glibc)
{
	static const char *rules[] = {
		"CET-1CEST,M3.5.0,M10.5.0/3",
		"EST5EDT,M3.2.0,M11.1.0",
		"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
		"AEST-10AEDT,M10.1.0,M4.1.0/3",
		"NZST-12NZDT,M9.5.0,M4.1.0/3",
		"<-03>3<-02>,M3.5.0/-2,M10.5.0/-1",
		"IST-1GMT0,M10.5.0,M3.5.0/1",
		"<+0530>-5:30",
		"<-0330>3:30",
		"XXX3YYY,J60/2,J300/2",
		"XXX3YYY,59/2,299/2",
		"<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
		"AAA-2BBB-3:30:15,M2.5.6/23:59:59,M11.5.6/0",
	};
	int64_t from = at("1971-01-01T00:00:00Z"), to = at("2080-01-01T00:00:00Z");

	for (size_t i = 0; i < sizeof(rules) / sizeof(*rules); i++) {
		struct tz	*tz;
		struct tz_span	 s;

		ASSERT_INT(tz_parse_rule(rules[i], &tz), ==, 0);
		ASSERT_STR(tz_name(tz), rules[i]);
		setenv("TZ", rules[i], 1);
		tzset();
		for (int64_t t = from; t < to; t += 3 * 86400 + 1801)
			check_against_glibc(tz, t);
		tz_span_at(tz, from, &s);
		while (s.end_sec < to) {
			check_against_glibc(tz, s.end_sec - 1);
			check_against_glibc(tz, s.end_sec);
			tz_span_at(tz, s.end_sec, &s);
		}
		tz_free(tz);
	}
}

TEST(rule_changes_fall_where_the_rule_says)
{
	struct tz	*tz;
	struct tz_span	 s;

	ASSERT_INT(tz_parse_rule("CET-1CEST,M3.5.0,M10.5.0/3", &tz), ==, 0);
	tz_span_at(tz, at("2026-07-01T00:00:00Z"), &s);
	ASSERT_INT(s.start_sec, ==, at("2026-03-29T01:00:00Z"));
	ASSERT_INT(s.end_sec, ==, at("2026-10-25T01:00:00Z"));
	ASSERT_INT(s.utoff, ==, 7200);
	ASSERT_INT(s.prev_utoff, ==, 3600);
	tz_span_at(tz, at("2026-12-31T23:59:59Z"), &s);
	ASSERT_INT(s.start_sec, ==, at("2026-10-25T01:00:00Z"));
	ASSERT_INT(s.end_sec, ==, at("2027-03-28T01:00:00Z"));
	ASSERT_INT(s.utoff, ==, 3600);
	ASSERT_INT(s.prev_utoff, ==, 7200);
	tz_free(tz);

	/* DST all year (RFC 8536's example): no change, New Year included */
	ASSERT_INT(tz_parse_rule("EST5EDT,0/0,J365/25", &tz), ==, 0);
	ASSERT_INT(tz_offset(tz, at("2027-01-01T02:00:00Z")), ==, -4 * 3600);
	ASSERT_INT(tz_offset(tz, at("2026-12-31T23:00:00Z")), ==, -4 * 3600);
	ASSERT_INT(tz_offset(tz, at("2028-02-29T12:00:00Z")), ==, -4 * 3600);
	ASSERT_INT(tz_offset(tz, at("2026-07-01T00:00:00Z")), ==, -4 * 3600);
	tz_free(tz);

	/* no dates: the US rule (glibc reads posixrules instead: no oracle) */
	ASSERT_INT(tz_parse_rule("XST5XDT", &tz), ==, 0);
	tz_span_at(tz, at("2026-07-01T00:00:00Z"), &s);
	ASSERT_INT(s.start_sec, ==, at("2026-03-08T07:00:00Z"));
	ASSERT_INT(s.end_sec, ==, at("2026-11-01T06:00:00Z"));
	ASSERT_INT(s.utoff, ==, -4 * 3600);
	tz_free(tz);

	/* std only: one offset for ever */
	ASSERT_INT(tz_parse_rule("<+03>-3", &tz), ==, 0);
	tz_span_at(tz, 0, &s);
	ASSERT_INT(s.utoff, ==, 3 * 3600);
	ASSERT(s.start_sec == INT64_MIN && s.end_sec == INT64_MAX);
	tz_free(tz);
}

TEST(bad_rules_are_refused)
{
	static const char *bad[] = {
		"", "C-1", "CET", "CET-", "CET-1CEST,M3.5.0",
		"CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0",
		"CET-1CEST,M3.0.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0",
		"CET-1CEST,J0,J365", "CET-1CEST,J1,J366", "CET-1CEST,366,0",
		"CET25", "CET-1CEST,M3.5.0/168,M10.5.0", "<AB>-1", "<ABC-1",
		"CET-1CEST,M3.5.0,M10.5.0/3x", "CET-1:60", "CET-1CEST,",
		"CET-1CEST,M3.5.0,M10.5.0,", "CET-1CE", "CET-1 CEST",
		"<A!C>-1", "CET-1000",
	};
	struct tz *tz = (struct tz *)1;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (tz_parse_rule(bad[i], &tz) != -EINVAL)
			FAIL("rule \"%s\" was accepted", bad[i]);
		ASSERT(tz == NULL);
	}
}

/* One local time, and what tz_to_utc should answer for it. */
struct local_case {
	const char	*zone;
	const char	*local;		/* as if UTC */
	int		 n;
	const char	*utc0, *utc1;
};

TEST(local_times_map_to_one_two_or_no_instant)
{
	static const struct local_case cases[] = {
		{ "Europe/Berlin", "2026-07-01T12:00:00Z", 1,
		    "2026-07-01T10:00:00Z", NULL },
		{ "Europe/Berlin", "2026-03-29T02:30:00Z", 0,
		    "2026-03-29T01:00:00Z", NULL },
		{ "Europe/Berlin", "2026-03-29T02:00:00Z", 0,
		    "2026-03-29T01:00:00Z", NULL },
		{ "Europe/Berlin", "2026-03-29T03:00:00Z", 1,
		    "2026-03-29T01:00:00Z", NULL },
		{ "Europe/Berlin", "2026-10-25T02:30:00Z", 2,
		    "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z" },
		{ "Europe/Berlin", "2026-10-25T03:00:00Z", 1,
		    "2026-10-25T02:00:00Z", NULL },
		{ "America/New_York", "2026-03-08T02:15:00Z", 0,
		    "2026-03-08T07:00:00Z", NULL },
		{ "America/New_York", "2026-11-01T01:30:00Z", 2,
		    "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z" },
		{ "Australia/Lord_Howe", "2026-10-04T02:15:00Z", 0,
		    "2026-10-03T15:30:00Z", NULL },
		{ "Australia/Lord_Howe", "2026-04-05T01:45:00Z", 2,
		    "2026-04-04T14:45:00Z", "2026-04-04T15:15:00Z" },
		{ "Asia/Kolkata", "2026-03-29T02:30:00Z", 1,
		    "2026-03-28T21:00:00Z", NULL },
		{ "UTC", "2026-03-29T02:30:00Z", 1,
		    "2026-03-29T02:30:00Z", NULL },
	};

	if (!have_tzdata())
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const struct local_case	*c = &cases[i];
		struct tz		*tz;
		int64_t			 u[2];
		int			 n;

		ASSERT_INT(tz_load(c->zone, &tz), ==, 0);
		n = tz_to_utc(tz, at(c->local), u);
		if (n != c->n || u[0] != at(c->utc0) ||
		    (n == 2 && u[1] != at(c->utc1)))
			FAIL("%s %s: %d %lld %lld", c->zone, c->local, n,
			    (long long)u[0], (long long)u[1]);
		tz_free(tz);
	}
}

TEST(utc_is_built_in_without_tzdata)
{
	struct tz *tz;

	ASSERT_INT(mkdir("empty", 0700), ==, 0);
	setenv("TZDIR", "empty", 1);
	ASSERT_INT(tz_load("UTC", &tz), ==, 0);
	ASSERT_STR(tz_name(tz), "UTC");
	ASSERT_INT(tz_offset(tz, 0), ==, 0);
	ASSERT_INT(tz_offset(tz, at("2026-07-01T00:00:00Z")), ==, 0);
	tz_free(tz);
	ASSERT_INT(tz_load("Etc/UTC", &tz), ==, 0);
	ASSERT_INT(tz_offset(tz, -((int64_t)1 << 40)), ==, 0);
	tz_free(tz);
	tz = (struct tz *)1;
	ASSERT_INT(tz_load("Europe/Berlin", &tz), ==, -ENOENT);
	ASSERT(tz == NULL);
}

TEST(unsafe_names_are_refused_before_any_file_is_opened)
{
	static const char *bad[] = {
		"", "/etc/localtime", "../etc/passwd", "..",
		"Europe/../../etc/passwd", "Europe/..", "a/../b",
		"Europe/Berlin\n", "Europe Berlin", "Europe/Berlin;rm",
		"Europe\\Berlin", "Europe/Berlín", "UTC\t", "~root",
		"Europe/Berlin*", "$HOME", "C:x",
	};
	char		 longname[300];
	struct tz	*tz = (struct tz *)1;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (tz_load(bad[i], &tz) != -EINVAL)
			FAIL("name \"%s\" was not refused", bad[i]);
		ASSERT(tz == NULL);
	}
	memset(longname, 'a', sizeof(longname));
	longname[TZ_NAME_MAX + 1] = '\0';
	ASSERT_INT(tz_load(longname, &tz), ==, -EINVAL);
	longname[TZ_NAME_MAX] = '\0';
	ASSERT_INT(tz_load(longname, &tz), ==, -ENOENT);
	/* dots that are not ".." are names like any other */
	ASSERT_INT(tz_load("...", &tz), ==, -ENOENT);
	ASSERT_INT(tz_load("a..b/c", &tz), ==, -ENOENT);
}

/* A TZif file built by hand: big-endian fields into a buffer. */
struct tzif {
	unsigned char	b[4096];
	size_t		n;
};

static void
put(struct tzif *f, const void *p, size_t n)
{
	ASSERT(f->n + n <= sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void
put32(struct tzif *f, uint32_t v)
{
	unsigned char b[4] = { v >> 24, v >> 16, v >> 8, v };

	put(f, b, 4);
}

static void
put64(struct tzif *f, int64_t v)
{
	put32(f, (uint32_t)((uint64_t)v >> 32));
	put32(f, (uint32_t)v);
}

static void
put_header(struct tzif *f, char version, uint32_t ntrans, uint32_t ntypes,
    uint32_t nchars, uint32_t nleap)
{
	static const unsigned char zero[15];

	put(f, "TZif", 4);
	put(f, &version, 1);
	put(f, zero, 15);
	put32(f, ntypes);	/* isutcnt */
	put32(f, ntypes);	/* isstdcnt */
	put32(f, nleap);
	put32(f, ntrans);
	put32(f, ntypes);
	put32(f, nchars);
}

/*
 * A Berlin-like zone: CET until 2026-03-29T01:00Z, CEST until
 * 2026-10-25T01:00Z, CET after, the footer's rule then.
 */
#define T1	1774746000	/* 2026-03-29T01:00:00Z */
#define T2	1792890000	/* 2026-10-25T01:00:00Z */

static void
put_block(struct tzif *f, int wide, uint32_t nleap)
{
	static const char	 chars[] = "CET\0CEST";
	int64_t			 trans[] = { T1, T2 };

	for (int i = 0; i < 2; i++)
		wide ? put64(f, trans[i]) : put32(f, (uint32_t)trans[i]);
	put(f, "\x01\x00", 2);
	put32(f, 3600);
	put(f, "\x00\x00", 2);
	put32(f, 7200);
	put(f, "\x01\x04", 2);
	put(f, chars, sizeof(chars));
	for (uint32_t i = 0; i < nleap; i++) {
		wide ? put64(f, 78796800) : put32(f, 78796800);
		put32(f, 1);
	}
	put(f, "\x00\x00", 2);	/* isstd */
	put(f, "\x00\x00", 2);	/* isut */
}

static void
build(struct tzif *f, char version, const char *footer, uint32_t nleap)
{
	f->n = 0;
	put_header(f, version, 2, 2, 9, nleap);
	put_block(f, 0, nleap);
	if (version == 0)
		return;
	put_header(f, version, 2, 2, 9, nleap);
	put_block(f, 1, nleap);
	put(f, "\n", 1);
	put(f, footer, strlen(footer));
	put(f, "\n", 1);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ASSERT(fd != -1);
	ASSERT_INT(write(fd, p, n), ==, n);
	close(fd);
}

static void
expect_berlin_2026(const struct tz *tz, int with_rule)
{
	ASSERT_INT(tz_offset(tz, T1 - 1), ==, 3600);
	ASSERT_INT(tz_offset(tz, T1), ==, 7200);
	ASSERT_INT(tz_offset(tz, T2 - 1), ==, 7200);
	ASSERT_INT(tz_offset(tz, T2), ==, 3600);
	/* before the first transition: type 0 */
	ASSERT_INT(tz_offset(tz, 0), ==, 3600);
	/* 2027-07-01: the footer's DST, or the last type for ever */
	ASSERT_INT(tz_offset(tz, 1814400000), ==, with_rule ? 7200 : 3600);
}

TEST(hand_built_files_load_from_tzdir)
{
	struct tzif	 f;
	struct tz	*tz;

	ASSERT_INT(mkdir("zi", 0700), ==, 0);
	ASSERT_INT(mkdir("zi/Test", 0700), ==, 0);
	setenv("TZDIR", "zi", 1);
	build(&f, '2', "CET-1CEST,M3.5.0,M10.5.0/3", 0);
	write_file("zi/Test/Berlin", f.b, f.n);
	ASSERT_INT(tz_load("Test/Berlin", &tz), ==, 0);
	ASSERT_STR(tz_name(tz), "Test/Berlin");
	expect_berlin_2026(tz, 1);
	tz_free(tz);

	build(&f, '3', "", 0);
	write_file("zi/Test/NoRule", f.b, f.n);
	ASSERT_INT(tz_load("Test/NoRule", &tz), ==, 0);
	expect_berlin_2026(tz, 0);
	tz_free(tz);

	build(&f, 0, NULL, 0);
	write_file("zi/Test/V1", f.b, f.n);
	ASSERT_INT(tz_load("Test/V1", &tz), ==, 0);
	expect_berlin_2026(tz, 0);
	tz_free(tz);

	ASSERT_INT(symlink("Berlin", "zi/Test/Link"), ==, 0);
	ASSERT_INT(tz_load("Test/Link", &tz), ==, 0);
	expect_berlin_2026(tz, 1);
	tz_free(tz);

	build(&f, '2', "CET-1CEST,M3.5.0,M10.5.0/3", 2);
	write_file("zi/Test/Leaps", f.b, f.n);
	ASSERT_INT(tz_load("Test/Leaps", &tz), ==, -ENOTSUP);
}

TEST(what_is_not_a_zone_file_is_refused)
{
	static const unsigned char	 big[TZ_FILE_MAX + 1];
	struct tz			*tz = (struct tz *)1;

	ASSERT_INT(mkdir("zi", 0700), ==, 0);
	ASSERT_INT(mkdir("zi/Dir", 0700), ==, 0);
	setenv("TZDIR", "zi", 1);
	ASSERT_INT(tz_load("Nowhere/Zone", &tz), ==, -ENOENT);
	ASSERT(tz == NULL);
	ASSERT_INT(tz_load("Dir", &tz), ==, -ENOENT);
	ASSERT_INT(tz_load("Dir/", &tz), ==, -ENOENT);
	/* a FIFO must not hang the loader */
	ASSERT_INT(mkfifo("zi/Fifo", 0600), ==, 0);
	ASSERT_INT(tz_load("Fifo", &tz), ==, -ENOENT);
	write_file("zi/Empty", "", 0);
	ASSERT_INT(tz_load("Empty", &tz), ==, -EPROTO);
	write_file("zi/Text", "Europe/Berlin\n", 14);
	ASSERT_INT(tz_load("Text", &tz), ==, -EPROTO);
	write_file("zi/Big", big, sizeof(big));
	ASSERT_INT(tz_load("Big", &tz), ==, -EPROTO);
	ASSERT(tz == NULL);
}

/* Decodes f with byte at off set to v; the answer must be -EPROTO. */
static void
expect_garbled(const struct tzif *f, size_t off, unsigned char v,
    const char *what)
{
	struct tzif	 g = *f;
	struct tz	*tz;
	int		 rc;

	g.b[off] = v;
	if ((rc = tz_decode(g.b, g.n, "g", &tz)) != -EPROTO)
		FAIL("%s: %d", what, rc);
}

TEST(garbled_files_are_refused)
{
	struct tzif	 f;
	struct tz	*tz;
	size_t		 v2 = 44 + 2 * 5 + 12 + 9 + 4;	/* second header */
	size_t		 data = v2 + 44;

	build(&f, '2', "CET-1CEST,M3.5.0,M10.5.0/3", 0);
	ASSERT_INT(tz_decode(f.b, f.n, "ok", &tz), ==, 0);
	tz_free(tz);
	expect_garbled(&f, 0, 'X', "magic");
	expect_garbled(&f, v2 + 1, 'z', "second magic");
	/* counts far beyond the file: timecnt, typecnt, charcnt, leapcnt */
	for (size_t c = 28; c < 44; c++) {
		expect_garbled(&f, c, 0xff, "v1 count");
		expect_garbled(&f, v2 + c, 0xff, "v2 count");
	}
	expect_garbled(&f, v2 + 39, 0, "no types");
	expect_garbled(&f, v2 + 43, 0, "no chars");
	expect_garbled(&f, v2 + 23, 1, "isutcnt neither 0 nor typecnt");
	/* the second transition before the first */
	expect_garbled(&f, data + 8 + 4, 0, "descending");
	expect_garbled(&f, data + 16, 2, "type index out of range");
	expect_garbled(&f, data + 18, 0x7f, "offset of 590 days");
	expect_garbled(&f, data + 18 + 4, 2, "isdst 2");
	expect_garbled(&f, data + 18 + 5, 9, "designation past chars");
	expect_garbled(&f, f.n - 1, 'x', "footer not closed");
	expect_garbled(&f, f.n - 3, '\n', "footer with two lines");
	expect_garbled(&f, f.n - 5, '?', "footer rule bad");
}

TEST(every_truncation_is_refused)
{
	struct tzif	 f;
	struct tz	*tz;

	build(&f, '2', "CET-1CEST,M3.5.0,M10.5.0/3", 0);
	for (size_t n = 0; n < f.n; n++)
		if (tz_decode(f.b, n, "cut", &tz) != -EPROTO)
			FAIL("cut at %zu of %zu was accepted", n, f.n);
}

/* The real file, cut everywhere and with each byte flipped: no crash. */
TEST(real_zone_file_cut_and_flipped_is_handled)
{
	unsigned char	 buf[TZ_FILE_MAX];
	struct tz	*tz;
	ssize_t		 n;
	int		 fd, ok = 0;

	if (!have_tzdata())
		return;
	fd = open(SYS_ZONEINFO "/Europe/Berlin", O_RDONLY);
	ASSERT(fd != -1);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	ASSERT(n > 44);
	ASSERT_INT(tz_decode(buf, (size_t)n, "Berlin", &tz), ==, 0);
	tz_free(tz);
	for (ssize_t cut = 0; cut < n; cut++)
		ASSERT_INT(tz_decode(buf, (size_t)cut, "cut", &tz), ==, -EPROTO);
	for (ssize_t i = 0; i < n; i++) {
		unsigned char was = buf[i];

		for (int bit = 0; bit < 8; bit += 3) {
			buf[i] = was ^ (unsigned char)(1u << bit);
			if (tz_decode(buf, (size_t)n, "flip", &tz) == 0) {
				int64_t t = -((int64_t)1 << 40);

				/* whatever it says, it says it within bounds */
				for (; t < (int64_t)1 << 40; t += (int64_t)1 << 34) {
					int32_t o = tz_offset(tz, t);

					ASSERT(o >= -TZ_UTOFF_MAX && o <= TZ_UTOFF_MAX);
				}
				tz_free(tz);
				ok++;
			}
		}
		buf[i] = was;
	}
	ASSERT_INT(ok, >, 0);
}

TEST(civil_dates_round_trip)
{
	int64_t	 y;
	int	 m, d;

	ASSERT_INT(civil_days(1970, 1, 1), ==, 0);
	ASSERT_INT(civil_days(2000, 3, 1), ==, 11017);
	ASSERT_INT(civil_days(1969, 12, 31), ==, -1);
	ASSERT_INT(civil_weekday(0), ==, 4);
	ASSERT_INT(civil_weekday(-1), ==, 3);
	ASSERT_INT(civil_month_days(2100, 2), ==, 28);
	ASSERT_INT(civil_month_days(2000, 2), ==, 29);
	ASSERT_INT(civil_month_days(2028, 2), ==, 29);
	for (int64_t days = -800000; days < 800000; days += 13) {
		civil_date(days, &y, &m, &d);
		ASSERT_INT(civil_days(y, m, d), ==, days);
		ASSERT(m >= 1 && m <= 12 && d >= 1 &&
		    d <= civil_month_days(y, m));
	}
}

TEST_MAIN_BEGIN
	RUN(offsets_agree_with_glibc_across_zones_and_years);
	RUN(offsets_agree_with_glibc_at_every_transition_1970_to_2100);
	RUN(rules_agree_with_glibc);
	RUN(rule_changes_fall_where_the_rule_says);
	RUN(bad_rules_are_refused);
	RUN(local_times_map_to_one_two_or_no_instant);
	RUN(utc_is_built_in_without_tzdata);
	RUN(unsafe_names_are_refused_before_any_file_is_opened);
	RUN(hand_built_files_load_from_tzdir);
	RUN(what_is_not_a_zone_file_is_refused);
	RUN(garbled_files_are_refused);
	RUN(every_truncation_is_refused);
	RUN(real_zone_file_cut_and_flipped_is_handled);
	RUN(civil_dates_round_trip);
TEST_MAIN_END
