/*
 * runnel queue: list the queues with their counts (GET /api/v1/queues),
 * pause and resume one, set its concurrency (PATCH /api/v1/queues/NAME).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "term.h"

#include "submit.h"

#define OPT_CONCURRENCY	0x200

static const struct option queue_opts[] = {
	{"url", required_argument, NULL, CLI_OPT_URL},
	{"json", no_argument, NULL, CLI_OPT_JSON},
	{"concurrency", required_argument, NULL, OPT_CONCURRENCY},
	{NULL, 0, NULL, 0},
};

static int
queue_ls(struct cli *cli)
{
	static const char *const heads[] = {
		"NAME", "PAUSED", "LIMIT", "SCHEDULED", "QUEUED", "RUNNING",
	};
	static const char *const counts[] = {"scheduled", "queued", "running"};
	const cJSON	*q;
	struct table	 t;
	struct reply	 r;
	char		 buf[32];
	int		 rc, c;

	if ((rc = api_call(cli, "GET", "/api/v1/queues", NULL, "queues",
	    &r)) != 0)
		return rc;
	if (cli->json) {
		api_print_body(&r);
		goto out;
	}
	if ((rc = table_init(&t, heads, 6)) != 0) {
		rc = EXIT_FAIL;
		goto out;
	}
	cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(r.json,
	    "queues")) {
		if (table_row(&t) < 0) {
			rc = EXIT_FAIL;
			break;
		}
		c = 0;
		table_set(&t, c++, NULL, job_str(q, "name"));
		table_set(&t, c++, "\033[33m", cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(q, "paused")) ? "yes" : "");
		if (job_int(q, "concurrency") >= 0)
			snprintf(buf, sizeof(buf), "%lld", job_int(q, "concurrency"));
		else
			snprintf(buf, sizeof(buf), "-");
		table_set(&t, c++, NULL, buf);
		for (size_t i = 0; i < 3; i++) {
			snprintf(buf, sizeof(buf), "%lld", job_int(q, counts[i]));
			table_set(&t, c++, NULL, buf);
		}
	}
	if (rc == 0)
		table_print(&t, term_width(), term_color(1));
	table_free(&t);
out:
	reply_clear(&r);
	return rc;
}

/* PATCH the queue with body; says what changed (done: "paused"). */
static int
queue_patch(struct cli *cli, const char *name, const char *body,
    const char *done)
{
	struct reply	 r;
	char		 path[256], what[128];
	char		*e;
	long long	 n;
	int		 rc;

	if ((rc = cli_connect(cli)) != 0)
		return rc;
	if ((e = curl_easy_escape(cli->client.curl, name, 0)) == NULL)
		return EXIT_FAIL;
	snprintf(path, sizeof(path), "/api/v1/queues/%s", e);
	curl_free(e);
	snprintf(what, sizeof(what), "queue %s", name);
	if ((rc = api_call(cli, "PATCH", path, body, what, &r)) != 0)
		return rc;
	if (cli->json)
		api_print_body(&r);
	else if (done != NULL)
		printf("%s %s\n", done, name);
	else if ((n = job_int(r.json, "concurrency")) >= 0)
		printf("%s: at most %lld at once\n", name, n);
	else
		printf("%s: no limit\n", name);
	reply_clear(&r);
	return 0;
}

/* The body for "set": {"concurrency": N|null}, in buf. */
static int
concurrency_body(const char *arg, char *buf, size_t size)
{
	char	*end;
	long	 n;

	if (strcmp(arg, "none") == 0) {
		snprintf(buf, size, "{\"concurrency\":null}");
		return 0;
	}
	n = strtol(arg, &end, 10);
	if (end == arg || *end != '\0' || n < 1 || n > 1000000)
		return cli_usage("queue", "--concurrency %s: 1 ... 1000000 or "
		    "none", arg);
	snprintf(buf, size, "{\"concurrency\":%ld}", n);
	return 0;
}

int
cmd_queue(struct cli *cli, int argc, char **argv)
{
	const char	*sub = "ls", *conc = NULL;
	char		 body[64];
	int		 c, rc, verb = 0;

	if (argc > 1 && argv[1][0] != '-') {
		verb = 1;
		sub = argv[1];
		argv[1] = argv[0];	/* getopt starts after the verb */
		argc--, argv++;
	}
	/* options may follow the queue's name: getopt permutes */
	optind = 1;
	while ((c = getopt_long(argc, argv, "", queue_opts, NULL)) != -1) {
		if (c == CLI_OPT_URL)
			cli->url_flag = optarg;
		else if (c == CLI_OPT_JSON)
			cli->json = 1;
		else if (c == OPT_CONCURRENCY)
			conc = optarg;
		else
			return cli_usage("queue", NULL);
	}
	argc -= optind, argv += optind;
	if (!verb && argc > 0) {	/* options came before the verb */
		sub = argv[0];
		argc--, argv++;
	}
	if (conc != NULL && strcmp(sub, "set") != 0)
		return cli_usage("queue", "--concurrency goes with queue set");
	if (strcmp(sub, "ls") == 0) {
		if (argc != 0)
			return cli_usage("queue", "queue ls takes no argument");
		return queue_ls(cli);
	}
	if (strcmp(sub, "pause") != 0 && strcmp(sub, "resume") != 0 &&
	    strcmp(sub, "set") != 0)
		return cli_usage("queue", "no queue command %s (ls, pause, "
		    "resume, set)", sub);
	if (argc != 1)
		return cli_usage("queue", "one queue name: runnel queue %s Q",
		    sub);
	if (strcmp(sub, "set") == 0) {
		if (conc == NULL)
			return cli_usage("queue", "queue set Q --concurrency N|none");
		if ((rc = concurrency_body(conc, body, sizeof(body))) != 0)
			return rc;
		return queue_patch(cli, argv[0], body, NULL);
	}
	if (strcmp(sub, "pause") == 0)
		return queue_patch(cli, argv[0], "{\"paused\":true}", "paused");
	return queue_patch(cli, argv[0], "{\"paused\":false}", "resumed");
}
