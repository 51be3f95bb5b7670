/*
 * Cron expressions: what parses and what is refused (with the position
 * and the message), next fire times in UTC and in zones with DST gaps
 * and repeats (checked against a brute-force Python model when written),
 * and a minute-by-minute oracle on glibc's localtime_r for generated
 * expressions around every 2026 transition of several zones.
 */
#include <time.h>

#include "clock.h"
#include "cron.h"
#include "test.h"
#include "tz.h"

static int64_t
ms(const char *rfc3339)
{
	int64_t v;

	if (strcmp(rfc3339, "-1") == 0)
		return -1;
	if (clock_parse_ms(rfc3339, &v) != 0)
		FAIL("bad timestamp %s", rfc3339);
	return v;
}

static struct cron *
parse_ok(const char *expr)
{
	struct cron		*c;
	struct cron_error	 err;

	if (cron_parse(expr, &c, &err) != 0)
		FAIL("\"%s\" refused at %d: %s", expr, err.pos, err.msg);
	return c;
}

static struct tz *
zone(const char *name)
{
	struct tz	*tz;
	int		 rc = tz_load(name, &tz);

	if (rc != 0)
		FAIL("zone %s: %d", name, rc);
	return tz;
}

static int
have_tzdata(void)
{
	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) == 0)
		return 1;
	printf("skip: no tzdata\n");
	return 0;
}

TEST(valid_expressions_parse)
{
	static const char *good[] = {
		"* * * * *", "0 0 1 1 *", "*/5 * * * *", "0-59/7 0-23/2 * * *",
		"5/20 * * * *", "1,2,3 4-6 7,8-9 10-12 0-6", "0 0 * JAN-DEC SUN-SAT",
		"0 0 * jan,Feb,MAR * ", "  0 0 * * mon-FRI", "0\t0\t*\t*\t7",
		"0 0 * * 0-7", "59 23 31 12 6", "0 0 30 2 *", "*/60 */24 */31 */12 */8",
		"@yearly", "@annually", "@monthly", "@weekly", "@daily",
		"@midnight", "@hourly", "@DAILY", " @hourly ", "@every 1s",
		"@every 90s", "@every 5m", "@every 2h", "@every 1h30m",
		"@every 1d", "@every 1d2h3m4s", "@every 366d", "@every 0h1s",
		"@every  10m ",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		cron_free(parse_ok(good[i]));
}

struct bad_case {
	const char	*expr;
	int		 pos;
	const char	*msg;
};

TEST(invalid_expressions_say_where_and_why)
{
	static const struct bad_case bad[] = {
		{ "61 * * * *", 0, "minute: 61 is out of range 0-59" },
		{ "* 24 * * *", 2, "hour: 24 is out of range 0-23" },
		{ "* * 0 * *", 4, "day-of-month: 0 is out of range 1-31" },
		{ "* * 32 * *", 4, "day-of-month: 32 is out of range 1-31" },
		{ "* * * 13 *", 6, "month: 13 is out of range 1-12" },
		{ "* * * * 8", 8, "day-of-week: 8 is out of range 0-7" },
		{ "* * * * 1-8", 10, "day-of-week: 8 is out of range 0-7" },
		{ "99999999999 * * * *", 0,
		    "minute: 999999999... is out of range 0-59" },
		{ "* * * *", 7, "expected 5 fields, found 4" },
		{ "", 0, "expected 5 fields, found 0" },
		{ "   ", 3, "expected 5 fields, found 0" },
		{ "* * * * * *", 10, "expected 5 fields, found 6" },
		{ "* * * * * * *", 10, "expected 5 fields, found 7" },
		{ "x * * * *", 0, "unexpected character 'x'" },
		{ "*x * * * *", 1, "unexpected character 'x'" },
		{ "1,,2 * * * *", 2, "unexpected character ','" },
		{ "1, * * * *", 2, "unexpected character ' '" },
		{ "1- * * * *", 2, "unexpected character ' '" },
		{ "1-2-3 * * * *", 3, "unexpected character '-'" },
		{ "*/ * * * *", 2, "unexpected character ' '" },
		{ "*/0 * * * *", 2, "minute: step 0 is out of range 1-60" },
		{ "*/61 * * * *", 2, "minute: step 61 is out of range 1-60" },
		{ "*/1234567890123 * * * *", 2,
		    "minute: step 123456789... is out of range 1-60" },
		{ "5-1 * * * *", 0, "minute: range 5-1 is backwards" },
		{ "* * * DEC-JAN *", 6, "month: range 12-1 is backwards" },
		{ "* * * FOO *", 6, "month: unknown name 'FOO'" },
		{ "* * * * MONDAY", 8, "day-of-week: unknown name 'MONDAY'" },
		{ "* * * * JAN", 8, "day-of-week: unknown name 'JAN'" },
		{ "JAN * * * *", 0, "unexpected character 'J'" },
		{ "* * * * *\n", 9, "unexpected character 0x0a" },
		{ "* * * * *;", 9, "unexpected character ';'" },
		{ "-1 * * * *", 0, "unexpected character '-'" },
		{ "@reboot", 0, "unknown macro '@reboot'" },
		{ "@", 0, "unknown macro '@'" },
		{ "@daily extra", 7, "unexpected character 'e'" },
		{ "@every", 6,
		    "@every: expected a duration such as 90s, 5m or 1h30m" },
		{ "@every 0s", 7, "@every: the period must be at least 1s" },
		{ "@every 367d", 7, "@every: the period must be at most 366d" },
		{ "@every 366d1s", 7, "@every: the period must be at most 366d" },
		{ "@every 99999999999999999999s", 7,
		    "@every: the period must be at most 366d" },
		{ "@every 5", 8, "@every: a unit (d, h, m or s) must follow 5" },
		{ "@every 5x", 8, "@every: unexpected character 'x' (units d, "
		    "h, m, s, largest first)" },
		{ "@every 30m1h", 11, "@every: unexpected character 'h' (units "
		    "d, h, m, s, largest first)" },
		{ "@every 1m1m", 10, "@every: unexpected character 'm' (units "
		    "d, h, m, s, largest first)" },
		{ "@every 1.5h", 8, "@every: unexpected character '.' (units "
		    "d, h, m, s, largest first)" },
		{ "@every -5m", 7,
		    "@every: expected a duration such as 90s, 5m or 1h30m" },
		{ "@every 5m x", 10, "unexpected character 'x'" },
	};
	char long_expr[CRON_EXPR_MAX + 2];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct cron		*c = (struct cron *)1;
		struct cron_error	 err;
		int			 rc = cron_parse(bad[i].expr, &c, &err);

		if (rc != -EINVAL || c != NULL || err.pos != bad[i].pos ||
		    strcmp(err.msg, bad[i].msg) != 0)
			FAIL("\"%s\": rc %d pos %d \"%s\", want pos %d \"%s\"",
			    bad[i].expr, rc, err.pos, err.msg, bad[i].pos,
			    bad[i].msg);
		/* err may be NULL */
		ASSERT_INT(cron_parse(bad[i].expr, &c, NULL), ==, -EINVAL);
	}
	memset(long_expr, ' ', sizeof(long_expr));
	memcpy(long_expr, "* * * * *", 9);
	long_expr[CRON_EXPR_MAX] = '\0';
	cron_free(parse_ok(long_expr));
	long_expr[CRON_EXPR_MAX] = ' ';
	long_expr[CRON_EXPR_MAX + 1] = '\0';
	{
		struct cron		*c;
		struct cron_error	 err;

		ASSERT_INT(cron_parse(long_expr, &c, &err), ==, -EINVAL);
		ASSERT_INT(err.pos, ==, CRON_EXPR_MAX);
		ASSERT_STR(err.msg, "expression longer than 256 characters");
	}
}

struct next_case {
	const char	*zone;
	const char	*expr;
	const char	*after;
	const char	*want;
};

static void
check_next(const struct next_case *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct cron	*c = parse_ok(t[i].expr);
		struct tz	*tz = zone(t[i].zone);
		int64_t		 got = cron_next(c, tz, ms(t[i].after));
		char		 text[CLOCK_TEXT_SIZE] = "-1";

		if (got != ms(t[i].want)) {
			if (got >= 0)
				clock_format_ms(got, text);
			FAIL("%s \"%s\" after %s: %s, want %s", t[i].zone,
			    t[i].expr, t[i].after, text, t[i].want);
		}
		cron_free(c);
		tz_free(tz);
	}
}

TEST(next_fire_times)
{
	/* each row checked with a minute-by-minute Python model (zoneinfo) */
	static const struct next_case rows[] = {
	{ "UTC", "* * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z" },
	{ "UTC", "* * * * *", "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z" },
	{ "UTC", "0 0 1 1 *", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z" },
	{ "UTC", "59 23 31 12 *", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z" },
	{ "UTC", "0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z" },
	{ "UTC", "0 0 13 * 1", "2026-03-10T00:00:00Z", "2026-03-13T00:00:00Z" },
	{ "UTC", "0 0 13 * 1", "2026-03-13T00:00:00Z", "2026-03-16T00:00:00Z" },
	{ "UTC", "0 0 * * 1", "2026-03-10T00:00:00Z", "2026-03-16T00:00:00Z" },
	{ "UTC", "0 0 13 * *", "2026-03-10T00:00:00Z", "2026-03-13T00:00:00Z" },
	{ "UTC", "0 0 */10 * 1", "2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z" },
	{ "UTC", "0 12 * * 7", "2026-03-10T00:00:00Z", "2026-03-15T12:00:00Z" },
	{ "UTC", "*/15 9-17 * * MON-FRI", "2026-03-13T17:50:00Z", "2026-03-16T09:00:00Z" },
	{ "UTC", "30 4 1,15 * *", "2026-03-15T04:30:00Z", "2026-04-01T04:30:00Z" },
	{ "UTC", "0 0 1 JAN,jul *", "2026-01-01T00:00:00Z", "2026-07-01T00:00:00Z" },
	{ "UTC", "0 0 31 2 1", "2026-01-01T00:00:00Z", "2026-02-02T00:00:00Z" },
	{ "UTC", "5/20 * * * *", "2026-01-01T00:45:00Z", "2026-01-01T01:05:00Z" },
	{ "Europe/Berlin", "30 2 * * *", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z" },
	{ "Europe/Berlin", "30 2 * * *", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z" },
	{ "Europe/Berlin", "0 2 * * *", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z" },
	{ "Europe/Berlin", "0 3 * * *", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00Z" },
	{ "Europe/Berlin", "0 2,3 * * *", "2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z" },
	{ "Europe/Berlin", "30 2 29 3 *", "2026-01-01T00:00:00Z", "2026-03-29T01:00:00Z" },
	{ "Europe/Berlin", "30 2 * * *", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z" },
	{ "Europe/Berlin", "30 2 * * *", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z" },
	{ "Europe/Berlin", "30 2 * * *", "2026-10-25T01:10:00Z", "2026-10-26T01:30:00Z" },
	{ "Europe/Berlin", "0 2 * * *", "2026-10-25T00:00:00Z", "2026-10-26T01:00:00Z" },
	{ "Europe/Berlin", "30 * * * *", "2026-03-29T00:00:00Z", "2026-03-29T00:30:00Z" },
	{ "Europe/Berlin", "30 * * * *", "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z" },
	{ "Europe/Berlin", "30 * * * *", "2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z" },
	{ "Europe/Berlin", "30 * * * *", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z" },
	{ "Europe/Berlin", "*/15 2 * * *", "2026-03-28T12:00:00Z", "2026-03-30T00:00:00Z" },
	{ "Europe/Berlin", "*/15 2 * * *", "2026-10-25T00:45:00Z", "2026-10-25T01:00:00Z" },
	{ "Europe/Berlin", "@daily", "2026-03-28T12:00:00Z", "2026-03-28T23:00:00Z" },
	{ "Europe/Berlin", "@daily", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z" },
	{ "Europe/Berlin", "@hourly", "2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z" },
	{ "Europe/Berlin", "@hourly", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z" },
	{ "Europe/Berlin", "@hourly", "2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z" },
	{ "America/New_York", "30 2 * * *", "2026-03-07T12:00:00Z", "2026-03-08T07:00:00Z" },
	{ "America/New_York", "30 1 * * *", "2026-10-31T12:00:00Z", "2026-11-01T05:30:00Z" },
	{ "America/New_York", "30 1 * * *", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z" },
	{ "America/New_York", "30 * * * *", "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z" },
	{ "America/New_York", "30 * * * *", "2026-11-01T06:30:00Z", "2026-11-01T07:30:00Z" },
	{ "America/New_York", "0 0 * * *", "2026-03-07T12:00:00Z", "2026-03-08T05:00:00Z" },
	{ "Australia/Lord_Howe", "15 2 * * *", "2026-10-03T00:00:00Z", "2026-10-03T15:30:00Z" },
	{ "Australia/Lord_Howe", "0 2 * * *", "2026-10-03T00:00:00Z", "2026-10-03T15:30:00Z" },
	{ "Australia/Lord_Howe", "45 1 * * *", "2026-04-04T00:00:00Z", "2026-04-04T14:45:00Z" },
	{ "Australia/Lord_Howe", "45 1 * * *", "2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z" },
	{ "Australia/Lord_Howe", "*/30 * * * *", "2026-04-04T14:30:00Z", "2026-04-04T15:00:00Z" },
	{ "Australia/Lord_Howe", "*/30 * * * *", "2026-04-04T15:00:00Z", "2026-04-04T15:30:00Z" },
	{ "Australia/Lord_Howe", "*/30 * * * *", "2026-10-03T15:00:00Z", "2026-10-03T15:30:00Z" },
	{ "Asia/Kolkata", "0 9 * * *", "2026-01-01T00:00:00Z", "2026-01-01T03:30:00Z" },
	{ "Asia/Kolkata", "30 23 31 12 *", "2026-06-01T00:00:00Z", "2026-12-31T18:00:00Z" },
	{ "Asia/Kolkata", "*/45 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:15:00Z" },
	};

	if (!have_tzdata())
		return;
	check_next(rows, sizeof(rows) / sizeof(*rows));
}

TEST(next_fire_times_far_apart_or_never)
{
	static const struct next_case rows[] = {
		{ "UTC", "0 0 29 2 *", "2026-03-01T00:00:00Z",
		    "2028-02-29T00:00:00Z" },
		/* 2100 is no leap year: eight years */
		{ "UTC", "0 0 29 2 *", "2096-03-01T00:00:00Z",
		    "2104-02-29T00:00:00Z" },
		{ "UTC", "0 0 1 1 *", "2099-12-31T23:59:59.999Z",
		    "2100-01-01T00:00:00Z" },
		{ "UTC", "@yearly", "2026-01-01T00:00:00Z",
		    "2027-01-01T00:00:00Z" },
		{ "UTC", "0 0 30 2 *", "2026-01-01T00:00:00Z", "-1" },
		{ "UTC", "0 0 31 4,6,9,11 *", "2026-01-01T00:00:00Z", "-1" },
		{ "UTC", "0 0 31 2 *", "2026-01-01T00:00:00Z", "-1" },
		{ "UTC", "* * * * *", "2026-01-01T00:00:30.500Z",
		    "2026-01-01T00:01:00Z" },
		/* Friday the 13th, a Monday 1 January: only by the OR rule */
		{ "UTC", "0 0 13 1 5", "2026-01-01T00:00:00Z",
		    "2026-01-02T00:00:00Z" },
	};

	struct tz	*utc = zone("UTC");
	struct cron	*c = parse_ok("* * * * *");

	check_next(rows, sizeof(rows) / sizeof(*rows));
	/* before 1970: milliseconds round down, not toward zero */
	ASSERT_INT(cron_next(c, utc, -1), ==, 0);
	ASSERT_INT(cron_next(c, utc, -60001), ==, -60000);
	ASSERT_INT(cron_next(c, utc, -60000), ==, 0);
	cron_free(c);
	c = parse_ok("0 0 1 1 *");
	/* 1900-01-01 from 1899-06-01 */
	ASSERT_INT(cron_next(c, utc, -2227478400000), ==, -2208988800000);
	cron_free(c);
	tz_free(utc);
}

TEST(never_firing_expressions_answer_minus_one_in_every_zone)
{
	static const char *zones[] = { "UTC", "Europe/Berlin",
	    "Australia/Lord_Howe" };
	static const char *exprs[] = { "0 0 30 2 *", "* * 31 11 *",
	    "0 2 31 2,4 *" };

	for (size_t z = 0; z < sizeof(zones) / sizeof(*zones); z++) {
		struct tz *tz;

		if (tz_load(zones[z], &tz) != 0)
			continue;
		for (size_t e = 0; e < sizeof(exprs) / sizeof(*exprs); e++) {
			struct cron *c = parse_ok(exprs[e]);

			ASSERT_INT(cron_next(c, tz, ms("2026-05-01T00:00:00Z")),
			    ==, -1);
			cron_free(c);
		}
		tz_free(tz);
	}
}

TEST(every_adds_its_period_whatever_the_zone)
{
	static const struct { const char *expr; int64_t period_ms; } rows[] = {
		{ "@every 1s", 1000 }, { "@every 90s", 90000 },
		{ "@every 5m", 300000 }, { "@every 2h", 7200000 },
		{ "@every 1h30m", 5400000 }, { "@every 1d", 86400000 },
		{ "@every 366d", 366LL * 86400000 },
	};
	struct tz	*utc = zone("UTC");
	int64_t		 t = ms("2026-03-29T00:59:59.250Z");

	for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
		struct cron *c = parse_ok(rows[i].expr);

		ASSERT_INT(cron_every_ms(c), ==, rows[i].period_ms);
		ASSERT_INT(cron_next(c, utc, t), ==, t + rows[i].period_ms);
		cron_free(c);
	}
	if (have_tzdata()) {
		struct tz	*berlin = zone("Europe/Berlin");
		struct cron	*c = parse_ok("@every 1h");

		/* across the spring gap: one hour of UTC, not of wall clock */
		ASSERT_INT(cron_next(c, berlin, t), ==, t + 3600000);
		cron_free(c);
		tz_free(berlin);
	}
	{
		struct cron *c = parse_ok("* * * * *");

		ASSERT_INT(cron_every_ms(c), ==, 0);
		cron_free(c);
	}
	tz_free(utc);
}

TEST(out_of_range_instants_answer_minus_one)
{
	struct tz	*utc = zone("UTC");
	struct cron	*c = parse_ok("* * * * *");

	ASSERT_INT(cron_next(c, utc, INT64_MAX), ==, -1);
	ASSERT_INT(cron_next(c, utc, INT64_MIN), ==, -1);
	cron_free(c);
	c = parse_ok("@every 1s");
	ASSERT_INT(cron_next(c, utc, INT64_MAX), ==, -1);
	cron_free(c);
	tz_free(utc);
}

/* Random strings of cron's own words: refused cleanly or usable. */
TEST(random_expressions_are_refused_cleanly_or_work)
{
	static const char *words[] = { "*", "*/5", "1-5", "0", "59", "JAN",
	    "mon", "1,2", "7", "@every", "1h", "@daily", "x", "-", "/", ",",
	    "31", "2", "60", "5/", "\t", "1d1s" };
	struct tz	*utc = zone("UTC");
	unsigned	 seed = 99;
	int		 parsed = 0;

	for (int i = 0; i < 20000; i++) {
		struct cron		*c;
		struct cron_error	 err;
		char			 expr[128] = "";
		int			 n;

		seed = seed * 1103515245u + 12345u;
		n = 3 + (int)((seed >> 16) % 5);
		for (int k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			strcat(expr, words[(seed >> 16) %
			    (sizeof(words) / sizeof(*words))]);
			if ((seed >> 8) % 5 != 0)
				strcat(expr, " ");
		}
		if (cron_parse(expr, &c, &err) != 0) {
			ASSERT(err.pos >= 0 && (size_t)err.pos <= strlen(expr));
			ASSERT(err.msg[0] != '\0');
			continue;
		}
		parsed++;
		ASSERT(cron_next(c, utc, 0) != 0);
		cron_free(c);
	}
	ASSERT_INT(parsed, >, 10);
	tz_free(utc);
}

/*
 * The oracle: generated expressions (each field from a list whose
 * values and wildcard-ness the oracle knows), a fire time found minute
 * by minute with glibc's localtime_r and the rules of cron.h.
 */
struct opt {
	const char	*text;
	uint64_t	 bits;
	int		 whole;
};

#define B(n)	((uint64_t)1 << (n))
static const struct opt minutes[] = {
	{ "*", ~(uint64_t)0 >> 4, 1 }, { "*/15", B(0) | B(15) | B(30) | B(45), 1 },
	{ "0", B(0), 0 }, { "30", B(30), 0 }, { "0,30", B(0) | B(30), 0 },
	{ "15-45/15", B(15) | B(30) | B(45), 0 }, { "59", B(59), 0 },
};
static const struct opt hours[] = {
	{ "*", 0xffffff, 1 }, { "*/2", 0x555555, 1 }, { "1", B(1), 0 },
	{ "2", B(2), 0 }, { "3", B(3), 0 }, { "1-3", B(1) | B(2) | B(3), 0 },
	{ "2,3", B(2) | B(3), 0 }, { "0", B(0), 0 },
};
static const struct opt mdays[] = {
	{ "*", 0xfffffffe, 1 }, { "*", 0xfffffffe, 1 }, { "4,5", B(4) | B(5), 0 },
	{ "25-31", 0xfe000000, 0 }, { "*/2", 0xaaaaaaaa, 0 },
};
static const struct opt months[] = {
	{ "*", 0x1ffe, 1 }, { "*", 0x1ffe, 1 }, { "3,4,10", B(3) | B(4) | B(10), 0 },
	{ "SEP-NOV", B(9) | B(10) | B(11), 0 },
};
static const struct opt wdays[] = {
	{ "*", 0x7f, 1 }, { "*", 0x7f, 1 }, { "0", B(0), 0 }, { "SUN", B(0), 0 },
	{ "1-5", 0x3e, 0 }, { "6,7", B(6) | B(0), 0 },
};
#define PICK(a, r)	(&(a)[(r) % (sizeof(a) / sizeof(*(a)))])

struct model {
	const struct opt	*f[5];
	int			 fixed;
};

static int
model_matches(const struct model *m, int64_t local_sec)
{
	time_t		t = (time_t)local_sec;
	struct tm	tm;
	int		dom, dow;

	gmtime_r(&t, &tm);
	if (!(m->f[0]->bits >> tm.tm_min & 1) ||
	    !(m->f[1]->bits >> tm.tm_hour & 1) ||
	    !(m->f[3]->bits >> (tm.tm_mon + 1) & 1))
		return 0;
	dom = m->f[2]->bits >> tm.tm_mday & 1;
	dow = m->f[4]->bits >> tm.tm_wday & 1;
	if (m->f[4]->bits == 0x7f)
		return dom;
	if (m->f[2]->bits == 0xfffffffe)
		return dow;
	return dom || dow;
}

static int64_t
local_of(int64_t u)
{
	time_t		t = (time_t)u;
	struct tm	tm;

	localtime_r(&t, &tm);
	return u + tm.tm_gmtoff;
}

/* The first fire time after after_sec within limit seconds, or -1. */
static int64_t
model_next(const struct model *m, int64_t after_sec, int64_t limit)
{
	for (int64_t u = (after_sec / 60 + 1) * 60; u < after_sec + limit;
	    u += 60) {
		int64_t	l = local_of(u), lp = local_of(u - 60);
		int	first = 1;

		if (!m->fixed) {
			if (model_matches(m, l))
				return u;
			continue;
		}
		/* the clocks jumped at u: what they jumped over fires now */
		for (int64_t x = lp + 60; x < l; x += 60)
			if (model_matches(m, x))
				return u;
		if (!model_matches(m, l))
			continue;
		for (int k = 1; k <= 180 && first; k++)
			if (local_of(u - 60 * k) == l)
				first = 0;
		if (first)
			return u;
	}
	return -1;
}

TEST(fire_times_agree_with_a_minute_by_minute_oracle)
{
	static const char *zones[] = { "Europe/Berlin", "America/New_York",
	    "Australia/Lord_Howe", "Asia/Kolkata", "UTC" };
	const int64_t	 window = 3 * 86400;
	unsigned	 seed = 12345;
	int		 cases = 0, fired = 0;

	if (!have_tzdata())
		return;
	for (size_t z = 0; z < sizeof(zones) / sizeof(*zones); z++) {
		struct tz	*tz = zone(zones[z]);
		struct tz_span	 s;
		int64_t		 starts[16];
		int		 nstarts = 0;

		setenv("TZ", zones[z], 1);
		tzset();
		/* around each transition of 2026, and one quiet day */
		starts[nstarts++] = ms("2026-06-10T10:00:00Z") / 1000;
		tz_span_at(tz, ms("2026-01-01T00:00:00Z") / 1000, &s);
		while (s.end_sec < ms("2027-01-01T00:00:00Z") / 1000 &&
		    nstarts < 16) {
			starts[nstarts++] = s.end_sec - 86400 - 7;
			starts[nstarts++] = s.end_sec - 3 * 3600 + 1;
			tz_span_at(tz, s.end_sec, &s);
		}
		for (int i = 0; i < 60; i++) {
			struct model	 m;
			struct cron	*c;
			char		 expr[128];
			int64_t		 after, want, got;

			for (int f = 0; f < 5; f++) {
				seed = seed * 1103515245u + 12345u;
				m.f[f] = f == 0 ? PICK(minutes, seed >> 16) :
				    f == 1 ? PICK(hours, seed >> 16) :
				    f == 2 ? PICK(mdays, seed >> 16) :
				    f == 3 ? PICK(months, seed >> 16) :
				    PICK(wdays, seed >> 16);
			}
			m.fixed = !m.f[0]->whole && !m.f[1]->whole;
			snprintf(expr, sizeof(expr), "%s %s %s %s %s",
			    m.f[0]->text, m.f[1]->text, m.f[2]->text,
			    m.f[3]->text, m.f[4]->text);
			c = parse_ok(expr);
			after = starts[i % nstarts];
			/* and walk a few fire times on from there */
			for (int k = 0; k < 4; k++) {
				want = model_next(&m, after, window);
				got = cron_next(c, tz, after * 1000 + 999);
				if (want == -1 && (got == -1 ||
				    got >= (after + window) * 1000))
					break;
				if (got != want * 1000)
					FAIL("%s \"%s\" after %lld: %lld, "
					    "oracle %lld", zones[z], expr,
					    (long long)after, (long long)got,
					    (long long)want * 1000);
				fired++;
				after = want;
			}
			cases++;
			cron_free(c);
		}
		tz_free(tz);
	}
	ASSERT_INT(cases, ==, 300);
	ASSERT_INT(fired, >, 300);
}

TEST_MAIN_BEGIN
	RUN(valid_expressions_parse);
	RUN(invalid_expressions_say_where_and_why);
	RUN(next_fire_times);
	RUN(next_fire_times_far_apart_or_never);
	RUN(never_firing_expressions_answer_minus_one_in_every_zone);
	RUN(every_adds_its_period_whatever_the_zone);
	RUN(out_of_range_instants_answer_minus_one);
	RUN(random_expressions_are_refused_cleanly_or_work);
	RUN(fire_times_agree_with_a_minute_by_minute_oracle);
TEST_MAIN_END
