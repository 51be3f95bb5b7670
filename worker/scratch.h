/*
 * Scratch directories.  A worker owns DIR/w<id> (emptied when it starts:
 * what a dead predecessor left); each job that gives no cwd runs in a
 * directory of its own below it, DIR/w<id>/<job>.<attempt>, new and
 * empty (mode 0700), and removed once its last process is gone.  No
 * process of a job outlives it (run.c), so none can write into another
 * job's directory.  On ext4 a mkdir costs about 40 us and an rmdir 80 us,
 * as much as the rest of a short job's round: so the worker removes a
 * job's directory and makes the next one (the spare) right after the
 * job's EXIT, while runneld answers it and picks the next job, and a job
 * starts with a rename of the spare.  Most short jobs leave their
 * directory as it was made: it becomes the spare with one rename.
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
 * Makes root/.next, the worker's spare: an empty directory made while the
 * worker waits for its next job.  Returns 0 or a negative errno code.
 */
int	scratch_spare(const char *root);

/*
 * Gives the job its directory root/<job_id>.<attempt>, fresh and empty:
 * the spare renamed (a rename is cheaper than a mkdir), or one made now.
 * Writes its path into out.  Returns 0 or a negative errno code.
 */
int	scratch_take(const char *root, uint64_t job_id, int attempt, char *out,
	    size_t size);

/*
 * Makes a job's directory the spare, root/.next, if the job left it as
 * it was made (empty, mode 0700, ours, no extended attributes): a rename
 * instead of an rmdir and a mkdir.  Returns 0, or a negative errno code
 * (-ENOTEMPTY: changed) and the directory is left where it is.
 */
int	scratch_recycle(const char *root, const char *path);

/* Removes a job's directory and all it holds.  0 or the first -errno (logged). */
int	scratch_remove(const char *path);

#endif
