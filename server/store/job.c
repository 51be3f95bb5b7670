/* The job's states, names, transition rule and JSON form (API.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store/job.h"
#include "http/jsonw.h"

static const char *state_names[JOB_STATE_COUNT] = {
	"scheduled", "queued", "running", "succeeded", "failed", "canceled"
};

static const char *type_names[JOB_TYPE_COUNT] = {"command", "upload"};

void
job_init(struct job *j)
{
	memset(j, 0, sizeof(*j));
	j->exit_code = -1;
	j->signal = -1;
	j->worker = -1;
	j->cpu_ms = -1;
	j->max_rss_kb = -1;
	j->max_attempts = 1;
	j->file_size = -1;
}

void
job_clear(struct job *j)
{
	free(j->name);
	free(j->queue);
	free(j->command);
	free(j->argv_json);
	free(j->env_json);
	free(j->cwd);
	free(j->stdin_data);
	free(j->limits_json);
	free(j->error);
	free(j->file_name);
	free(j->file_sha256);
	free(j->after_json);
	free(j->after);
	job_init(j);
}

int
job_ids_parse(const char *json, uint64_t **ids, size_t *n)
{
	cJSON		*a = cJSON_Parse(json);
	const cJSON	*e;
	size_t		 k = 0;

	*ids = NULL;
	*n = 0;
	if (a == NULL || !cJSON_IsArray(a)) {
		cJSON_Delete(a);
		return -EIO;
	}
	*ids = calloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(**ids));
	if (*ids == NULL) {
		cJSON_Delete(a);
		return -ENOMEM;
	}
	cJSON_ArrayForEach(e, a)
		if (cJSON_IsNumber(e) && e->valuedouble >= 1)
			(*ids)[k++] = (uint64_t)e->valuedouble;
	*n = k;
	cJSON_Delete(a);
	return 0;
}

int
job_after_parse(struct job *j)
{
	if (j->after != NULL || j->after_json == NULL)
		return 0;
	return job_ids_parse(j->after_json, &j->after, &j->nafter);
}

const char *
job_state_name(enum job_state s)
{
	return (unsigned)s < JOB_STATE_COUNT ? state_names[s] : "?";
}

int
job_state_parse(const char *s)
{
	for (int i = 0; i < JOB_STATE_COUNT; i++)
		if (strcmp(s, state_names[i]) == 0)
			return i;
	return -1;
}

const char *
job_type_name(enum job_type t)
{
	return (unsigned)t < JOB_TYPE_COUNT ? type_names[t] : "?";
}

int
job_type_parse(const char *s)
{
	for (int i = 0; i < JOB_TYPE_COUNT; i++)
		if (strcmp(s, type_names[i]) == 0)
			return i;
	return -1;
}

int
job_state_finished(enum job_state s)
{
	return s == JOB_SUCCEEDED || s == JOB_FAILED || s == JOB_CANCELED;
}

int
job_can(enum job_state from, enum job_state to)
{
	switch (to) {
	case JOB_SCHEDULED:
		return from == JOB_RUNNING;	/* a retry's back-off */
	case JOB_QUEUED:
		/* due, requeued by shutdown/recovery, or retried by hand */
		return from == JOB_SCHEDULED || from == JOB_RUNNING ||
		    from == JOB_FAILED || from == JOB_CANCELED;
	case JOB_RUNNING:
		return from == JOB_QUEUED;
	case JOB_SUCCEEDED:
		return from == JOB_RUNNING;
	case JOB_FAILED:
		/* a run ended, or a dependency failed before it ran */
		return from == JOB_RUNNING || from == JOB_SCHEDULED ||
		    from == JOB_QUEUED;
	case JOB_CANCELED:
		return from == JOB_SCHEDULED || from == JOB_QUEUED ||
		    from == JOB_RUNNING;
	default:
		return 0;
	}
}

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
job_json(struct jsonw *w, const struct job *j)
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
	jsonw_lit(w, "}");
}
