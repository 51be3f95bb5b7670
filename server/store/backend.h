/*
 * What a backend of the store implements, for store/store.c and the
 * backends only (store/sqlite*.c, store/pg*.c): a table of functions
 * with the contracts of store.h.  A backend's connection struct starts
 * with struct store, so store.c can reach the table from any handle.
 */
#ifndef RUNNEL_STORE_BACKEND_H
#define RUNNEL_STORE_BACKEND_H

#include "store/store.h"

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
