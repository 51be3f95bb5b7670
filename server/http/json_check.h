/*
 * Strict JSON (RFC 8259) validation before cJSON sees a body: cJSON
 * accepts leading zeros, "1.", raw control characters in strings and
 * invalid UTF-8.  A \u0000 is valid JSON but would silently cut a C
 * string: json_check says which field of a spec holds one, so that the
 * field can be refused by name.
 */
#ifndef RUNNEL_JSON_CHECK_H
#define RUNNEL_JSON_CHECK_H

#include <stddef.h>

#define JSON_CHECK_DEPTH	64

/*
 * Checks that text holds exactly one JSON value, in valid UTF-8, nested
 * at most JSON_CHECK_DEPTH deep.  Returns 0; 1 when it is valid but a string
 * holds a \u0000, with nul (nulsize bytes) naming the member of the
 * top-level object holding the first one ("env"), or "[i].member" for a
 * top-level array of objects, or "" when that is no member's value (a
 * member's name itself); or -EINVAL with *at the byte offset of the
 * fault and *why a short reason.
 */
int	json_check(const char *text, size_t len, size_t *at, const char **why,
	    char *nul, size_t nulsize);

#endif
