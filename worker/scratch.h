/*
 * The default working directory of a worker's jobs: DIR/w<id>, one per
 * worker.  Each job starts in it empty (mode 0700) and it is emptied
 * again after the job.  A mkdir and an rmdir per job cost as much on
 * ext4 as the rest of the worker's work for a short job together; an
 * empty directory is checked with one getdents.
 */
#ifndef RUNNEL_SCRATCH_H
#define RUNNEL_SCRATCH_H

/*
 * Makes sure path is an empty directory of ours, mode 0700: made if
 * missing (a job may remove its own cwd), replaced if a job left
 * something else there, opened up and emptied if need be.  Returns 0 or
 * a negative errno code (logged).
 */
int	scratch_prepare(const char *path);

/*
 * Empties path: symlinks are removed, never followed; directories the
 * job made read-only or unsearchable are opened up first.  Returns 0 or
 * the first negative errno code met (logged).
 */
int	scratch_clear(const char *path);

#endif
