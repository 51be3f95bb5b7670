/*
 * GET /api/v1/openapi.json: the API's OpenAPI description, docs/openapi.yaml
 * turned into JSON when runneld was built (cmake/yaml2json.py) and compiled
 * in, served like the dashboard's files (ETag, gzip).
 */
#include "api/api.h"
#include "embed.h"
#include "http/reply.h"
#include "http/static.h"

extern const struct embed_file openapi_files[];

int
api_openapi_get(struct request *req)
{
	if (openapi_files[0].name == NULL)
		return reply_fail(req, 404, "not_found", NULL, "this runneld "
		    "was built without its OpenAPI description");
	return static_embedded(req, &openapi_files[0],
	    "application/json; charset=utf-8");
}
