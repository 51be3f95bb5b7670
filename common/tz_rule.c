/*
 * POSIX TZ rules: the parser (names, offsets, Jn/n/Mm.w.d dates with
 * times) and the evaluation, which lists the changes of the years around
 * an instant and picks the ones that enclose it.  The year is taken in
 * local standard time, so that a rule whose DST runs all year
 * ("EST5EDT,0/0,J365/25") stays in DST across New Year.
 */
#include <errno.h>
#include <stdint.h>

#include "civil.h"
#include "tz_rule.h"

/* Years each side of the instant's year whose changes are listed. */
#define RULE_YEARS	2
#define RULE_EVENTS	(2 * (2 * RULE_YEARS + 1))

struct cursor {
	const char	*p;
	const char	*end;
};

static int
peek(const struct cursor *c)
{
	return c->p < c->end ? (unsigned char)*c->p : -1;
}

static int
is_alpha(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static int
is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

/* A zone abbreviation: three or more letters, or <...> of [A-Za-z0-9+-]. */
static int
parse_name(struct cursor *c)
{
	size_t n = 0;

	if (peek(c) == '<') {
		c->p++;
		while (is_alpha(peek(c)) || is_digit(peek(c)) ||
		    peek(c) == '+' || peek(c) == '-') {
			c->p++;
			n++;
		}
		if (peek(c) != '>')
			return -EINVAL;
		c->p++;
	} else {
		while (is_alpha(peek(c))) {
			c->p++;
			n++;
		}
	}
	return n >= 3 ? 0 : -EINVAL;
}

static int
parse_number(struct cursor *c, int max_digits, int *out)
{
	int v = 0, n = 0;

	while (is_digit(peek(c)) && n < max_digits) {
		v = v * 10 + (peek(c) - '0');
		c->p++;
		n++;
	}
	if (n == 0 || is_digit(peek(c)))
		return -EINVAL;
	*out = v;
	return 0;
}

/* [+-]hh[:mm[:ss]] with hh at most max_hours; the sign is kept as read. */
static int
parse_hms(struct cursor *c, int max_hours, int32_t *out)
{
	int	 sign = 1, h, m = 0, s = 0;

	if (peek(c) == '+' || peek(c) == '-') {
		sign = peek(c) == '-' ? -1 : 1;
		c->p++;
	}
	if (parse_number(c, 3, &h) != 0 || h > max_hours)
		return -EINVAL;
	if (peek(c) == ':') {
		c->p++;
		if (parse_number(c, 2, &m) != 0 || m > 59)
			return -EINVAL;
		if (peek(c) == ':') {
			c->p++;
			if (parse_number(c, 2, &s) != 0 || s > 59)
				return -EINVAL;
		}
	}
	*out = sign * (h * 3600 + m * 60 + s);
	return 0;
}

static int
parse_date(struct cursor *c, struct tz_rule_date *d)
{
	d->time_sec = 2 * 3600;
	if (peek(c) == 'J') {
		c->p++;
		d->kind = 'J';
		if (parse_number(c, 3, &d->n) != 0 || d->n < 1 || d->n > 365)
			return -EINVAL;
	} else if (peek(c) == 'M') {
		c->p++;
		d->kind = 'M';
		if (parse_number(c, 2, &d->month) != 0 || d->month < 1 ||
		    d->month > 12 || peek(c) != '.')
			return -EINVAL;
		c->p++;
		if (parse_number(c, 1, &d->week) != 0 || d->week < 1 ||
		    d->week > 5 || peek(c) != '.')
			return -EINVAL;
		c->p++;
		if (parse_number(c, 1, &d->wday) != 0 || d->wday > 6)
			return -EINVAL;
	} else {
		d->kind = 'D';
		if (parse_number(c, 3, &d->n) != 0 || d->n > 365)
			return -EINVAL;
	}
	if (peek(c) == '/') {
		c->p++;
		if (parse_hms(c, 167, &d->time_sec) != 0)
			return -EINVAL;
	}
	return 0;
}

int
tz_rule_parse(const char *s, size_t len, struct tz_rule *out)
{
	struct cursor	 c = { s, s + len };
	int32_t		 off;

	*out = (struct tz_rule){ 0 };
	if (parse_name(&c) != 0 || parse_hms(&c, 24, &off) != 0)
		return -EINVAL;
	/* POSIX offsets are west of Greenwich: "CET-1" is UTC+1. */
	out->std_utoff = -off;
	if (c.p == c.end)
		return 0;
	if (parse_name(&c) != 0)
		return -EINVAL;
	out->has_dst = 1;
	out->dst_utoff = out->std_utoff + 3600;
	if (peek(&c) != ',' && c.p != c.end) {
		if (parse_hms(&c, 24, &off) != 0)
			return -EINVAL;
		out->dst_utoff = -off;
	}
	if (c.p == c.end) {
		/* no dates: the US rule, as glibc assumes */
		out->start = (struct tz_rule_date){ 'M', 0, 3, 2, 0, 7200 };
		out->end = (struct tz_rule_date){ 'M', 0, 11, 1, 0, 7200 };
		return 0;
	}
	if (peek(&c) != ',')
		return -EINVAL;
	c.p++;
	if (parse_date(&c, &out->start) != 0 || peek(&c) != ',')
		return -EINVAL;
	c.p++;
	if (parse_date(&c, &out->end) != 0 || c.p != c.end)
		return -EINVAL;
	return 0;
}

/* Local seconds (as if UTC) at which date d falls in year. */
static int64_t
date_local_sec(const struct tz_rule_date *d, int64_t year)
{
	int64_t	 days = civil_days(year, 1, 1);
	int	 day, mdays;

	switch (d->kind) {
	case 'J':
		days += d->n - 1 + (civil_is_leap(year) && d->n >= 60);
		break;
	case 'D':
		days += d->n;
		break;
	default:
		days = civil_days(year, d->month, 1);
		day = (d->wday - civil_weekday(days) + 7) % 7 +
		    (d->week - 1) * 7;
		mdays = civil_month_days(year, d->month);
		while (day >= mdays)
			day -= 7;
		days += day;
		break;
	}
	return days * CIVIL_DAY_SEC + d->time_sec;
}

struct event {
	int64_t	at;
	int32_t	utoff;		/* in force from at on */
	int	to_dst;
};

void
tz_rule_span(const struct tz_rule *r, int64_t utc_sec, int64_t *start_sec,
    int64_t *end_sec, int32_t *utoff, int32_t *prev_utoff)
{
	struct event	 ev[RULE_EVENTS], tmp;
	int64_t		 t, year;
	int32_t		 cur, before;
	int		 n = 0, month, day;

	*start_sec = INT64_MIN;
	*end_sec = INT64_MAX;
	*utoff = *prev_utoff = r->std_utoff;
	if (!r->has_dst)
		return;
	/* Far beyond any calendar a schedule asks about: no overflow. */
	t = utc_sec;
	if (t > ((int64_t)1 << 50))
		t = (int64_t)1 << 50;
	if (t < -((int64_t)1 << 50))
		t = -((int64_t)1 << 50);
	civil_date(civil_floor_div(t + r->std_utoff, CIVIL_DAY_SEC), &year,
	    &month, &day);
	for (int64_t y = year - RULE_YEARS; y <= year + RULE_YEARS; y++) {
		ev[n++] = (struct event){ date_local_sec(&r->start, y) -
		    r->std_utoff, r->dst_utoff, 1 };
		ev[n++] = (struct event){ date_local_sec(&r->end, y) -
		    r->dst_utoff, r->std_utoff, 0 };
	}
	/* by time; at a tie the end of DST first, so DST all year holds */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && (ev[j - 1].at > ev[j].at ||
		    (ev[j - 1].at == ev[j].at && ev[j - 1].to_dst &&
		    !ev[j].to_dst)); j--) {
			tmp = ev[j];
			ev[j] = ev[j - 1];
			ev[j - 1] = tmp;
		}
	cur = ev[0].to_dst ? r->std_utoff : r->dst_utoff;
	*utoff = *prev_utoff = cur;
	for (int i = 0; i < n; i++) {
		before = cur;
		cur = ev[i].utoff;
		if (cur == before)
			continue;
		if (ev[i].at <= t) {
			*start_sec = ev[i].at;
			*utoff = cur;
			*prev_utoff = before;
		} else {
			*end_sec = ev[i].at;
			break;
		}
	}
	/* Clamped: one offset for ever, so that callers walking spans stop. */
	if (t != utc_sec) {
		*start_sec = INT64_MIN;
		*end_sec = INT64_MAX;
		*prev_utoff = *utoff;
	}
}
