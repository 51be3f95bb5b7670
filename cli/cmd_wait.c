/*
 * runnel wait: until every job named has finished, however long, with
 * the server's long poll (?wait=300) asked again as often as needed; the
 * exit status is the first unsuccessful job's.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "submit.h"
#include "term.h"

#define WAIT_RETRY_S	300

static int
finished(const cJSON *job)
{
	const char *s = job_str(job, "state");

	return s && (strcmp(s, "succeeded") == 0 || strcmp(s, "failed") == 0 ||
	    strcmp(s, "canceled") == 0);
}

/* 0 with the job's status in *status, or an exit status of ours. */
static int
wait_one(struct cli *cli, unsigned long long id, int *status)
{
	struct reply	r;
	char		path[96];
	int		rc;

	snprintf(path, sizeof(path), "/api/v1/jobs/%llu?wait=300", id);
	for (;;) {
		if (term_interrupted())
			return 128 + term_interrupted();
		if ((rc = client_call_retry(&cli->client, "GET", path, NULL, &r,
		    WAIT_RETRY_S)) != 0)
			return rc;
		if (r.status != 200) {
			char what[48];

			snprintf(what, sizeof(what), "job %llu", id);
			rc = client_fail(&r, what);
			reply_clear(&r);
			return rc;
		}
		if (finished(r.json)) {
			*status = job_status(r.json);
			if (*status != 0)
				cli_warnx("job %llu %s: %s", id,
				    job_str(r.json, "state"),
				    job_str(r.json, "error") ?
				    job_str(r.json, "error") : "no exit status");
			reply_clear(&r);
			return 0;
		}
		reply_clear(&r);
	}
}

int
cmd_wait(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, CLI_OPT_URL},
		{NULL, 0, NULL, 0},
	};
	unsigned long long	*ids;
	int			 c, n, rc = 0, first = 0, status = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c != CLI_OPT_URL)
			return cli_usage("wait", NULL);
		cli->url_flag = optarg;
	}
	if ((n = argc - optind) == 0)
		return cli_usage("wait", "which jobs? runnel wait ID...");
	if ((ids = calloc((size_t)n, sizeof(*ids))) == NULL)
		return EXIT_FAIL;
	for (int i = 0; i < n && rc == 0; i++)
		rc = cli_parse_id("wait", argv[optind + i], &ids[i]);
	if (rc == 0)
		rc = cli_connect(cli);
	for (int i = 0; i < n && rc == 0; i++) {
		if ((rc = wait_one(cli, ids[i], &status)) == 0 && first == 0)
			first = status;
	}
	free(ids);
	return rc != 0 ? rc : first;
}
