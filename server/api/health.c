/*
 * GET /healthz: 200 when the store is writable, its disk has room and
 * the pool is up; else 503 with what is wrong (API.md's error body).  In
 * a cluster, a database that cannot be reached is database_unavailable,
 * with since when, why and when the next attempt is.
 */
#include <errno.h>

#include "api/api.h"
#include "clock.h"
#include "http/reply.h"
#include "pool/pool.h"
#include "server.h"
#include "store/cluster.h"
#include "store/space.h"
#include "store/store.h"

static int
database_down(struct request *req)
{
	struct server		*srv = req->srv;
	struct store_link	 l;
	char			 since[CLOCK_TEXT_SIZE];

	store_link_info(srv->store, &l);
	if (l.up || l.down_at == 0)
		return reply_errno(req, -ENOTCONN);
	clock_format_ms(l.down_at, since);
	reply_fail(req, 503, "database_unavailable", NULL, "the database "
	    "(PostgreSQL) cannot be reached since %s (%.1fs): %s; writes get "
	    "503, running jobs go on and their ends are reported once it is "
	    "back; next attempt to connect in %.1fs (%llu so far)", since,
	    (double)l.down_ms / 1000.0, l.error, (double)l.retry_in_ms / 1000.0,
	    (unsigned long long)l.attempts);
	response_header(&req->resp, "Retry-After", REPLY_DB_RETRY_AFTER);
	return API_DONE;
}

int
api_health_get(struct request *req)
{
	struct server	*srv = req->srv;
	int		 rc;

	if (srv->draining)
		return reply_fail(req, 503, "unavailable", NULL,
		    "runneld is shutting down");
	if (space_full(srv))
		return reply_fail(req, 503, "storage_full", NULL, "the disk of "
		    "the data directory is full: no job is taken or started");
	if ((rc = store_ping(srv->store)) == -ENOTCONN && srv->cluster)
		return database_down(req);
	if (rc < 0)
		return reply_fail(req, 503, "unavailable", NULL,
		    "the store is not writable");
	if (pool_up(srv->pool) == 0)
		return reply_fail(req, 503, "unavailable", NULL,
		    "no worker is up");
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "status", "ok");
	return reply_json(req, 200, o);
}
