/*
 * Scratch directories: DIR/<job>-<attempt>, the default working
 * directory of a job, made before it starts and removed before its EXIT.
 */
#ifndef RUNNEL_SCRATCH_H
#define RUNNEL_SCRATCH_H

#include <stddef.h>
#include <stdint.h>

/*
 * Makes root/<job_id>-<attempt>, mode 0700, empty: a leftover of an
 * earlier crash is removed first.  Writes its path to path (size bytes).
 * Returns 0 or a negative errno code (logged).
 */
int	scratch_make(const char *root, uint64_t job_id, int attempt,
	    char *path, size_t size);

/*
 * Removes path and everything under it.  Symlinks are removed, never
 * followed; directories the job made read-only or unsearchable are
 * opened up first.  A missing path is not an error.  Returns 0 or the
 * first negative errno code met (logged); what could go is gone anyway.
 */
int	scratch_remove(const char *path);

#endif
