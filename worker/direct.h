/*
 * The direct path for shell-form commands: a command with no shell syntax
 * at all ("make -C src all", "/usr/bin/convert a.png b.jpg") runs the same
 * whether /bin/sh parses it or we split it on blanks, so the worker execs
 * it directly and saves starting a shell, as GNU make does for recipe
 * lines.  docs/api.md ("How a job runs") lists the rules.
 */
#ifndef RUNNEL_DIRECT_H
#define RUNNEL_DIRECT_H

#include <stddef.h>

#define DIRECT_MAX_WORDS	64

/*
 * Splits command into words when it may skip the shell.  Returns the
 * number of words (>= 1) with words[0..n-1] pointing into buf (a copy of
 * command, size bytes, NUL-separated) and words[n] = NULL; 0 when the
 * command needs the shell (any shell syntax, a keyword or builtin, an
 * assignment, too many words or too long); never fails otherwise.
 */
int	direct_split(const char *command, char *buf, size_t size,
	    char *words[DIRECT_MAX_WORDS + 1]);

#endif
