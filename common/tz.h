/*
 * IANA time zones, read from TZif files (RFC 8536) and POSIX TZ rule
 * strings, without touching the process's TZ or calling tzset: a zone is
 * a value the caller holds, and every question about it is a pure
 * function of that value.
 */
#ifndef RUNNEL_TZ_H
#define RUNNEL_TZ_H

#include <stddef.h>
#include <stdint.h>

#define TZ_NAME_MAX	255
/* TZif files larger than this are refused (real ones are under 10 KiB). */
#define TZ_FILE_MAX	(256 * 1024)
/* |UT offset| at most 26 hours, as zic allows. */
#define TZ_UTOFF_MAX	(26 * 3600)

struct tz;

/*
 * The stretch of time [start_sec, end_sec) between two transitions, over
 * which a zone's UT offset does not change (a transition may change only
 * the abbreviation: then prev_utoff equals utoff).  Spans tile time: the
 * next one starts at end_sec.  start_sec is INT64_MIN and end_sec
 * INT64_MAX when the offset holds for ever on that side.  prev_utoff is
 * the offset just before start_sec (equal to utoff when start_sec is
 * INT64_MIN): the transition at start_sec is a jump forward (a gap in
 * local time) when utoff > prev_utoff, a jump back (a repeat) when
 * utoff < prev_utoff.
 */
struct tz_span {
	int64_t	start_sec;
	int64_t	end_sec;
	int32_t	utoff;
	int32_t	prev_utoff;
};

/*
 * Loads zone name ("Europe/Berlin") from $TZDIR, read now, or from
 * /usr/share/zoneinfo when TZDIR is unset or empty.  "UTC" and "Etc/UTC"
 * are built in and never read from disk.  Returns 0 with *out owned by
 * the caller (tz_free), -EINVAL if name is not a safe relative path
 * (empty, longer than TZ_NAME_MAX, a leading '/', a ".." component, a
 * byte outside [A-Za-z0-9_+-./]), -ENOENT if no regular file has that
 * name, -EPROTO if the file is not a well-formed TZif file, -ENOTSUP if
 * it carries leap seconds ("right/" zones), -EACCES, -ENOMEM or -EIO.
 * TZif files are read whole: at most TZ_FILE_MAX bytes.
 */
int		tz_load(const char *name, struct tz **out);
/*
 * Decodes a TZif file held in memory (size bytes at data); name (not
 * NULL) is copied for tz_name.  Past the last transition the footer's
 * rule governs; without one, the last transition's type.  Every count
 * is checked against size before it is used.  Returns 0 with *out,
 * -EPROTO, -ENOTSUP or -ENOMEM as tz_load.
 */
int		tz_decode(const void *data, size_t size, const char *name,
		    struct tz **out);
/*
 * Makes a zone of a POSIX TZ rule string, as found in a TZif footer:
 * "CET-1CEST,M3.5.0,M10.5.0/3", "<+0530>-5:30", "EST5EDT" (without
 * dates, the US rule M3.2.0,M11.1.0 as glibc assumes), dates Jn, n and
 * Mm.w.d, times from -167 to 167 hours (RFC 8536's extension).
 * Returns 0 with *out, -EINVAL if rule does not parse, -ENOMEM.
 */
int		tz_parse_rule(const char *rule, struct tz **out);
void		tz_free(struct tz *tz);
/* The name given to tz_load (or the rule string); owned by tz. */
const char	*tz_name(const struct tz *tz);

/* Seconds east of UTC in force at utc_sec. */
int32_t		tz_offset(const struct tz *tz, int64_t utc_sec);
/* The span of constant offset that holds utc_sec (see struct tz_span). */
void		tz_span_at(const struct tz *tz, int64_t utc_sec,
		    struct tz_span *out);
/*
 * Maps a local civil time, counted in seconds as if local time were UTC
 * (civil_days * 86400 + seconds of the day), to the instants
 * that show it.  Returns 1 with utc_sec[0]; 2 with utc_sec[0] <
 * utc_sec[1] when the local time is repeated (the clocks went back); 0
 * when it does not exist (the clocks jumped over it), with utc_sec[0] the
 * first instant after the gap.
 */
int		tz_to_utc(const struct tz *tz, int64_t local_sec,
		    int64_t utc_sec[2]);

#endif
