/*
 * Cluster mode (--database): this runneld is one node of several that
 * share a PostgreSQL database.  Each node claims jobs from the shared
 * queue for its own workers, beats in its row of the nodes table, and
 * hears the others through LISTEN/NOTIFY (with a poll as fallback); one
 * of them, the holder of the leader's lease, rescues the jobs of nodes
 * that went silent and runs the cluster's chores (retention, the
 * idempotency purge).  On SQLite none of this runs: srv->cluster is NULL
 * and every function here is a no-op.
 */
#ifndef RUNNEL_CLUSTER_H
#define RUNNEL_CLUSTER_H

#include "store/cluster.h"	/* struct node_row */

struct server;

/*
 * Joins the cluster when the store is PostgreSQL: the node's id (the
 * config's, else DATA/node-id), its row, its session settings, the
 * LISTEN connection and the tick.  After core_start, before core_load.
 * Returns 0 (also on SQLite), or a code with the reason logged.
 */
int	cluster_start(struct server *);
/* Leaves the cluster (its row, its lease) and closes the handles. */
void	cluster_stop(struct server *);
void	cluster_free(struct server *);

/* This node's id, or NULL when not in cluster mode. */
const char *cluster_node(const struct server *);
/*
 * 1 while the database can be reached, as far as this node knows (and
 * always on SQLite); while it is 0 every write gets -ENOTCONN at once.
 */
int	cluster_db_up(struct server *);
/* 1 if this node held the leader's lease at its last tick. */
int	cluster_leader(const struct server *);
/* Calls cb for every node of the cluster.  0 or a code. */
int	cluster_nodes(struct server *,
	    void (*cb)(void *arg, const struct node_row *), void *arg);
/*
 * Makes srv->counts the cluster's: read from the store when older than
 * max_age_ms (other nodes change them).  A no-op on SQLite, where the
 * counts are always current.  What a reader may see at most this old:
 */
#define CLUSTER_COUNTS_FRESH_MS	250
/*
 * Returns 0, or a code when they could not be read (then the last ones
 * read stay, e.g. while the database is away: -ENOTCONN).
 */
int	cluster_counts(struct server *, int64_t max_age_ms);

#endif
