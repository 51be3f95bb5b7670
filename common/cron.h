/*
 * Cron expressions: the five fields of crontab(5), the @ macros and
 * "@every <duration>", parsed once into bit sets; cron_next answers the
 * next fire time in a time zone by skipping field by field (month, day,
 * hour, minute), never minute by minute.
 *
 * Syntax.  "minute hour day-of-month month day-of-week", separated by
 * blanks.  Each field is a list "a,b,c" of items: "*", a number, a range
 * "a-b", or a step "*\/n", "a-b/n", "a/n" (a to the field's end; the
 * backslash is only here because a star and a slash end a comment).
 * Months JAN-DEC and days SUN-SAT may be named, in any case; day-of-week
 * 0 and 7 are both Sunday.  Macros: @yearly (= @annually, "0 0 1 1 *"), @monthly
 * ("0 0 1 * *"), @weekly ("0 0 * * 0"), @daily (= @midnight, "0 0 * * *"),
 * @hourly ("0 * * * *"), and @every <duration>: integers with units d, h,
 * m, s, largest first, each at most once ("90s", "1h30m", "1d"), from 1 s
 * to CRON_EVERY_MAX_SEC.
 *
 * Days.  As in Vixie cron, when both day-of-month and day-of-week are
 * restricted, a day matches if EITHER matches ("0 0 13 * 5": the 13th,
 * and every Friday).  A field is unrestricted when it matches every
 * value of its range ("*", "*\/1", "1-31", "0-7"); "*\/2" is restricted
 * (Vixie cron calls any field that starts with a star unrestricted).
 *
 * Time zones and daylight saving time, as Vixie/ISC cron(8) documents:
 *  - A FIXED-time entry, whose minute and hour fields are both neither
 *    "*" nor a step over the whole range (@daily, @weekly, @monthly and
 *    @yearly are fixed), whose local time falls in a gap (the clocks
 *    jump forward over it: 02:30 on the last Sunday of March in
 *    Europe/Berlin) fires once, at the first instant after the gap (03:00
 *    local, 01:00 UTC); whose local time is repeated (the clocks go back:
 *    02:30 on the last Sunday of October happens twice) fires only at the
 *    first occurrence.
 *  - A WILDCARD entry, with "*" or a step over the whole range in the
 *    minute or the hour field ("*\/15 * * * *", "0 * * * *", @hourly),
 *    follows the wall clock: it does not fire for local times that do
 *    not exist, and fires in both occurrences of a repeated hour.
 *  - @every ignores the zone: its fire times are evenly spaced in UTC.
 */
#ifndef RUNNEL_CRON_H
#define RUNNEL_CRON_H

#include <stdint.h>

#include "tz.h"

/* Longer expressions are refused. */
#define CRON_EXPR_MAX		256
#define CRON_ERROR_MSG		96
/* The longest @every period: 366 days. */
#define CRON_EVERY_MAX_SEC	(366 * 86400)
/* cron_next looks this many days ahead (about 30 years), no further. */
#define CRON_HORIZON_DAYS	11000

struct cron;

/* Where and why an expression was refused. */
struct cron_error {
	int	pos;			/* 0-based byte offset in the expression */
	char	msg[CRON_ERROR_MSG];	/* "minute: 61 is out of range 0-59" */
};

/*
 * Parses expr.  Returns 0 with *out owned by the caller (cron_free), or
 * -EINVAL with err (if not NULL) saying where and why, or -ENOMEM.  An
 * expression that can never fire ("0 0 30 2 *") parses; cron_next
 * answers -1 for it.
 */
int	cron_parse(const char *expr, struct cron **out,
	    struct cron_error *err);
void	cron_free(struct cron *c);

/*
 * The first fire time strictly after after_ms, in UTC milliseconds (a
 * whole minute for the five fields), in zone tz; -1 if there is none
 * within CRON_HORIZON_DAYS, or after_ms is beyond about 285 000 years.
 * For @every it is after_ms + the period, whatever tz: the caller
 * anchors the first one.  Pure; does not allocate.
 */
int64_t	cron_next(const struct cron *c, const struct tz *tz,
	    int64_t after_ms);
/* The period of an @every expression in milliseconds; 0 for the others. */
int64_t	cron_every_ms(const struct cron *c);

#endif
