/*
 * The check of an upload job's stored file before the job runs: its size
 * and SHA-256 must still be those of the upload.  It knows nothing of the
 * run: between pieces it asks its caller whether to go on.
 */
#ifndef RUNNEL_VERIFY_H
#define RUNNEL_VERIFY_H

#include <stddef.h>
#include <stdint.h>

/* What a check watches between pieces. */
struct verify_watch {
	int64_t		 deadline_ms;		/* monotonic; 0: none */
	int		(*stop)(void *arg);	/* nonzero: give up now */
	void		*arg;
};

/*
 * Checks the file at path against size (bytes) and sha256 (64 lower-case
 * hex digits).  Returns 0 with *fd open on it at offset 0 (the caller's to
 * close); or, with *fd = -1: -ECANCELED when stop said so, -ETIMEDOUT when
 * the deadline passed, or another negative errno code when the file is
 * not the one uploaded or cannot be read, error then saying why
 * ("file check failed: ...", at most size bytes).
 */
int	verify_file(const char *path, int64_t size, const char *sha256,
	    const struct verify_watch *watch, int *fd, char *error, size_t n);

#endif
