/*
 * Scratch directories.  A worker owns DIR/w<id> (emptied when it starts:
 * what a dead predecessor left); each job that gives no cwd runs in a
 * directory of its own below it, DIR/w<id>/<job>.<attempt>, made empty
 * (mode 0700) before the job and removed once its last process is gone,
 * before the job is reported finished.  A process a job left behind can
 * never write into another job's directory: there is none to find, and
 * the worker kills every process of a job before it is over (run.c).
 */
#ifndef RUNNEL_SCRATCH_H
#define RUNNEL_SCRATCH_H

#include <stddef.h>
#include <stdint.h>

/*
 * Makes sure path is an empty directory of ours, mode 0700: made if
 * missing, replaced if something else is there, opened up and emptied
 * if need be.  Returns 0 or a negative errno code (logged).
 */
int	scratch_prepare(const char *path);

/*
 * Empties path: symlinks are removed, never followed; directories the
 * job made read-only or unsearchable are opened up first.  Returns 0 or
 * the first negative errno code met (logged).
 */
int	scratch_clear(const char *path);

/*
 * Makes the job's directory root/<job_id>.<attempt>, fresh and empty,
 * and writes its path into out.  Returns 0 or a negative errno code.
 */
int	scratch_make(const char *root, uint64_t job_id, int attempt, char *out,
	    size_t size);

/* Removes a job's directory and all it holds.  0 or the first -errno (logged). */
int	scratch_remove(const char *path);

#endif
