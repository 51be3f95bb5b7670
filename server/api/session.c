/*
 * /api/v1/session: a browser trades the bearer token (checked like any
 * /api/v1 request) for an HttpOnly session cookie that its EventSource
 * can send; DELETE ends it.  Without a configured token it says so.
 */
#include "api/api.h"
#include "http/auth.h"
#include "http/reply.h"
#include "server.h"

/*
 * auth: whether this runneld needs a token; authorized: whether this
 * request has it (or a session).  GET needs no token, so a page can ask
 * without a 401 in its console.
 */
static int
session_json(struct request *req, int status)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "auth", req->srv->cfg->token != NULL);
	cJSON_AddBoolToObject(o, "authorized", auth_ok(req));
	return reply_json(req, status, o);
}

int
api_session_get(struct request *req)
{
	return session_json(req, 200);
}

int
api_session_create(struct request *req)
{
	char cookie[160];

	if (req->srv->cfg->token && auth_session_new(req, cookie, sizeof(cookie)) == 0)
		response_header(&req->resp, "Set-Cookie", cookie);
	return session_json(req, 201);
}

int
api_session_delete(struct request *req)
{
	char cookie[160];

	auth_session_end(req, cookie, sizeof(cookie));
	response_header(&req->resp, "Set-Cookie", cookie);
	response_body(&req->resp, 204, NULL, NULL, 0);
	return API_DONE;
}
