/*
 * runnel show: one job's fields as "key: value" lines, with times in
 * local RFC 3339 and how long ago, or the job object with --json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "term.h"

#include "submit.h"

/* Prints "key: value"; a value's lines are indented under the first,
 * and its other control characters (escapes a job's command or name may
 * hold) are shown as '?' rather than sent to the terminal. */
static void
kv(const char *key, const char *value)
{
	if (value == NULL)
		return;
	printf("%-12s ", key);
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p == '\n')
			printf("\n%-12s ", "");
		else if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			putchar('?');
		else
			putchar(*p);
	}
	putchar('\n');
}

static void
kv_time(const char *key, const cJSON *job, const char *field)
{
	const char	*ts = job_str(job, field);
	char		 buf[128];

	if (ts == NULL)
		return;
	fmt_time(ts, buf, sizeof(buf));
	kv(key, buf);
}

/* "K=V K=V" of an object's members (numbers and strings). */
static void
kv_pairs(const char *key, const cJSON *obj, const char *sep)
{
	const cJSON	*m;
	char		 line[4096];
	size_t		 n = 0;

	if (!cJSON_IsObject(obj) || obj->child == NULL)
		return;
	line[0] = '\0';
	cJSON_ArrayForEach(m, obj) {
		if (cJSON_IsNumber(m))
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s=%g",
			    n ? sep : "", m->string, m->valuedouble);
		else
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s=%s",
			    n ? sep : "", m->string,
			    cJSON_IsString(m) ? m->valuestring : "?");
		if (n >= sizeof(line))
			break;
	}
	kv(key, line);
}

static void
show_outcome(const cJSON *j)
{
	char		 buf[256], sig[32];
	long long	 v;

	if ((v = job_int(j, "exit_code")) >= 0) {
		snprintf(buf, sizeof(buf), "%lld", v);
		kv("exit code:", buf);
	}
	if ((v = job_int(j, "signal")) >= 0) {
		fmt_signal(v, sig, sizeof(sig));
		snprintf(buf, sizeof(buf), "%lld (%s)", v, sig);
		kv("signal:", buf);
	}
	kv("error:", job_str(j, "error"));
	snprintf(buf, sizeof(buf), "%lld of %lld", job_int(j, "attempts"),
	    job_int(j, "max_attempts"));
	kv("attempts:", buf);
	if (job_str(j, "started_at") != NULL) {
		fmt_duration(j, buf, sizeof(buf));
		kv("duration:", buf);
	}
	if ((v = job_int(j, "worker")) > 0) {
		snprintf(buf, sizeof(buf), "%lld, pid %lld", v, job_int(j, "pid"));
		kv("worker:", buf);
	}
	kv("node:", job_str(j, "node"));
	snprintf(buf, sizeof(buf), "stdout %lld bytes, stderr %lld bytes",
	    job_int(j, "stdout_bytes"), job_int(j, "stderr_bytes"));
	kv("output:", buf);
	if ((v = job_int(j, "cpu_ms")) >= 0) {
		snprintf(buf, sizeof(buf), "cpu %lld ms, max rss %lld KiB", v,
		    job_int(j, "max_rss_kb"));
		kv("resources:", buf);
	}
}

static void
show_spec(const cJSON *j)
{
	const cJSON	*a, *file = cJSON_GetObjectItemCaseSensitive(j, "file");
	char		 buf[512];
	size_t		 n = 0;

	kv("cwd:", job_str(j, "cwd"));
	kv_pairs("env:", cJSON_GetObjectItemCaseSensitive(j, "env"), " ");
	if (job_int(j, "timeout") >= 0) {
		snprintf(buf, sizeof(buf), "%gs", cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(j, "timeout")));
		kv("timeout:", buf);
	}
	kv_pairs("limits:", cJSON_GetObjectItemCaseSensitive(j, "limits"), " ");
	buf[0] = '\0';
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(j, "after"))
		if (n < sizeof(buf))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%g",
			    n ? " " : "", cJSON_GetNumberValue(a));
	if (n > 0)
		kv("after:", buf);
	if (cJSON_IsObject(file)) {
		snprintf(buf, sizeof(buf), "%s (%lld bytes)",
		    job_str(file, "name") ? job_str(file, "name") : "?",
		    job_int(file, "size"));
		kv("file:", buf);
		kv("sha256:", job_str(file, "sha256"));
	}
	if (job_int(j, "schedule_id") > 0) {
		snprintf(buf, sizeof(buf), "%lld", job_int(j, "schedule_id"));
		kv("schedule:", buf);
		kv_time("scheduled:", j, "scheduled_for");
	}
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(j, "webhooks"))
		kv("webhook:", job_str(a, "url"));
}

static void
show_job(const cJSON *j)
{
	const char	*state = job_str(j, "state");
	const char	*sgr = fmt_state_sgr(state);
	int		 color = term_color(1) && sgr != NULL;
	char		 buf[64], *what;

	snprintf(buf, sizeof(buf), "%lld", job_int(j, "id"));
	kv("id:", buf);
	kv("name:", job_str(j, "name"));
	kv("type:", job_str(j, "type"));
	printf("%-12s %s%s%s\n", "state:", color ? sgr : "",
	    state ? state : "?", color ? FMT_RESET : "");
	kv("queue:", job_str(j, "queue"));
	snprintf(buf, sizeof(buf), "%lld", job_int(j, "priority"));
	kv("priority:", buf);
	if (job_str(j, "command") != NULL)
		kv("command:", job_str(j, "command"));
	else if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "argv"))) {
		cJSON *copy = cJSON_Duplicate(j, 1);

		/* fmt_what prefers the name: ask it for the argv alone */
		cJSON_DeleteItemFromObjectCaseSensitive(copy, "name");
		if ((what = fmt_what(copy)) != NULL)
			kv("argv:", what);
		free(what);
		cJSON_Delete(copy);
	}
	show_spec(j);
	kv_time("created:", j, "created_at");
	kv_time("run at:", j, "run_at");
	kv_time("started:", j, "started_at");
	kv_time("finished:", j, "finished_at");
	show_outcome(j);
}

int
cmd_show(struct cli *cli, int argc, char **argv)
{
	unsigned long long	 id;
	struct reply		 r;
	char			 path[64], what[48];
	int			 rc;

	if ((rc = cli_options(cli, "show", argc, argv)) != 0)
		return rc;
	if (argc - optind != 1)
		return cli_usage("show", "one job id: runnel show ID");
	if ((rc = cli_parse_id("show", argv[optind], &id)) != 0)
		return rc;
	snprintf(path, sizeof(path), "/api/v1/jobs/%llu", id);
	snprintf(what, sizeof(what), "job %llu", id);
	if ((rc = api_call(cli, "GET", path, NULL, what, &r)) != 0)
		return rc;
	if (cli->json)
		api_print_body(&r);
	else if (!cJSON_IsObject(r.json)) {
		cli_warnx("%s: the server's answer is not a job", what);
		rc = EXIT_SERVER;
	} else
		show_job(r.json);
	reply_clear(&r);
	return rc;
}
