/*
 * runnel add: submit one job, print its id (or the job with --json).
 */
#include <getopt.h>
#include <stdio.h>

#include "submit.h"

int
cmd_add(struct cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{"url", required_argument, NULL, CLI_OPT_URL},
		{"json", no_argument, NULL, CLI_OPT_JSON},
		{NULL, 0, NULL, 0},
	};
	struct option	 opts[SPEC_OPTIONS + 4];
	struct spec	 s;
	cJSON		*job = NULL;
	char		*text;
	int		 c, rc;

	if (spec_init(&s) < 0)
		return EXIT_FAIL;
	spec_options_with(own, opts, sizeof(opts) / sizeof(opts[0]));
	optind = 1;
	while ((c = getopt_long(argc, argv, "+" SPEC_SHORT, opts, NULL)) != -1) {
		if (c == CLI_OPT_URL)
			cli->url_flag = optarg;
		else if (c == CLI_OPT_JSON)
			cli->json = 1;
		else if ((rc = spec_option(&s, c, optarg, "add")) != 0) {
			if (rc == 1)
				rc = cli_usage("add", NULL);
			goto out;
		}
	}
	if ((rc = spec_command(&s, argc - optind, argv + optind, "add")) != 0 ||
	    (rc = submit_job(cli, &s, &job)) != 0)
		goto out;
	if (cli->json) {
		if ((text = cJSON_PrintUnformatted(job)) != NULL)
			printf("%s\n", text);
		cJSON_free(text);
	} else
		printf("%lld\n", job_int(job, "id"));
out:
	cJSON_Delete(job);
	spec_clear(&s);
	return rc;
}
