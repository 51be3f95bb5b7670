/*
 * runnel log: a job's stdout (or stderr) to our stdout, byte for byte;
 * with -f, as the job writes it, through its later attempts, until it is
 * finished.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "follow.h"
#include "submit.h"

#define LOG_RETRY_S	300

/* The attempt to start from: the job's last, or 1 before it starts. */
static int
last_attempt(struct cli *cli, unsigned long long id, int *attempt)
{
	struct reply	r;
	char		path[64];
	int		rc;

	snprintf(path, sizeof(path), "/api/v1/jobs/%llu", id);
	if ((rc = client_call_retry(&cli->client, "GET", path, NULL, &r,
	    LOG_RETRY_S)) != 0)
		return rc;
	if (r.status != 200)
		rc = client_fail(&r, "log");
	else
		*attempt = job_int(r.json, "attempts") > 0 ?
		    (int)job_int(r.json, "attempts") : 1;
	reply_clear(&r);
	return rc;
}

int
cmd_log(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, CLI_OPT_URL},
		{"follow", no_argument, NULL, 'f'},
		{"attempt", required_argument, NULL, 'A'},
		{"stderr", no_argument, NULL, 'e'},
		{NULL, 0, NULL, 0},
	};
	struct follow	 f;
	cJSON		*end = NULL;
	char		*rest;
	int		 c, rc, follow = 0, err = 0, attempt = 0;
	long		 v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+feA:", opts, NULL)) != -1) {
		switch (c) {
		case CLI_OPT_URL: cli->url_flag = optarg; break;
		case 'f': follow = 1; break;
		case 'e': err = 1; break;
		case 'A':
			v = strtol(optarg, &rest, 10);
			if (*rest != '\0' || v < 1 || v > 100000)
				return cli_usage("log", "--attempt %s: a number from "
				    "1", optarg);
			attempt = (int)v;
			break;
		default:
			return cli_usage("log", NULL);
		}
	}
	if (argc - optind != 1)
		return cli_usage("log", "one job id, please");
	memset(&f, 0, sizeof(f));
	if ((rc = cli_parse_id("log", argv[optind], &f.id)) != 0 ||
	    (rc = cli_connect(cli)) != 0)
		return rc;
	f.cli = cli;
	f.fds[0] = err ? -1 : 1;
	f.fds[1] = err ? 1 : -1;
	f.retry_s = LOG_RETRY_S;
	f.notes = follow && isatty(2);
	f.attempt = attempt;
	f.once = !follow;
	if (follow && attempt == 0) {
		f.all_attempts = 1;
		if ((rc = last_attempt(cli, f.id, &f.attempt)) != 0)
			return rc;
	}
	rc = follow_run(&f, &end);
	cJSON_Delete(end);
	return rc;
}
