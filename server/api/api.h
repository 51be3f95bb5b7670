/* The API handlers: thin functions that parse, call the core and render. */
#ifndef RUNNEL_API_H
#define RUNNEL_API_H

#include <stdint.h>

#include "http/request.h"

int	api_jobs_submit(struct request *);
int	api_jobs_list(struct request *);
int	api_jobs_get(struct request *);
int	api_jobs_cancel(struct request *);
int	api_jobs_retry(struct request *);
int	api_jobs_delete(struct request *);
int	api_jobs_bulk(struct request *);
int	api_output_get(struct request *);
int	api_uploads_file_get(struct request *);
int	api_uploads_post(struct request *);
int	api_workers_list(struct request *);
int	api_queues_list(struct request *);
int	api_queues_patch(struct request *);
int	api_stats_get(struct request *);
int	api_events_get(struct request *);
int	api_health_get(struct request *);
int	api_metrics_get(struct request *);
/* The OpenAPI description (docs/openapi.yaml) as JSON. */
int	api_openapi_get(struct request *);
int	api_session_get(struct request *);
int	api_session_create(struct request *);
int	api_session_delete(struct request *);
int	api_deliveries_list(struct request *);
int	api_schedules_create(struct request *);
int	api_schedules_list(struct request *);
int	api_schedules_get(struct request *);
int	api_schedules_patch(struct request *);
int	api_schedules_delete(struct request *);
int	api_schedules_trigger(struct request *);

/*
 * Checks the webhooks (JSON text, NULL: none) against --webhook-allow;
 * a refused URL is answered 422 naming <where>webhooks[i].url and -1
 * returned, else 0.
 */
int	api_hooks_check(struct request *, const char *json, const char *where);

struct job;
/*
 * A schedule's job template (JSON text) into *j (initialised by the
 * caller), checked as POST /api/v1/jobs checks a spec, without after or
 * run_at.  0 or -EINVAL.  The core's srv->job_template.
 */
int	api_job_template(const char *json, struct job *j);
struct server;
/* Job id as its JSON object, text the caller frees; NULL if none.
 * The webhook sender's srv->job_json. */
char	*api_job_json(struct server *, uint64_t id, size_t *len);

/*
 * Parses req->path_id into *id; on failure answers 400 invalid_field
 * and returns -1.
 */
int	api_path_id(struct request *, uint64_t *id);
/*
 * Parses query parameter key as an integer in [lo, hi].  Returns 0 and
 * sets *out (to dflt when absent), or answers 400 naming the parameter
 * and returns -1.
 */
int	api_query_int(struct request *, const char *key, int64_t lo, int64_t hi,
	    int64_t dflt, int64_t *out);
/*
 * Reads a strict decimal at *s (digits only: no sign, no space, no
 * overflow) and moves *s past it.  0, or -1 when there is none.
 */
int	api_digits(const char **s, uint64_t *out);
/* Answers 415 unless the Content-Type is application/json (or absent). */
int	api_json_body(struct request *);

struct core_error;
struct core_result;

/* Answers a refusal of the core (rc < 0, err as it filled it).  API_DONE. */
int	api_refused(struct request *, int rc, const struct core_error *err);
/* API_PENDING for rc >= 0, else the refusal answered. */
int	api_pending(struct request *, int rc, const struct core_error *err);
/* Answers the job as it is now with status.  API_DONE. */
int	api_reply_job(struct request *, int status, uint64_t id);
/* Completions (arg is the request): answer the job; answer submitted jobs. */
void	api_job_done(void *arg, const struct core_result *);
void	api_submitted(void *arg, const struct core_result *);

#endif
