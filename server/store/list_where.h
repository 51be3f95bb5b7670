/*
 * The search's listing (q, name, time bounds, exit_code), the same on
 * either backend: one statement built here from the filter, with the
 * backend's dialect (placeholders, LIKE or ILIKE, argv joined by
 * spaces), run by the backend (sqlite_list.c, pg_list.c).
 *
 * A page examines at most f->window ids (LIST_WINDOW when 0) newest
 * first from `before`: the ids [floor, top) where top is the newest id
 * below `before` plus one and floor = top - window.  When fewer than
 * `limit` jobs match there, the page holds what matched and `next` is
 * floor (there are older jobs), so a search costs the same whatever the
 * table holds.  A filter by name alone (with state, queue, type or
 * schedule) reads the (name, id) index and has no window.  When q is a
 * whole number its job is on the first page (no `before`) and left out
 * of the later ones.
 */
#ifndef RUNNEL_STORE_LIST_WHERE_H
#define RUNNEL_STORE_LIST_WHERE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define LIST_WINDOW		100000
#define LIST_SQL_MAX		4096
#define LIST_PARAMS_MAX		32
#define LIST_Q_MAX		200	/* bytes of q */

enum list_dialect {
	LIST_SQLITE,
	LIST_POSTGRESQL
};

/* One statement and its parameters, in order. */
struct list_sql {
	char		 sql[LIST_SQL_MAX];
	size_t		 len;
	int		 n;
	int		 is_text[LIST_PARAMS_MAX];
	const char	*text[LIST_PARAMS_MAX];
	int64_t		 num[LIST_PARAMS_MAX];
	char		 pattern[2 * LIST_Q_MAX + 3];	/* %q% escaped */
	int		 overflow;
};

/* What a backend runs for list_where_page. */
struct list_where_ops {
	/* Runs s (returning one integer column) into *ids (the caller
	 * frees it), *n.  0 or a code. */
	int	(*ids)(void *arg, const struct list_sql *s, uint64_t **ids,
		    size_t *n);
};

/* 1 if f needs this listing rather than list_scan's. */
int	list_where_wanted(const struct job_filter *f);
/*
 * The page of f: up to f->limit ids newest first into *ids (the caller
 * frees it), their number into *n, the next page's cursor into *next
 * (0 at the end).  Returns 0 or a code.
 */
int	list_where_page(const struct job_filter *f, enum list_dialect d,
	    const struct list_where_ops *ops, void *arg, uint64_t **ids,
	    size_t *n, uint64_t *next);

#endif
