/*
 * The RUN message of a job.  argv, env and limits are stored as the JSON
 * the API wrote with cJSON; they are parsed back here so that the codec
 * gets typed members and checks them like any others.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "pool/runmsg.h"

/* An integer member of the stored limits, 0 when absent. */
static int
limit_get(const cJSON *limits, const char *name, int64_t *out)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(limits, name);
	double		 d;

	*out = 0;
	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v))
		return -EINVAL;
	d = v->valuedouble;
	if (!(d >= 0 && d <= (double)MSG_INT_MAX) || d != (double)(int64_t)d)
		return -EINVAL;
	*out = (int64_t)d;
	return 0;
}

static int
limits_read(struct msg_limits *l, const char *json)
{
	cJSON	*o;
	int	 rc = -EINVAL;

	if ((o = cJSON_Parse(json)) == NULL)
		return -EINVAL;
	if (cJSON_IsObject(o) &&
	    limit_get(o, "memory_mb", &l->memory_mb) == 0 &&
	    limit_get(o, "cpu_seconds", &l->cpu_seconds) == 0 &&
	    limit_get(o, "open_files", &l->open_files) == 0 &&
	    limit_get(o, "processes", &l->processes) == 0 &&
	    limit_get(o, "output_mb", &l->output_mb) == 0)
		rc = 0;
	cJSON_Delete(o);
	return rc;
}

static int
argv_read(struct runmsg *rm, const char *json)
{
	const cJSON	*a;
	cJSON		*o;
	size_t		 n = 0;

	if ((o = rm->argv_json = cJSON_Parse(json)) == NULL || !cJSON_IsArray(o))
		return -EINVAL;
	cJSON_ArrayForEach(a, o) {
		if (!cJSON_IsString(a))
			return -EINVAL;
		n++;
	}
	if (n == 0 || n > MSG_ARGV_MAX)
		return -EINVAL;
	if ((rm->msg.argv = calloc(n, sizeof(*rm->msg.argv))) == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(a, o)
		rm->msg.argv[rm->msg.argc++] = a->valuestring;
	return 0;
}

static int
env_read(struct runmsg *rm, const char *json)
{
	const cJSON	*e;
	cJSON		*o;
	size_t		 n = 0;

	if ((o = rm->env_json = cJSON_Parse(json)) == NULL || !cJSON_IsObject(o))
		return -EINVAL;
	cJSON_ArrayForEach(e, o) {
		if (!cJSON_IsString(e))
			return -EINVAL;
		n++;
	}
	if (n == 0)
		return 0;
	if (n > MSG_ENV_MAX)
		return -EINVAL;
	if ((rm->msg.env = calloc(n, sizeof(*rm->msg.env))) == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(e, o) {
		rm->msg.env[rm->msg.nenv].name = e->string;
		rm->msg.env[rm->msg.nenv++].value = e->valuestring;
	}
	return 0;
}

int
runmsg_make(struct runmsg *rm, const struct job *j, int64_t kill_grace_ms,
    const char *file_path)
{
	struct msg_run	*m = &rm->msg;
	int		 rc;

	memset(rm, 0, sizeof(*rm));
	m->attempt = j->attempts;
	m->command = j->command;
	m->shell = j->shell;
	m->cwd = j->cwd;
	if (j->has_stdin) {
		/* A NUL never reaches a job: the API refuses one in stdin. */
		m->stdin_data = j->stdin_data ? j->stdin_data : "";
		m->stdin_len = strlen(m->stdin_data);
	}
	m->timeout_ms = j->timeout_ms > 0 ? j->timeout_ms : 0;
	m->kill_grace_ms = kill_grace_ms;
	if (file_path != NULL) {
		m->file.path = file_path;
		m->file.name = j->file_name;
		m->file.size = j->file_size;
		m->file.sha256 = j->file_sha256;
	}
	if ((j->argv_json && (rc = argv_read(rm, j->argv_json)) < 0) ||
	    (j->env_json && (rc = env_read(rm, j->env_json)) < 0) ||
	    (j->limits_json && (rc = limits_read(&m->limits,
	    j->limits_json)) < 0))
		return rc;
	return 0;
}

void
runmsg_clear(struct runmsg *rm)
{
	free(rm->msg.argv);
	free(rm->msg.env);
	cJSON_Delete(rm->argv_json);
	cJSON_Delete(rm->env_json);
	memset(rm, 0, sizeof(*rm));
}
