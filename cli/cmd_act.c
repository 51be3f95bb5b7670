/*
 * runnel cancel, retry and rm: one action on each job named.  Every id is
 * checked before anything is sent; a job the server refuses is reported
 * and the others still get their turn.  The exit status is the first
 * failure's (cli.h), 0 when every one worked.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

#include "submit.h"

struct action {
	const char	*cmd;		/* "cancel" */
	const char	*method;
	const char	*suffix;	/* after /api/v1/jobs/ID */
	void		(*done)(unsigned long long id, const cJSON *job);
};

static void
canceled(unsigned long long id, const cJSON *job)
{
	const char *state = job_str(job, "state");

	if (state == NULL || strcmp(state, "canceled") == 0)
		printf("canceled %llu\n", id);
	else	/* it ended by itself before the signal did */
		printf("%llu ended before the cancel: %s\n", id, state);
}

static void
retried(unsigned long long id, const cJSON *job)
{
	const char *state = job_str(job, "state");

	if (state != NULL && strcmp(state, "scheduled") == 0)
		printf("scheduled %llu again (it waits for its dependencies)\n",
		    id);
	else
		printf("queued %llu again\n", id);
}

static void
deleted(unsigned long long id, const cJSON *job)
{
	(void)job;
	printf("deleted %llu\n", id);
}

static const struct action actions[] = {
	{"cancel", "POST", "/cancel", canceled},
	{"retry", "POST", "/retry", retried},
	{"rm", "DELETE", "", deleted},
};

static int
act(struct cli *cli, const struct action *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, CLI_OPT_URL},
		{NULL, 0, NULL, 0},
	};
	unsigned long long	*ids;
	struct reply		 r;
	char			 path[96], what[48];
	int			 c, n, rc = 0, first = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != CLI_OPT_URL)
			return cli_usage(a->cmd, NULL);
		cli->url_flag = optarg;
	}
	if ((n = argc - optind) == 0)
		return cli_usage(a->cmd, "no job id: runnel %s ID...", a->cmd);
	if ((ids = calloc((size_t)n, sizeof(*ids))) == NULL)
		return EXIT_FAIL;
	for (int i = 0; i < n && rc == 0; i++)
		rc = cli_parse_id(a->cmd, argv[optind + i], &ids[i]);
	for (int i = 0; i < n && rc == 0; i++) {
		snprintf(path, sizeof(path), "/api/v1/jobs/%llu%s", ids[i],
		    a->suffix);
		snprintf(what, sizeof(what), "job %llu", ids[i]);
		if ((c = api_call(cli, a->method, path, NULL, what, &r)) == 0) {
			a->done(ids[i], r.json);
			reply_clear(&r);
		} else if (c == EXIT_UNREACHABLE || c == EXIT_AUTH ||
		    c == EXIT_USAGE)
			rc = c;	/* the next ones would fare no better */
		else if (first == 0)
			first = c;
	}
	free(ids);
	return rc != 0 ? rc : first;
}

int
cmd_cancel(struct cli *cli, int argc, char **argv)
{
	return act(cli, &actions[0], argc, argv);
}

int
cmd_retry(struct cli *cli, int argc, char **argv)
{
	return act(cli, &actions[1], argc, argv);
}

int
cmd_rm(struct cli *cli, int argc, char **argv)
{
	return act(cli, &actions[2], argc, argv);
}
