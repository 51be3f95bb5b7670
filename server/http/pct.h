/*
 * Percent-encoding (RFC 3986 section 2.1), as URLs and RFC 5987 header
 * parameters use it.  No HTTP library types.
 */
#ifndef RUNNEL_PCT_H
#define RUNNEL_PCT_H

/*
 * The byte that the escape "%XX" at s stands for (0 to 255), or -1 when
 * s does not start with '%' and two hex digits.  Reads no further into
 * s than its NUL.
 */
int	pct_byte(const char *s);

#endif
