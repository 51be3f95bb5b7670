/*
 * One job to the server, safely repeated when the connection breaks, and
 * the few readers of a job object that several commands share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "term.h"

#include "submit.h"

#define SUBMIT_TRIES	4

void
submit_key(char *buf, size_t size)
{
	unsigned char	r[16];
	size_t		n;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		/* no entropy: a key from time and pid is unique enough */
		snprintf(buf, size, "runnel-%lld-%d", (long long)term_now_ms(),
		    (int)getpid());
		return;
	}
	n = (size_t)snprintf(buf, size, "runnel-");
	for (size_t i = 0; i < sizeof(r) && n + 3 <= size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%02x", r[i]);
}

int
submit_job(struct cli *cli, struct spec *s, cJSON **job)
{
	struct curl_slist	*hdr = NULL;
	struct reply		 r;
	char			 line[512], key[64];
	char			*body = NULL;
	int			 rc, tries = 0;

	*job = NULL;
	if ((rc = cli_connect(cli)) != 0)
		return rc;
	if (s->idem_key == NULL)
		submit_key(key, sizeof(key));
	snprintf(line, sizeof(line), "Idempotency-Key: %s",
	    s->idem_key ? s->idem_key : key);
	if ((hdr = curl_slist_append(NULL, line)) == NULL ||
	    (body = cJSON_PrintUnformatted(s->json)) == NULL) {
		rc = EXIT_FAIL;
		goto out;
	}
	for (;;) {
		rc = client_call(&cli->client, "POST", "/api/v1/jobs", body, hdr,
		    &r);
		/* sent, perhaps taken, no answer: the key makes a retry safe */
		if (rc != EXIT_UNREACHABLE || !cli->client.connected ||
		    ++tries >= SUBMIT_TRIES || term_interrupted())
			break;
		client_pause_ms(200L * tries);
	}
	if (rc != 0)
		goto out;
	if (r.status != 200 && r.status != 201)
		rc = client_fail(&r, "submit");
	else if (!cJSON_IsObject(r.json) || job_int(r.json, "id") <= 0) {
		cli_warnx("submit: the server's answer is not a job");
		rc = EXIT_SERVER;
	} else {
		*job = r.json;
		r.json = NULL;
	}
	reply_clear(&r);
out:
	free(body);
	curl_slist_free_all(hdr);
	return rc;
}

long long
job_int(const cJSON *job, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(job, name);

	return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

const char *
job_str(const cJSON *job, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(job, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
job_status(const cJSON *job)
{
	const char	*state = job_str(job, "state");
	long long	 code = job_int(job, "exit_code");
	long long	 sig = job_int(job, "signal");

	if (state != NULL && strcmp(state, "succeeded") == 0)
		return 0;
	if (sig > 0)
		return 128 + (int)(sig & 127);
	if (code > 0)
		return (int)(code & 255);
	return EXIT_FAIL;
}
