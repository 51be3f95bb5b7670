/*
 * The webhook policy at submit time: every URL a job, a schedule's
 * template or a queue names must pass --webhook-allow (hook/allow.h)
 * before anything is stored.  The address a name leads to is checked
 * again when the delivery connects.
 */
#include <errno.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "api/api.h"
#include "hook/allow.h"
#include "http/reply.h"
#include "server.h"

int
api_hooks_check(struct request *req, const char *json, const char *where)
{
	const cJSON	*h;
	cJSON		*arr;
	char		 why[256];
	int		 i = 0, rc = 0;

	if (json == NULL)
		return 0;
	if ((arr = cJSON_Parse(json)) == NULL) {
		reply_errno(req, -ENOMEM);
		return -1;
	}
	cJSON_ArrayForEach(h, arr) {
		const cJSON *url = cJSON_GetObjectItemCaseSensitive(h, "url");
		char field[96];

		snprintf(field, sizeof(field), "%swebhooks[%d].url", where, i++);
		if (!cJSON_IsString(url) || hook_allow_url(
		    req->srv->cfg->webhook_allow, url->valuestring, why,
		    sizeof(why)) < 0) {
			reply_fail(req, 422, "invalid_field", field, "%s",
			    cJSON_IsString(url) ? why : "not a URL");
			rc = -1;
			break;
		}
	}
	cJSON_Delete(arr);
	return rc;
}
