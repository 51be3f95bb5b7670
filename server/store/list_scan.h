/*
 * The listing's plan and keyset page, the same on either backend
 * (sqlite_list.c, pg_list.c), so a page is the same on both.  Each
 * stream scans one index newest first from `before`; rows the index
 * cannot filter (say state=failed&queue=x on the state index) are
 * checked by the backend, at most LIST_BUDGET of them per stream, so a
 * request costs the same whatever the table holds.  When a stream stops
 * at its budget, the page covers ids down to that point only and `next`
 * resumes there: a page may then hold fewer than `limit` jobs.
 */
#ifndef RUNNEL_STORE_LIST_SCAN_H
#define RUNNEL_STORE_LIST_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define LIST_BUDGET	5000

/* The index a stream reads. */
enum list_index {
	LIST_BY_STATE,
	LIST_BY_QUEUE,
	LIST_BY_TYPE,
	LIST_BY_ALL,
	LIST_BY_SCHEDULE
};

struct list_scan {
	uint64_t	*ids;
	size_t		 n;
	size_t		 cap;
	uint64_t	 floor;		/* ids below this are not yet looked at */
};

/*
 * Runs one stream: the rows of index ix whose value is key (NULL for
 * LIST_BY_ALL; a schedule id in decimal for LIST_BY_SCHEDULE), newest first from f->before, at most `budget` of them,
 * keeping the ids that match f with list_scan_add and ending with
 * list_scan_ended.  Returns 0 or a code.
 */
typedef int (*list_stream_cb)(void *arg, enum list_index ix,
	    const char *key, int budget, struct list_scan *ls);

/* Picks the index that narrows f most and runs its streams, one per key;
 * returns 0 or the first stream's code.  The caller frees ls->ids. */
int	list_scan_run(struct list_scan *ls, const struct job_filter *f,
	    list_stream_cb stream, void *arg);
/* Whether a row of this state, type (each -1 if unknown) and queue
 * (NULL if none) matches f. */
int	list_scan_matches(const struct job_filter *f, int state, int type,
	    const char *queue);
/* Keeps id; returns 0 or -ENOMEM. */
int	list_scan_add(struct list_scan *ls, uint64_t id);
/* A stream read `rows` rows, the last of them id `last`. */
void	list_scan_ended(struct list_scan *ls, int rows, int budget,
	    uint64_t last);
/*
 * Sorts the ids newest first and returns how many of them, from
 * ls->ids[0], make the page; *next is where the next page starts, 0 at
 * the end.
 */
size_t	list_scan_page(struct list_scan *ls, int limit, uint64_t *next);

#endif
