/*
 * runnel add: submit one job, print its id (or the job with --json).
 */
#include <stdio.h>

#include "submit.h"

int
cmd_add(struct cli *cli, int argc, char **argv)
{
	struct spec	 s;
	cJSON		*job = NULL;
	char		*text;
	int		 rc;

	if (spec_init(&s) < 0)
		return EXIT_FAIL;
	if ((rc = spec_from_args(&s, cli, argc, argv, "add", &cli->json)) != 0 ||
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
