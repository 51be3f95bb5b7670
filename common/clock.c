/* Timestamps in milliseconds and their RFC 3339 text form. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

static int64_t
clock_read(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The one process-wide setting: a cluster node's offset to its database.
 * Process-wide by nature (every timestamp follows it), so it is kept here
 * rather than in struct server: server/server.h lists it as an exception.
 */
static int64_t clock_skew_ms;

int64_t
clock_host_ms(void)
{
	static int	 read;
	static int64_t	 off;
	const char	*v;

	/* Tests stand for a host whose clock is off by this much. */
	if (!read) {
		read = 1;
		if ((v = getenv("RUNNEL_TEST_CLOCK_OFFSET_MS")) != NULL)
			off = strtoll(v, NULL, 10);
	}
	return clock_read(CLOCK_REALTIME) + off;
}

int64_t
clock_now_ms(void)
{
	return clock_host_ms() + clock_skew_ms;
}

int64_t
clock_from_host_ms(int64_t host_ms)
{
	return host_ms + clock_skew_ms;
}

void
clock_set_skew_ms(int64_t skew_ms)
{
	clock_skew_ms = skew_ms;
}

int64_t
clock_mono_ms(void)
{
	return clock_read(CLOCK_MONOTONIC);
}

void
clock_format_ms(int64_t ms, char out[CLOCK_TEXT_SIZE])
{
	time_t		 secs = (time_t)(ms / 1000);
	int		 milli = (int)(ms % 1000);
	struct tm	 tm;

	if (milli < 0) {
		milli += 1000;
		secs--;
	}
	gmtime_r(&secs, &tm);
	/* Years past 9999 do not occur; the cast keeps the format bounded. */
	snprintf(out, CLOCK_TEXT_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    (unsigned short)(tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
	    tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
	    tm.tm_sec % 100, milli % 1000);
}

static int
digits(const char **s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (**s < '0' || **s > '9')
			return -1;
		v = v * 10 + (**s - '0');
		(*s)++;
	}
	*out = v;
	return 0;
}

static int
expect(const char **s, char c)
{
	if (**s != c && !(c == 'T' && (**s == 't' || **s == ' ')))
		return -1;
	(*s)++;
	return 0;
}

int
clock_parse_ms(const char *s, int64_t *ms)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	struct tm	 tm;
	int		 y, mo, d, h, mi, sec, milli = 0, off = 0, oh, om;
	time_t		 t;

	if (digits(&s, 4, &y) || expect(&s, '-') || digits(&s, 2, &mo) ||
	    expect(&s, '-') || digits(&s, 2, &d) || expect(&s, 'T') ||
	    digits(&s, 2, &h) || expect(&s, ':') || digits(&s, 2, &mi) ||
	    expect(&s, ':') || digits(&s, 2, &sec))
		return -EINVAL;
	if (*s == '.') {
		int scale = 100, n = 0;

		s++;
		while (*s >= '0' && *s <= '9') {
			milli += (*s - '0') * scale;
			scale /= 10;
			s++;
			n++;
		}
		if (n == 0)
			return -EINVAL;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s == '-' ? -1 : 1;

		s++;
		if (digits(&s, 2, &oh) || expect(&s, ':') || digits(&s, 2, &om) ||
		    oh > 23 || om > 59)
			return -EINVAL;
		off = sign * (oh * 60 + om);
	} else {
		return -EINVAL;
	}
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -EINVAL;
	*ms = ((int64_t)t - (int64_t)off * 60) * 1000 + milli;
	return 0;
}
