/*
 * What a backend of the store implements, for store/store.c and the
 * backends only (store/sqlite*.c, store/pg*.c): a table of functions
 * with the contracts of store.h.  A backend's connection struct starts
 * with struct store, so store.c can reach the table from any handle.
 */
#ifndef RUNNEL_STORE_BACKEND_H
#define RUNNEL_STORE_BACKEND_H

#include <uv.h>

#include "store/delivery.h"
#include "store/schedule.h"
#include "store/store.h"

/* cluster.h's */
struct claim_round;
struct finish_next;
struct count_delta;
struct minute_delta;
struct node_row;
struct orphan;
struct store_link;
struct store_overview;

/*
 * The operations of a store shared by nodes, with cluster.h's
 * contracts; cluster.c's store_* calls come here.  A backend that is
 * never shared (SQLite) has none.
 */
struct store_cluster_ops {
	int	(*node_session)(struct store *, int64_t, int64_t, int64_t);
	int	(*link_start)(struct store *, uv_loop_t *, int64_t, int64_t,
		    void (*)(void *), void *);
	void	(*link_stop)(struct store *);
	int	(*link_up)(const struct store *);
	void	(*link_info)(const struct store *, struct store_link *);
	int	(*node_join)(struct store *, const struct node_row *,
		    int (*)(int), struct node_row *);
	int	(*node_beat)(struct store *, const char *, int64_t *);
	int	(*node_leave)(struct store *, const char *);
	int	(*nodes)(struct store *,
		    void (*)(void *, const struct node_row *), void *);
	int	(*lease)(struct store *, const char *, int64_t, int *);
	int	(*nodes_prune)(struct store *, const char *,
		    void (*)(void *, const char *, const char *, int), void *);
	int	(*orphans)(struct store *, int,
		    void (*)(void *, const struct orphan *), void *);
	int	(*fence)(struct store *, uint64_t, const char *, int);
	int	(*dep_state)(struct store *, uint64_t, int *);
	int	(*finish_fenced)(struct store *, const struct job_result *,
		    const char *, int, struct finish_next *);
	int	(*node_jobs)(struct store *, const char *, uint64_t **,
		    size_t *);
	int	(*cancel_request)(struct store *, uint64_t, char *);
	int	(*cancel_requests)(struct store *, const char *, uint64_t **,
		    size_t *);
	int	(*notify)(struct store *, const char *, const char *);
	int	(*submit_held)(struct store *, struct job *, size_t);
	int	(*claim_round)(struct store *, const char *,
		    struct claim_round *);
	int	(*claim_next)(struct store *, const char *, int, int64_t,
		    struct claim_round *, struct job *);
	int	(*due_skip)(struct store *, int64_t, int,
		    void (*)(void *, uint64_t, const char *), void *);
	int	(*idem_take)(struct store *, const char *, const char *,
		    const char *, int, int64_t, int64_t);
	int	(*counts_add)(struct store *, const char *,
		    const struct count_delta *, size_t,
		    const struct minute_delta *, size_t);
	int	(*counts)(struct store *,
		    void (*)(void *, const char *, enum job_state, int64_t),
		    void *);
	int	(*counts_fold)(struct store *);
	int	(*minutes)(struct store *, int64_t,
		    void (*)(void *, int64_t, int64_t), void *);
	int	(*minutes_purge)(struct store *, int64_t);
};

/* schedule.h's store_sched_* contracts; every backend has them. */
struct store_sched_ops {
	int	(*add)(struct store *, struct schedule *);
	int	(*get)(struct store *, uint64_t, struct schedule *);
	int	(*all)(struct store *, struct schedule **, size_t *);
	int	(*put)(struct store *, const struct schedule *);
	int	(*replan)(struct store *, uint64_t, int64_t);
	int	(*delete)(struct store *, uint64_t);
	int	(*next)(struct store *, int64_t *);
	int	(*due)(struct store *, int64_t, int, uint64_t **, size_t *);
	int	(*owed)(struct store *, uint64_t **, size_t *);
	int	(*advance)(struct store *, uint64_t, int64_t, int64_t);
	int	(*made)(struct store *, uint64_t, uint64_t, int64_t);
	int	(*tick)(struct store *, uint64_t, int64_t, uint64_t);
	int	(*tick_job)(struct store *, uint64_t, int64_t, uint64_t);
	int	(*ticks_purge)(struct store *, int64_t);
};

/* delivery.h's store_hook_* contracts; every backend has them. */
struct store_hook_ops {
	int	(*next)(struct store *, int64_t *);
	int	(*due)(struct store *, int64_t, int, struct delivery **,
		    size_t *);
	int	(*lease)(struct store *, uint64_t, int64_t, int64_t);
	int	(*tried)(struct store *, const struct delivery_try *, int,
		    int64_t);
	int	(*list)(struct store *, uint64_t, struct delivery **, size_t *);
	int	(*tries)(struct store *, uint64_t, struct delivery_try **,
		    size_t *);
	int	(*queue_set)(struct store *, const char *, const char *);
	int	(*queue_get)(struct store *, const char *, char **);
};

struct store_ops {
	const char	*name;		/* "sqlite", "postgresql" */
	void	(*close)(struct store *);
	int	(*begin)(struct store *);
	int	(*in_txn)(const struct store *);
	int	(*commit)(struct store *, int sync);
	int	(*mark)(struct store *);
	int	(*unmark)(struct store *, int keep);
	int	(*ping)(struct store *);
	int	(*submit)(struct store *, struct job *, size_t, int64_t);
	int	(*get)(struct store *, uint64_t, struct job *);
	int	(*head)(struct store *, const char *, uint64_t *, int64_t *);
	int	(*claim)(struct store *, uint64_t, int, int64_t, struct job *);
	int	(*finish)(struct store *, const struct job_result *);
	int	(*set_state)(struct store *, uint64_t, enum job_state,
		    enum job_state, const char *, int64_t);
	int	(*requeue)(struct store *, uint64_t, enum job_state, int, int);
	int	(*promote)(struct store *, uint64_t);
	int	(*delete)(struct store *, uint64_t);
	int	(*list)(struct store *, const struct job_filter *,
		    struct job **, size_t *, uint64_t *);
	int	(*running)(struct store *, uint64_t **, size_t *);
	int	(*count)(struct store *,
		    void (*)(void *, const char *, enum job_state, int64_t),
		    void *);
	int	(*finished_since)(struct store *, int64_t,
		    void (*)(void *, int64_t), void *);
	int	(*overview)(struct store *, int64_t, struct store_overview *);
	int	(*expired)(struct store *, int64_t, int,
		    void (*)(void *, uint64_t, int), void *);
	int	(*queue_set)(struct store *, const char *, int, int);
	int	(*queues)(struct store *,
		    void (*)(void *, const char *, int, int), void *);
	int	(*add_deps)(struct store *, uint64_t, const uint64_t *, size_t);
	int	(*dependents)(struct store *, uint64_t, uint64_t **, size_t *);
	int	(*dep_done)(struct store *, uint64_t);
	int	(*next_due)(struct store *, int64_t *);
	int	(*due)(struct store *, int64_t, int,
		    void (*)(void *, uint64_t, const char *), void *);
	int	(*idem_get)(struct store *, const char *, int64_t, char *,
		    size_t, char **, int *);
	int	(*idem_put)(struct store *, const char *, const char *,
		    const char *, int, int64_t);
	int	(*idem_purge)(struct store *, int64_t);
	const struct store_cluster_ops *cluster;	/* NULL: never shared */
	const struct store_sched_ops *sched;
	const struct store_hook_ops *hook;
};

struct store {
	const struct store_ops	*ops;
};

/* Each backend's open, with store_open's contract. */
int	sqlite_open(struct store **, const char *path, enum store_durability);
int	pg_open(struct store **, const char *conninfo, enum store_durability);
/* 1 if libpq reads s as keyword/value pairs it knows, else 0. */
int	pg_is_conninfo(const char *s);

#endif
