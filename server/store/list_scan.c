/*
 * The listing's plan and keyset page, shared by the backends
 * (store/list_scan.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/list_scan.h"
#include "vec.h"

int
list_scan_run(struct list_scan *ls, const struct job_filter *f,
    list_stream_cb stream, void *arg)
{
	int	 exact = f->limit + 1, budget = exact > LIST_BUDGET ? exact :
		    LIST_BUDGET;
	int	 rc = 0;

	if (f->schedule) {
		char key[24];

		/* A schedule's jobs are few next to the table: its index,
		 * the rest checked row by row. */
		snprintf(key, sizeof(key), "%llu",
		    (unsigned long long)f->schedule);
		rc = stream(arg, LIST_BY_SCHEDULE, key, f->states || f->queue ||
		    f->types ? budget : exact, ls);
	} else if (f->states) {
		int residual = f->queue || f->types;

		for (int st = 0; st < JOB_STATE_COUNT && rc == 0; st++)
			if (f->states & (1u << st))
				rc = stream(arg, LIST_BY_STATE,
				    job_state_name(st), residual ? budget :
				    exact, ls);
	} else if (f->queue) {
		rc = stream(arg, LIST_BY_QUEUE, f->queue, f->types ? budget :
		    exact, ls);
	} else if (f->types) {
		for (int t = 0; t < JOB_TYPE_COUNT && rc == 0; t++)
			if (f->types & (1u << t))
				rc = stream(arg, LIST_BY_TYPE, job_type_name(t),
				    exact, ls);
	} else {
		rc = stream(arg, LIST_BY_ALL, NULL, exact, ls);
	}
	return rc;
}

int
list_scan_matches(const struct job_filter *f, int state, int type,
    const char *queue)
{
	if (f->states && (state < 0 || !(f->states & (1u << state))))
		return 0;
	if (f->types && (type < 0 || !(f->types & (1u << type))))
		return 0;
	return f->queue == NULL || (queue && strcmp(queue, f->queue) == 0);
}

int
list_scan_add(struct list_scan *ls, uint64_t id)
{
	if (vec_grow(&ls->ids, &ls->cap, ls->n + 1, sizeof(*ls->ids)) < 0)
		return -ENOMEM;
	ls->ids[ls->n++] = id;
	return 0;
}

void
list_scan_ended(struct list_scan *ls, int rows, int budget, uint64_t last)
{
	/* Stopped at its budget: what lies below it is not looked at yet. */
	if (rows == budget && last > ls->floor)
		ls->floor = last;
}

static int
id_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

size_t
list_scan_page(struct list_scan *ls, int limit, uint64_t *next)
{
	size_t	 keep = 0, take;

	if (ls->n > 1)
		qsort(ls->ids, ls->n, sizeof(*ls->ids), id_desc);
	/* Only ids every stream has looked at belong to this page. */
	while (keep < ls->n && ls->ids[keep] >= ls->floor)
		keep++;
	take = keep > (size_t)limit ? (size_t)limit : keep;
	*next = 0;
	if (keep > take)
		*next = ls->ids[take - 1];
	else if (ls->floor)
		*next = ls->floor;
	return take;
}
