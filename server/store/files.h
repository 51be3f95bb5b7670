/*
 * Stored files of upload jobs: data/files/<job id>/<safe name>.  The
 * path is built from the job id, so no client name can escape the files
 * directory or collide with another upload.
 */
#ifndef RUNNEL_FILES_H
#define RUNNEL_FILES_H

#include <stddef.h>
#include <stdint.h>

struct server;

#define FILES_NAME_MAX		200	/* bytes of a stored name */
#define FILES_CLIENT_NAME_MAX	8192	/* bytes of a name a client gives */

/*
 * Reduces a client's file name to a safe base name: no directory part
 * ('/' or '\\'), no NUL or control characters, valid UTF-8, at most
 * FILES_NAME_MAX bytes (the extension kept, from a client name of up
 * to FILES_CLIENT_NAME_MAX bytes), never "", "." or "..":
 * then "upload".  UTF-8 names are kept as they are.
 */
void	files_safe_name(const char *client, char *out, size_t size);

/* data/files/<id>/<name> into buf. */
void	files_path(const struct server *, uint64_t id, const char *name,
	    char *buf, size_t size);

/*
 * Moves the complete upload at tmp_path to data/files/<id>/<name>; with
 * sync the directories are fsynced so the move survives a power loss.
 * Returns 0 or a negative errno code (logged).
 */
int	files_store(struct server *, uint64_t id, const char *name,
	    const char *tmp_path, int sync);

/*
 * Removes data/files/<id> and what it holds; in cluster mode, after the
 * commit that deleted the job, the collector then takes its blob from
 * the database if no other job carries it.
 */
void	files_remove(struct server *, uint64_t id);
/* Removes files_dir/<id> and what it holds: system calls only, so that
 * a thread may call it (store/trash.c). */
void	files_remove_dir(const char *files_dir, uint64_t id);

/*
 * Start-up: removes every data/files/<id> whose job is not an upload job
 * in the store (a runneld that died between moving a file and committing
 * its job).  Returns how many went.
 */
int	files_sweep(struct server *);

#endif
