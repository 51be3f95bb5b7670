/*
 * Fuzz target: arbitrary bytes as a POST /api/v1/jobs body.  Either the
 * body is refused with a well-formed error, or every job it yields is
 * valid and renders back to JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/render.h"
#include "api/spec.h"
#include "http/jsonw.h"
#include "store/job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keeps the results observable so the optimiser keeps the code. */
volatile size_t fuzz_job_json_sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_error	 e;
	struct job		*jobs;
	size_t			 n;
	int			 batch;
	char			*body = malloc(size + 1);

	if (body == NULL)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	if (spec_parse_body(body, size, &jobs, &n, &batch, &e) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct jsonw	 w;
			size_t		 len = 0;
			char		*text;
			cJSON		*back = NULL;

			jsonw_init(&w);
			render_job(&w, &jobs[i]);
			text = jsonw_take(&w, &len);
			/* What we write must parse back. */
			if (text && (back = cJSON_Parse(text)) == NULL)
				abort();
			cJSON_Delete(back);

			if (jobs[i].queue == NULL || !spec_queue_valid(jobs[i].queue) ||
			    (jobs[i].command == NULL) == (jobs[i].argv_json == NULL))
				abort();
			fuzz_job_json_sink += len;
			free(text);
		}
		job_free_all(jobs, n);
	} else {
		if (e.status < 400 || e.status > 599 || e.code == NULL)
			abort();
		fuzz_job_json_sink += strlen(e.message);
	}
	free(body);
	return 0;
}
