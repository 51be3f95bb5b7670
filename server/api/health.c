/*
 * GET /healthz: 200 when the store is writable, its disk has room and
 * the pool is up.
 */
#include "api/api.h"
#include "http/reply.h"
#include "pool/pool.h"
#include "server.h"
#include "store/space.h"
#include "store/store.h"

int
api_health_get(struct request *req)
{
	struct server *srv = req->srv;

	if (srv->draining)
		return reply_fail(req, 503, "unavailable", NULL,
		    "runneld is shutting down");
	if (space_full(srv))
		return reply_fail(req, 503, "storage_full", NULL, "the disk of "
		    "the data directory is full: no job is taken or started");
	if (store_ping(srv->store) < 0)
		return reply_fail(req, 503, "unavailable", NULL,
		    "the store is not writable");
	if (pool_up(srv->pool) == 0)
		return reply_fail(req, 503, "unavailable", NULL,
		    "no worker is up");
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "status", "ok");
	return reply_json(req, 200, o);
}
