/* The job's states, names, transition rule and JSON form (API.md). */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "job.h"

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
	job_init(j);
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

static void
add_time(cJSON *o, const char *key, int64_t ms)
{
	char buf[CLOCK_TEXT_SIZE];

	if (ms == 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	clock_format_ms(ms, buf);
	cJSON_AddStringToObject(o, key, buf);
}

static void
add_str(cJSON *o, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

static void
add_int(cJSON *o, const char *key, int64_t v, int present)
{
	if (present)
		cJSON_AddNumberToObject(o, key, (double)v);
	else
		cJSON_AddNullToObject(o, key);
}

/* Stored JSON text goes out as it is: it was produced by cJSON itself. */
static void
add_raw(cJSON *o, const char *key, const char *json, const char *fallback)
{
	if (json)
		cJSON_AddRawToObject(o, key, json);
	else if (fallback)
		cJSON_AddRawToObject(o, key, fallback);
	else
		cJSON_AddNullToObject(o, key);
}

static void
add_file(cJSON *o, const struct job *j)
{
	cJSON *f;

	if (j->type != JOB_UPLOAD || j->file_name == NULL) {
		cJSON_AddNullToObject(o, "file");
		return;
	}
	f = cJSON_AddObjectToObject(o, "file");
	cJSON_AddStringToObject(f, "name", j->file_name);
	cJSON_AddNumberToObject(f, "size", (double)j->file_size);
	add_str(f, "sha256", j->file_sha256);
}

cJSON *
job_to_json(const struct job *j)
{
	cJSON	*o;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "id", (double)j->id);
	cJSON_AddStringToObject(o, "type", job_type_name(j->type));
	add_str(o, "name", j->name);
	add_str(o, "queue", j->queue);
	cJSON_AddNumberToObject(o, "priority", (double)j->priority);
	cJSON_AddStringToObject(o, "state", job_state_name(j->state));
	add_str(o, "command", j->command);
	add_raw(o, "argv", j->argv_json, NULL);
	add_raw(o, "env", j->env_json, "{}");
	add_str(o, "cwd", j->cwd);
	if (j->timeout_ms > 0)
		cJSON_AddNumberToObject(o, "timeout", (double)j->timeout_ms / 1000.0);
	else
		cJSON_AddNullToObject(o, "timeout");
	add_raw(o, "limits", j->limits_json, NULL);
	cJSON_AddNumberToObject(o, "attempts", j->attempts);
	cJSON_AddNumberToObject(o, "max_attempts", j->max_attempts);
	add_time(o, "created_at", j->created_at);
	add_time(o, "run_at", j->run_at);
	add_time(o, "started_at", j->started_at);
	add_time(o, "finished_at", j->finished_at);
	add_int(o, "exit_code", j->exit_code, j->exit_code >= 0);
	add_int(o, "signal", j->signal, j->signal > 0);
	add_str(o, "error", j->error);
	add_int(o, "worker", j->worker, j->worker >= 0);
	add_int(o, "pid", j->pid, j->pid > 0 && j->state == JOB_RUNNING);
	cJSON_AddNumberToObject(o, "stdout_bytes", (double)j->stdout_bytes);
	cJSON_AddNumberToObject(o, "stderr_bytes", (double)j->stderr_bytes);
	add_int(o, "cpu_ms", j->cpu_ms, j->cpu_ms >= 0);
	add_int(o, "max_rss_kb", j->max_rss_kb, j->max_rss_kb >= 0);
	add_file(o, j);
	return o;
}
