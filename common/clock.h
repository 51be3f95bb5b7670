/* Time: wall-clock milliseconds for stored timestamps, monotonic for delays. */
#ifndef RUNNEL_CLOCK_H
#define RUNNEL_CLOCK_H

#include <stdint.h>

#define CLOCK_TEXT_SIZE	32

/*
 * Milliseconds since the Unix epoch: CLOCK_REALTIME plus the skew set
 * by clock_set_skew_ms (0 unless a cluster node aligned itself with its
 * database's clock, so that nodes agree on stored times).
 */
int64_t	clock_now_ms(void);
/* CLOCK_REALTIME of this host, without the skew. */
int64_t	clock_host_ms(void);
/* A time read from this host's clock (a worker's), as clock_now_ms
 * would have told it. */
int64_t	clock_from_host_ms(int64_t host_ms);
/* From now on clock_now_ms adds skew_ms to the host's clock. */
void	clock_set_skew_ms(int64_t skew_ms);
/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
int64_t	clock_mono_ms(void);
/* Writes "2026-11-27T04:29:52.123Z" (UTC, RFC 3339 with milliseconds). */
void	clock_format_ms(int64_t ms, char out[CLOCK_TEXT_SIZE]);
/*
 * Parses an RFC 3339 timestamp ("Z" or a +hh:mm offset, optional
 * fraction) into *ms.  Returns 0 or -EINVAL.
 */
int	clock_parse_ms(const char *s, int64_t *ms);

#endif
