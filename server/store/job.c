/* The job record: its states and their names, the transition rule, copies. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store/job.h"

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
	free(j->webhooks_json);
	free(j->after_json);
	free(j->after);
	free(j->node);
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
		/* a retry's back-off, or retried by hand behind dependencies */
		return from == JOB_RUNNING || from == JOB_FAILED ||
		    from == JOB_CANCELED;
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

void
job_free_all(struct job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		job_clear(&jobs[i]);
	free(jobs);
}

static int
dup_str(char **dst, const char *src)
{
	*dst = NULL;
	if (src && (*dst = strdup(src)) == NULL)
		return -ENOMEM;
	return 0;
}

int
job_copy(struct job *dst, const struct job *src)
{
	int rc = 0;

	*dst = *src;
	dst->after = NULL;
	dst->nafter = 0;
	rc |= dup_str(&dst->name, src->name);
	rc |= dup_str(&dst->queue, src->queue);
	rc |= dup_str(&dst->command, src->command);
	rc |= dup_str(&dst->argv_json, src->argv_json);
	rc |= dup_str(&dst->env_json, src->env_json);
	rc |= dup_str(&dst->cwd, src->cwd);
	rc |= dup_str(&dst->limits_json, src->limits_json);
	rc |= dup_str(&dst->error, src->error);
	rc |= dup_str(&dst->file_name, src->file_name);
	rc |= dup_str(&dst->file_sha256, src->file_sha256);
	rc |= dup_str(&dst->webhooks_json, src->webhooks_json);
	rc |= dup_str(&dst->after_json, src->after_json);
	rc |= dup_str(&dst->node, src->node);
	dst->stdin_data = NULL;
	if (src->stdin_data) {
		if ((dst->stdin_data = malloc(src->stdin_len + 1)) == NULL)
			rc = -ENOMEM;
		else {
			memcpy(dst->stdin_data, src->stdin_data, src->stdin_len);
			dst->stdin_data[src->stdin_len] = '\0';
		}
	}
	if (rc) {
		job_clear(dst);
		return -ENOMEM;
	}
	return 0;
}
