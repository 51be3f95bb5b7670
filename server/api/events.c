/* GET /api/v1/events: the Server-Sent Events stream of job changes. */
#include "api/api.h"
#include "core/events.h"
#include "server.h"

int
api_events_get(struct request *req)
{
	return events_subscribe(req->srv, req);
}
