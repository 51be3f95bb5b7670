/*
 * Cron expressions: the parser (fields into bit sets, macros, @every)
 * with positioned error messages, and cron_next, which walks the zone's
 * spans of constant offset and, in each, finds the first matching local
 * time by skipping month, day, hour and minute in turn.  The DST rules
 * are in cron.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "cron.h"

#define CRON_FIXED	0x01	/* neither minute nor hour is a wildcard */
#define CRON_DOM_ALL	0x02	/* day-of-month unrestricted */
#define CRON_DOW_ALL	0x04	/* day-of-week unrestricted */
#define CRON_NEVER	0x08	/* no month has a day the fields allow */

/* after_ms farther from 1970 than this (about 285 000 years): -1 */
#define CRON_MS_LIMIT	((int64_t)1 << 53)

struct cron {
	uint64_t	minutes;	/* bit n: minute n */
	uint32_t	hours;
	uint32_t	mdays;		/* bits 1-31 */
	uint32_t	months;		/* bits 1-12 */
	uint32_t	wdays;		/* bits 0-6, Sunday 0 */
	int		flags;
	int64_t		every_ms;	/* @every; 0 for the fields */
};

enum field { F_MINUTE, F_HOUR, F_MDAY, F_MONTH, F_WDAY, F_COUNT };

static const struct field_desc {
	const char	*name;
	int		 min, max;	/* max 7 for day-of-week: Sunday again */
} fields[F_COUNT] = {
	{ "minute", 0, 59 },
	{ "hour", 0, 23 },
	{ "day-of-month", 1, 31 },
	{ "month", 1, 12 },
	{ "day-of-week", 0, 7 },
};

static const char *month_names[] = { "jan", "feb", "mar", "apr", "may",
    "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *wday_names[] = { "sun", "mon", "tue", "wed", "thu",
    "fri", "sat" };

static const struct macro {
	const char	*name;
	const char	*fields;
} macros[] = {
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
};

struct parser {
	const char		*s;
	size_t			 pos;
	struct cron_error	*err;
};

static int
fail(struct parser *p, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;

	if (p->err != NULL) {
		p->err->pos = (int)pos;
		va_start(ap, fmt);
		vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static int
is_alpha(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* A character for a message: itself if printable, else a hex escape. */
static const char *
show(char ch, char buf[8])
{
	unsigned char c = (unsigned char)ch;

	if (c >= 0x21 && c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "0x%02x", c);
	return buf;
}

static int
unexpected(struct parser *p)
{
	char buf[8];

	if (p->s[p->pos] == '\0')
		return fail(p, p->pos, "unexpected end of expression");
	return fail(p, p->pos, "unexpected character %s",
	    show(p->s[p->pos], buf));
}

/* A number (at most 9 digits kept) or a month or day name. */
static int
parse_value(struct parser *p, enum field f, int *out)
{
	const struct field_desc	*fd = &fields[f];
	size_t			 start = p->pos, n = 0;
	long			 v = 0;
	char			 name[4];

	if (is_digit(p->s[p->pos])) {
		while (is_digit(p->s[p->pos])) {
			if (v < 100000000)
				v = v * 10 + (p->s[p->pos] - '0');
			p->pos++;
		}
		if (v < fd->min || v > fd->max)
			return fail(p, start, "%s: %.*s%s is out of range "
			    "%d-%d", fd->name,
			    (int)(p->pos - start > 9 ? 9 : p->pos - start),
			    p->s + start, p->pos - start > 9 ? "..." : "",
			    fd->min, fd->max);
		*out = (int)v;
		return 0;
	}
	if (!is_alpha(p->s[p->pos]) || (f != F_MONTH && f != F_WDAY))
		return unexpected(p);
	while (is_alpha(p->s[p->pos])) {
		if (n < 3)
			name[n] = (char)(p->s[p->pos] | 0x20);
		n++;
		p->pos++;
	}
	if (n == 3) {
		const char	**names = f == F_MONTH ? month_names :
		    wday_names;
		int		  count = f == F_MONTH ? 12 : 7;

		name[3] = '\0';
		for (int i = 0; i < count; i++)
			if (strcmp(names[i], name) == 0) {
				*out = i + fd->min;
				return 0;
			}
	}
	return fail(p, start, "%s: unknown name '%.*s'", fd->name,
	    (int)(n > 12 ? 12 : n), p->s + start);
}

/*
 * One item: "*", "a", "a-b", each with an optional "/n".  Sets its bits
 * in *bits and *whole if it covers the field's whole range.
 */
static int
parse_item(struct parser *p, enum field f, uint64_t *bits, int *whole)
{
	const struct field_desc	*fd = &fields[f];
	int			 lo, hi, step = 1, rc, star = 0, ranged = 0;
	size_t			 start;

	if (p->s[p->pos] == '*') {
		p->pos++;
		lo = fd->min;
		hi = fd->max;
		star = 1;
	} else {
		start = p->pos;
		if ((rc = parse_value(p, f, &lo)) != 0)
			return rc;
		hi = lo;
		if (p->s[p->pos] == '-') {
			p->pos++;
			if ((rc = parse_value(p, f, &hi)) != 0)
				return rc;
			if (hi < lo)
				return fail(p, start, "%s: range %d-%d is "
				    "backwards", fd->name, lo, hi);
			ranged = 1;
		}
	}
	if (p->s[p->pos] == '/') {
		long v = 0;

		p->pos++;
		start = p->pos;
		if (!is_digit(p->s[p->pos]))
			return unexpected(p);
		while (is_digit(p->s[p->pos])) {
			if (v < 100000000)
				v = v * 10 + (p->s[p->pos] - '0');
			p->pos++;
		}
		if (v < 1 || v > fd->max - fd->min + 1)
			return fail(p, start, "%s: step %.*s is out of range "
			    "1-%d", fd->name,
			    (int)(p->pos - start > 9 ? 9 : p->pos - start),
			    p->s + start, fd->max - fd->min + 1);
		step = (int)v;
		/* "a/n" runs from a to the field's end */
		if (!star && !ranged)
			hi = fd->max;
	}
	for (int v = lo; v <= hi; v += step)
		*bits |= (uint64_t)1 << (f == F_WDAY ? v % 7 : v);
	if (lo == fd->min && hi >= fd->max - (f == F_WDAY))
		*whole = 1;
	return 0;
}

static int
parse_field(struct parser *p, enum field f, uint64_t *bits, int *whole)
{
	int rc;

	*bits = 0;
	*whole = 0;
	for (;;) {
		if ((rc = parse_item(p, f, bits, whole)) != 0)
			return rc;
		if (p->s[p->pos] != ',')
			break;
		p->pos++;
	}
	if (p->s[p->pos] != '\0' && !is_blank(p->s[p->pos]))
		return unexpected(p);
	return 0;
}

static void
skip_blanks(struct parser *p)
{
	while (is_blank(p->s[p->pos]))
		p->pos++;
}

/* Whether some allowed month has some allowed day of the month. */
static int
can_fire(const struct cron *c)
{
	static const int longest[13] = { 0, 31, 29, 31, 30, 31, 30, 31, 31,
	    30, 31, 30, 31 };

	if (!(c->flags & CRON_DOW_ALL) && !(c->flags & CRON_DOM_ALL))
		return 1;
	for (int m = 1; m <= 12; m++) {
		uint32_t days = (uint32_t)((UINT64_C(1) << (longest[m] + 1)) - 2);

		if ((c->months & (1u << m)) && (c->mdays & days))
			return 1;
	}
	return 0;
}

static int
parse_fields(struct parser *p, struct cron *c)
{
	uint64_t	bits[F_COUNT];
	int		whole[F_COUNT], rc, n = 0;
	size_t		extra;

	for (n = 0; n < F_COUNT; n++) {
		skip_blanks(p);
		if (p->s[p->pos] == '\0')
			return fail(p, p->pos, "expected 5 fields, found %d", n);
		if ((rc = parse_field(p, (enum field)n, &bits[n], &whole[n])) != 0)
			return rc;
	}
	skip_blanks(p);
	if (p->s[p->pos] != '\0') {
		extra = p->pos;
		while (p->s[p->pos] != '\0') {
			while (p->s[p->pos] != '\0' && !is_blank(p->s[p->pos]))
				p->pos++;
			skip_blanks(p);
			n++;
		}
		return fail(p, extra, "expected 5 fields, found %d", n);
	}
	c->minutes = bits[F_MINUTE];
	c->hours = (uint32_t)bits[F_HOUR];
	c->mdays = (uint32_t)bits[F_MDAY];
	c->months = (uint32_t)bits[F_MONTH];
	c->wdays = (uint32_t)bits[F_WDAY];
	if (!whole[F_MINUTE] && !whole[F_HOUR])
		c->flags |= CRON_FIXED;
	if (c->mdays == 0xfffffffeu)
		c->flags |= CRON_DOM_ALL;
	if (c->wdays == 0x7f)
		c->flags |= CRON_DOW_ALL;
	if (!can_fire(c))
		c->flags |= CRON_NEVER;
	return 0;
}

/* "<n>d<n>h<n>m<n>s", units largest first, each at most once. */
static int
parse_every(struct parser *p, struct cron *c)
{
	static const struct { char unit; int64_t sec; } units[] = {
		{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
	};
	size_t	 start, u = 0;
	int64_t	 total = 0, v;

	skip_blanks(p);
	start = p->pos;
	if (!is_digit(p->s[p->pos]))
		return fail(p, p->pos, "@every: expected a duration such as "
		    "90s, 5m or 1h30m");
	while (is_digit(p->s[p->pos])) {
		size_t at = p->pos;

		v = 0;
		while (is_digit(p->s[p->pos])) {
			if (v <= CRON_EVERY_MAX_SEC)
				v = v * 10 + (p->s[p->pos] - '0');
			p->pos++;
		}
		while (u < 4 && units[u].unit != p->s[p->pos])
			u++;
		if (u == 4) {
			char buf[8];

			if (p->s[p->pos] == '\0' || is_blank(p->s[p->pos]))
				return fail(p, p->pos, "@every: a unit (d, h, "
				    "m or s) must follow %.*s",
				    (int)(p->pos - at > 9 ? 9 : p->pos - at),
				    p->s + at);
			return fail(p, p->pos, "@every: unexpected character "
			    "%s (units d, h, m, s, largest first)",
			    show(p->s[p->pos], buf));
		}
		if (v > CRON_EVERY_MAX_SEC)
			total = (int64_t)CRON_EVERY_MAX_SEC + 1;
		else
			total += v * units[u].sec;
		p->pos++;
		u++;
	}
	if (total == 0)
		return fail(p, start, "@every: the period must be at least 1s");
	if (total > CRON_EVERY_MAX_SEC)
		return fail(p, start, "@every: the period must be at most "
		    "%dd", CRON_EVERY_MAX_SEC / 86400);
	skip_blanks(p);
	if (p->s[p->pos] != '\0')
		return unexpected(p);
	c->every_ms = total * 1000;
	return 0;
}

static int
parse_macro(struct parser *p, struct cron *c)
{
	struct parser	 sub = { NULL, 0, NULL };
	size_t		 start = p->pos, n = 0;
	char		 word[16];

	while (p->s[p->pos] != '\0' && !is_blank(p->s[p->pos])) {
		/* Letters in any case; '@' | 0x20 would be '`'. */
		if (n < sizeof(word) - 1)
			word[n++] = is_alpha(p->s[p->pos]) ?
			    (char)(p->s[p->pos] | 0x20) : p->s[p->pos];
		p->pos++;
	}
	word[n] = '\0';
	if (strcmp(word, "@every") == 0 && p->pos - start == 6)
		return parse_every(p, c);
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
		if (strcmp(word, macros[i].name) != 0 ||
		    p->pos - start != strlen(macros[i].name))
			continue;
		skip_blanks(p);
		if (p->s[p->pos] != '\0')
			return unexpected(p);
		sub.s = macros[i].fields;
		return parse_fields(&sub, c);
	}
	return fail(p, start, "unknown macro '%.*s'",
	    (int)(p->pos - start > 16 ? 16 : p->pos - start), p->s + start);
}

int
cron_parse(const char *expr, struct cron **out, struct cron_error *err)
{
	struct parser	 p = { expr, 0, err };
	struct cron	*c = NULL;
	size_t		 len = strnlen(expr, CRON_EXPR_MAX + 1);
	int		 rc;

	*out = NULL;
	if (err != NULL)
		*err = (struct cron_error){ 0 };
	if (len > CRON_EXPR_MAX)
		return fail(&p, CRON_EXPR_MAX, "expression longer than %d "
		    "characters", CRON_EXPR_MAX);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	skip_blanks(&p);
	if (expr[p.pos] == '@')
		rc = parse_macro(&p, c);
	else
		rc = parse_fields(&p, c);
	if (rc != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	free(c);
	return rc;
}

void
cron_free(struct cron *c)
{
	free(c);
}

int64_t
cron_every_ms(const struct cron *c)
{
	return c->every_ms;
}

/* The lowest set bit of bits at or above from; -1 if none. */
static int
next_bit(uint64_t bits, int from)
{
	if (from >= 64)
		return -1;
	bits >>= from;
	return bits ? from + __builtin_ctzll(bits) : -1;
}

static int
day_matches(const struct cron *c, int mday, int64_t days)
{
	int dom = (c->mdays >> mday) & 1;
	int dow = (c->wdays >> civil_weekday(days)) & 1;

	if (c->flags & CRON_DOW_ALL)
		return dom;
	if (c->flags & CRON_DOM_ALL)
		return dow;
	return dom || dow;
}

/*
 * The first local time in [from, to) (seconds, as if local were UTC)
 * that the fields match, or -1.  Skips a month, a day, an hour at a time.
 */
static int64_t
match_local(const struct cron *c, int64_t from, int64_t to)
{
	int64_t	 t = civil_floor_div(from + 59, 60) * 60;
	int64_t	 days = civil_floor_div(t, CIVIL_DAY_SEC), year;
	int	 sod = (int)(t - days * CIVIL_DAY_SEC);
	int	 hour = sod / 3600, minute = sod % 3600 / 60, month, mday, v;

	civil_date(days, &year, &month, &mday);
	while (days * CIVIL_DAY_SEC < to) {
		if (!(c->months >> month & 1)) {
			if ((v = next_bit(c->months, month + 1)) == -1) {
				year++;
				v = next_bit(c->months, 1);
			}
			month = v;
			mday = 1;
			days = civil_days(year, month, 1);
			hour = minute = 0;
			continue;
		}
		v = day_matches(c, mday, days) ? next_bit(c->hours, hour) : -1;
		if (v == -1) {
			days++;
			if (++mday > civil_month_days(year, month)) {
				mday = 1;
				if (++month > 12) {
					month = 1;
					year++;
				}
			}
			hour = minute = 0;
			continue;
		}
		if (v != hour) {
			hour = v;
			minute = 0;
		}
		if ((v = next_bit(c->minutes, minute)) == -1) {
			/* hour 24 has no bit: the day branch moves on */
			hour++;
			minute = 0;
			continue;
		}
		t = days * CIVIL_DAY_SEC + hour * 3600 + v * 60;
		return t < to ? t : -1;
	}
	return -1;
}

int64_t
cron_next(const struct cron *c, const struct tz *tz, int64_t after_ms)
{
	struct tz_span	 s;
	int64_t		 after, limit, from, to, t;
	int		 first = 1, fixed = c->flags & CRON_FIXED;

	if (after_ms > CRON_MS_LIMIT || after_ms < -CRON_MS_LIMIT)
		return -1;
	if (c->every_ms > 0)
		return after_ms + c->every_ms;
	if (c->flags & CRON_NEVER)
		return -1;
	after = civil_floor_div(after_ms, 1000);
	limit = after + (int64_t)CRON_HORIZON_DAYS * CIVIL_DAY_SEC;
	tz_span_at(tz, after, &s);
	for (;;) {
		/* fire times are whole minutes: after + 1 s is "strictly after" */
		from = first ? after + 1 + s.utoff : s.start_sec + s.utoff;
		/* a fixed time the clocks went back over fired the first time */
		if (fixed && s.prev_utoff > s.utoff &&
		    s.start_sec != INT64_MIN &&
		    from < s.start_sec + s.prev_utoff)
			from = s.start_sec + s.prev_utoff;
		/* a fixed time the clocks jumped over fires as they land */
		if (fixed && !first && s.prev_utoff < s.utoff &&
		    match_local(c, s.start_sec + s.prev_utoff,
		    s.start_sec + s.utoff) != -1)
			return s.start_sec * 1000;
		to = (s.end_sec < limit ? s.end_sec : limit) + s.utoff;
		if ((t = match_local(c, from, to)) != -1)
			return (t - s.utoff) * 1000;
		if (s.end_sec >= limit)
			return -1;
		tz_span_at(tz, s.end_sec, &s);
		first = 0;
	}
}
