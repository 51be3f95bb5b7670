/*
 * The jobs' filters as GET /api/v1/jobs takes them (query parameters)
 * and POST /api/v1/jobs/bulk (a JSON "filter" object): one parser, so
 * that both mean the same.
 */
#ifndef RUNNEL_API_FILTER_H
#define RUNNEL_API_FILTER_H

#include "http/reply.h"
#include "store/store.h"

/* The filter and the text it points into. */
struct api_filter {
	struct job_filter	 f;
	char			 queue[JOB_QUEUE_MAX + 1];
	char			 q[256];
	char			 name[256];
};

/* Empty: every job, limit 50; window: ids a search page examines (0:
 * the store's). */
void	filter_init(struct api_filter *, int64_t window);
/*
 * Sets filter key (state, queue, type, schedule, q, name,
 * created_after, created_before, finished_after, finished_before,
 * exit_code) from its text.  Returns 1 when set, 0 when key is not a
 * filter, or -1 with *e filled (400 invalid_field naming key).
 */
int	filter_set(struct api_filter *, const char *key, const char *value,
	    struct api_error *e);

#endif
