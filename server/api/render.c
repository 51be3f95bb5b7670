/*
 * Rendering the API's objects (API.md "The job object", queues) as JSON.
 * The core hands out jobs and counts; only the api wing turns them into
 * text.
 */
#include <string.h>

#include "api/render.h"
#include "core/counts.h"
#include "http/jsonw.h"
#include "store/job.h"

/* Stored JSON text (argv, env, limits) was written by cJSON: it goes out as it is. */
static void
raw_or(struct jsonw *w, const char *json, const char *absent)
{
	const char *t = json ? json : absent;

	jsonw_raw(w, t, strlen(t));
}

static void
opt_int(struct jsonw *w, int64_t v, int present)
{
	if (present)
		jsonw_int(w, v);
	else
		jsonw_lit(w, "null");
}

static void
file_json(struct jsonw *w, const struct job *j)
{
	if (j->type != JOB_UPLOAD || j->file_name == NULL) {
		jsonw_lit(w, "null");
		return;
	}
	jsonw_lit(w, "{\"name\":");
	jsonw_str(w, j->file_name);
	jsonw_lit(w, ",\"size\":");
	jsonw_int(w, j->file_size);
	jsonw_lit(w, ",\"sha256\":");
	jsonw_str(w, j->file_sha256);
	jsonw_lit(w, "}");
}

void
render_job(struct jsonw *w, const struct job *j)
{
	jsonw_lit(w, "{\"id\":");
	jsonw_int(w, (int64_t)j->id);
	jsonw_lit(w, ",\"type\":");
	jsonw_str(w, job_type_name(j->type));
	jsonw_lit(w, ",\"name\":");
	jsonw_str(w, j->name);
	jsonw_lit(w, ",\"queue\":");
	jsonw_str(w, j->queue);
	jsonw_lit(w, ",\"priority\":");
	jsonw_int(w, j->priority);
	jsonw_lit(w, ",\"state\":");
	jsonw_str(w, job_state_name(j->state));
	jsonw_lit(w, ",\"command\":");
	jsonw_str(w, j->command);
	if (j->shell)
		jsonw_lit(w, ",\"shell\":true");
	else
		jsonw_lit(w, ",\"shell\":false");
	jsonw_lit(w, ",\"argv\":");
	raw_or(w, j->argv_json, "null");
	jsonw_lit(w, ",\"env\":");
	raw_or(w, j->env_json, "{}");
	jsonw_lit(w, ",\"cwd\":");
	jsonw_str(w, j->cwd);
	jsonw_lit(w, ",\"timeout\":");
	if (j->timeout_ms > 0)
		jsonw_milli(w, j->timeout_ms);
	else
		jsonw_lit(w, "null");
	jsonw_lit(w, ",\"limits\":");
	raw_or(w, j->limits_json, "null");
	jsonw_lit(w, ",\"attempts\":");
	jsonw_int(w, j->attempts);
	jsonw_lit(w, ",\"max_attempts\":");
	jsonw_int(w, j->max_attempts);
	jsonw_lit(w, ",\"after\":");
	raw_or(w, j->after_json, "[]");
	jsonw_lit(w, ",\"created_at\":");
	jsonw_time(w, j->created_at);
	jsonw_lit(w, ",\"run_at\":");
	jsonw_time(w, j->run_at);
	jsonw_lit(w, ",\"started_at\":");
	jsonw_time(w, j->started_at);
	jsonw_lit(w, ",\"finished_at\":");
	jsonw_time(w, j->finished_at);
	jsonw_lit(w, ",\"exit_code\":");
	opt_int(w, j->exit_code, j->exit_code >= 0);
	jsonw_lit(w, ",\"signal\":");
	opt_int(w, j->signal, j->signal > 0);
	jsonw_lit(w, ",\"error\":");
	jsonw_str(w, j->error);
	jsonw_lit(w, ",\"worker\":");
	opt_int(w, j->worker, j->worker >= 0 && j->state == JOB_RUNNING);
	jsonw_lit(w, ",\"pid\":");
	opt_int(w, j->pid, j->pid > 0 && j->state == JOB_RUNNING);
	/* Kept once the attempt ended: where it ran.  Null on SQLite. */
	jsonw_lit(w, ",\"node\":");
	jsonw_str(w, j->node);
	jsonw_lit(w, ",\"stdout_bytes\":");
	jsonw_int(w, j->stdout_bytes);
	jsonw_lit(w, ",\"stderr_bytes\":");
	jsonw_int(w, j->stderr_bytes);
	jsonw_lit(w, ",\"cpu_ms\":");
	opt_int(w, j->cpu_ms, j->cpu_ms >= 0);
	jsonw_lit(w, ",\"max_rss_kb\":");
	opt_int(w, j->max_rss_kb, j->max_rss_kb >= 0);
	jsonw_lit(w, ",\"file\":");
	file_json(w, j);
	jsonw_lit(w, ",\"schedule_id\":");
	opt_int(w, (int64_t)j->schedule_id, j->schedule_id > 0);
	jsonw_lit(w, ",\"scheduled_for\":");
	jsonw_time(w, j->schedule_id > 0 ? j->scheduled_for : 0);
	jsonw_lit(w, ",\"webhooks\":");
	raw_or(w, j->webhooks_json, "null");
	jsonw_lit(w, "}");
}

void
render_jobs(struct jsonw *w, const struct job *jobs, size_t n)
{
	jsonw_lit(w, "{\"jobs\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			jsonw_lit(w, ",");
		render_job(w, &jobs[i]);
	}
	jsonw_lit(w, "]}");
}

cJSON *
render_queue(const char *name, const struct queue_counts *q)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddBoolToObject(o, "paused", q && q->paused);
	if (q && q->concurrency > 0)
		cJSON_AddNumberToObject(o, "concurrency", q->concurrency);
	else
		cJSON_AddNullToObject(o, "concurrency");
	cJSON_AddNumberToObject(o, "scheduled",
	    q ? (double)q->by_state[JOB_SCHEDULED] : 0);
	cJSON_AddNumberToObject(o, "queued",
	    q ? (double)q->by_state[JOB_QUEUED] : 0);
	cJSON_AddNumberToObject(o, "running",
	    q ? (double)q->by_state[JOB_RUNNING] : 0);
	return o;
}
