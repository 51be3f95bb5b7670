/* GET /api/v1/queues: every queue with its settings and depth. */
#include "api.h"
#include "reply.h"
#include "server.h"
#include "tally.h"

int
api_queues_list(struct request *req)
{
	const struct tally	*t = req->srv->tally;
	cJSON			*root = cJSON_CreateObject();
	cJSON			*arr = cJSON_AddArrayToObject(root, "queues");

	for (int i = 0; i < t->nqueues; i++) {
		const struct queue_tally	*q = &t->queues[i];
		cJSON				*o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "name", q->name);
		cJSON_AddBoolToObject(o, "paused", q->paused);
		if (q->concurrency >= 0)
			cJSON_AddNumberToObject(o, "concurrency", q->concurrency);
		else
			cJSON_AddNullToObject(o, "concurrency");
		cJSON_AddNumberToObject(o, "scheduled",
		    (double)q->by_state[JOB_SCHEDULED]);
		cJSON_AddNumberToObject(o, "queued", (double)q->by_state[JOB_QUEUED]);
		cJSON_AddNumberToObject(o, "running",
		    (double)q->by_state[JOB_RUNNING]);
		cJSON_AddItemToArray(arr, o);
	}
	return reply_json(req, 200, root);
}
