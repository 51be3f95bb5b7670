/*
 * The data directory: its layout (output/, files/, tmp/, scratch/) and
 * the lock that makes one runneld its only owner.  A second runneld on
 * a directory in use refuses to start and touches nothing in it.
 */
#ifndef RUNNEL_DATADIR_H
#define RUNNEL_DATADIR_H

#include <stddef.h>
#include <sys/types.h>

struct server;

#define DATADIR_LOCK	"runnel.lock"
#define DATADIR_NODE_ID	"node-id"

/*
 * Takes the lock of the data directory dir (created when create is set,
 * else it must exist), an flock on dir/runnel.lock held in srv->lock_fd
 * until runneld exits, and writes our pid into it.  Returns 0; -EEXIST when another
 * process holds it (*holder its pid, or 0 if it cannot be read);
 * -ENOENT when dir is missing and create is not set; or another negative
 * errno code.  Logs nothing: the caller says what it means.
 */
int	datadir_lock(struct server *, const char *dir, int create,
	    pid_t *holder);

/*
 * Fills srv's directory paths from the locked data directory dir and
 * makes the subdirectories, clearing tmp/ and scratch/ (what a dead
 * runneld left half-done).  Returns 0 or a negative errno code (logged).
 */
int	datadir_open(struct server *, const char *dir);

/*
 * The node's id in a cluster, kept in DIR/node-id so that a node that
 * restarts is the same node (and recovers its own jobs at once): read
 * from there, or made (host name and random hex, [A-Za-z0-9_.-]) and
 * written the first time.  out has size bytes (at least 65).  Returns 0
 * or a negative errno code (logged).
 */
int	datadir_node_id(struct server *, char *out, size_t size);

/* Releases the lock (runneld's exit does too). */
void	datadir_unlock(struct server *);

#endif
