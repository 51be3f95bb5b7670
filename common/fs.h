/* Small file-system helpers shared by runneld and runnel-worker. */
#ifndef RUNNEL_FS_H
#define RUNNEL_FS_H

/* mkdir -p with mode for the missing parts.  Returns 0 or -errno. */
int	fs_mkdirs(const char *path, int mode);
/*
 * Removes everything below path without following symbolic links,
 * making read-only directories writable on the way; path itself too
 * unless keep_root.  Returns 0 or the first -errno met.
 */
int	fs_remove_tree(const char *path, int keep_root);

#endif
