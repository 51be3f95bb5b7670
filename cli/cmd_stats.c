/*
 * runnel stats and runnel workers: the server's summary (GET
 * /api/v1/stats) in a few lines, and its worker pool (GET
 * /api/v1/workers) as a table, with the cluster's nodes when it has them.
 */
#include <stdio.h>
#include <string.h>

#include "table.h"
#include "term.h"

#include "submit.h"

/* Takes --url and --json only; 0 or EXIT_USAGE. */
static int
plain_options(struct cli *cli, const char *cmd, int argc, char **argv)
{
	int rc;

	if ((rc = cli_options(cli, cmd, argc, argv)) != 0)
		return rc;
	if (optind != argc)
		return cli_usage(cmd, "unexpected argument %s", argv[optind]);
	return 0;
}

static void
stats_print(const cJSON *st)
{
	static const char *const states[] = {
		"scheduled", "queued", "running", "succeeded", "failed",
		"canceled",
	};
	const cJSON	*jobs = cJSON_GetObjectItemCaseSensitive(st, "jobs");
	const cJSON	*per = cJSON_GetObjectItemCaseSensitive(st,
			    "finished_per_minute");
	const cJSON	*w = cJSON_GetObjectItemCaseSensitive(st, "workers");
	const cJSON	*v;
	long long	 hour = 0, minute = 0;
	char		 span[32];

	printf("%-10s %lld (", "jobs:", job_int(st, "total"));
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		printf("%s%lld %s", i ? ", " : "", job_int(jobs, states[i]),
		    states[i]);
	printf(")\n");
	cJSON_ArrayForEach(v, per) {
		hour += (long long)cJSON_GetNumberValue(v);
		minute = (long long)cJSON_GetNumberValue(v);
	}
	printf("%-10s %lld this minute, %lld in the last hour\n", "finished:",
	    minute, hour);
	printf("%-10s %lld since start\n", "submitted:",
	    job_int(st, "submitted_total"));
	term_span((int64_t)(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
	    st, "uptime_seconds")) * 1000), span, sizeof(span));
	printf("%-10s %s\n", "uptime:", span);
	printf("%-10s %lld (%lld busy, %lld up)\n", "workers:",
	    job_int(w, "size"), job_int(w, "busy"), job_int(w, "up"));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "draining")))
		printf("%-10s shutting down\n", "draining:");
}

int
cmd_stats(struct cli *cli, int argc, char **argv)
{
	struct reply	r;
	int		rc;

	if ((rc = plain_options(cli, "stats", argc, argv)) != 0 ||
	    (rc = api_call(cli, "GET", "/api/v1/stats", NULL, "stats",
	    &r)) != 0)
		return rc;
	if (cli->json)
		api_print_body(&r);
	else
		stats_print(r.json);
	reply_clear(&r);
	return 0;
}

/* A number cell, "-" when the field is null or absent. */
static int
num_cell(struct table *t, int col, const cJSON *o, const char *field)
{
	char buf[32];

	if (job_int(o, field) < 0)
		return table_set(t, col, NULL, "-");
	snprintf(buf, sizeof(buf), "%lld", job_int(o, field));
	return table_set(t, col, NULL, buf);
}

static int
workers_table(const cJSON *answer)
{
	static const char *const heads[] = {
		"NODE", "ID", "STATE", "PID", "JOB", "JOBS DONE", "STARTED",
	};
	const char	*node = job_str(answer, "node");
	const cJSON	*w;
	struct table	 t;
	char		 buf[32];
	int		 c0 = node ? 0 : 1, rc = 0;

	if (table_init(&t, heads + c0, 7 - c0) < 0)
		return EXIT_FAIL;
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(answer,
	    "workers")) {
		const char *state = job_str(w, "state");

		if (table_row(&t) < 0) {
			rc = EXIT_FAIL;
			break;
		}
		if (node != NULL)
			rc |= table_set(&t, 0, NULL, node);
		rc |= num_cell(&t, 1 - c0, w, "id");
		rc |= table_set(&t, 2 - c0, fmt_state_sgr(state), state);
		rc |= num_cell(&t, 3 - c0, w, "pid");
		rc |= num_cell(&t, 4 - c0, w, "job");
		rc |= num_cell(&t, 5 - c0, w, "jobs_done");
		fmt_age(job_str(w, "started_at"), buf, sizeof(buf));
		rc |= table_set(&t, 6 - c0, NULL, buf);
	}
	if (rc == 0)
		table_print(&t, term_width(), term_color(1));
	table_free(&t);
	return rc ? EXIT_FAIL : 0;
}

static int
nodes_table(const cJSON *nodes)
{
	static const char *const heads[] = {
		"NODE", "HOST", "WORKERS", "RUNNING", "ALIVE", "LEADER", "BEAT",
	};
	const cJSON	*n;
	struct table	 t;
	char		 buf[32];
	int		 rc = 0;

	if (table_init(&t, heads, 7) < 0)
		return EXIT_FAIL;
	cJSON_ArrayForEach(n, nodes) {
		int alive = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(n,
		    "alive"));

		if (table_row(&t) < 0) {
			rc = EXIT_FAIL;
			break;
		}
		rc |= table_set(&t, 0, NULL, job_str(n, "id"));
		rc |= table_set(&t, 1, NULL, job_str(n, "host"));
		rc |= num_cell(&t, 2, n, "workers");
		rc |= num_cell(&t, 3, n, "running");
		rc |= table_set(&t, 4, alive ? "\033[32m" : "\033[31m",
		    alive ? "yes" : "no");
		rc |= table_set(&t, 5, NULL, cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(n, "leader")) ? "yes" : "");
		term_span((int64_t)(cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(n, "beat_age_seconds")) *
		    1000), buf, sizeof(buf));
		rc |= table_set(&t, 6, NULL, buf);
	}
	if (rc == 0) {
		putchar('\n');
		table_print(&t, term_width(), term_color(1));
	}
	table_free(&t);
	return rc ? EXIT_FAIL : 0;
}

int
cmd_workers(struct cli *cli, int argc, char **argv)
{
	const cJSON	*nodes;
	struct reply	 r;
	int		 rc;

	if ((rc = plain_options(cli, "workers", argc, argv)) != 0 ||
	    (rc = api_call(cli, "GET", "/api/v1/workers", NULL, "workers",
	    &r)) != 0)
		return rc;
	if (cli->json)
		api_print_body(&r);
	else if ((rc = workers_table(r.json)) == 0 &&
	    cJSON_IsArray(nodes = cJSON_GetObjectItemCaseSensitive(r.json,
	    "nodes")))
		rc = nodes_table(nodes);
	reply_clear(&r);
	return rc;
}
