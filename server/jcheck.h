/*
 * Strict JSON (RFC 8259) validation before cJSON sees a body: cJSON
 * accepts leading zeros, "1.", raw control characters in strings and
 * invalid UTF-8, and a \u0000 would silently cut a C string.
 */
#ifndef RUNNEL_JCHECK_H
#define RUNNEL_JCHECK_H

#include <stddef.h>

#define JCHECK_DEPTH	64

/*
 * Checks that text holds exactly one JSON value, in valid UTF-8, with no
 * \u0000 and nesting at most JCHECK_DEPTH deep.  Returns 0, or -EINVAL
 * with *at the byte offset of the fault and *why a short reason.
 */
int	jcheck(const char *text, size_t len, size_t *at, const char **why);

#endif
