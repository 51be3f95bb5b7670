/*
 * POSIX TZ rule strings ("CET-1CEST,M3.5.0,M10.5.0/3"), the footer of a
 * TZif file: parsed once into a struct, then evaluated for any instant.
 * Private to tz.c; tz_parse_rule is the public way in.
 */
#ifndef RUNNEL_TZ_RULE_H
#define RUNNEL_TZ_RULE_H

#include <stddef.h>
#include <stdint.h>

/* A change date: Jn (1-365, no Feb 29), n (0-365), or Mm.w.d. */
struct tz_rule_date {
	char	kind;		/* 'J', 'D' or 'M' */
	int	n;
	int	month, week, wday;
	int32_t	time_sec;	/* local time of day, -167 h to 167 h */
};

struct tz_rule {
	int32_t			std_utoff;	/* seconds east of UTC */
	int32_t			dst_utoff;
	int			has_dst;
	struct tz_rule_date	start;		/* into DST, in standard time */
	struct tz_rule_date	end;		/* out of DST, in DST */
};

/*
 * Parses the len bytes at s (no NUL needed) into *out.
 * Returns 0 or -EINVAL.
 */
int	tz_rule_parse(const char *s, size_t len, struct tz_rule *out);
/*
 * The offset in force at utc_sec and the changes around it: *start_sec
 * the last change at or before utc_sec (INT64_MIN if none), *end_sec the
 * next one after (INT64_MAX if none), *prev_utoff the offset before
 * *start_sec (*utoff if none).
 */
void	tz_rule_span(const struct tz_rule *r, int64_t utc_sec,
	    int64_t *start_sec, int64_t *end_sec, int32_t *utoff,
	    int32_t *prev_utoff);

#endif
