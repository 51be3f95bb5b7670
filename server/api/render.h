/* The API's JSON objects, rendered from the core's jobs and counts. */
#ifndef RUNNEL_RENDER_H
#define RUNNEL_RENDER_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct jsonw;
struct job;
struct queue_counts;

/* Appends the job object of API.md for j. */
void	render_job(struct jsonw *, const struct job *j);
/* Appends {"jobs": [...]} for n jobs. */
void	render_jobs(struct jsonw *, const struct job *jobs, size_t n);
/* The queue object; q NULL renders an empty queue of that name. */
cJSON	*render_queue(const char *name, const struct queue_counts *q);

#endif
