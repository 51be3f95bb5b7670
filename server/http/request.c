/* Helpers on struct request, free of any HTTP library. */
#include <string.h>

#include "http/request.h"

const char *
request_query(const struct request *req, const char *key)
{
	for (int i = 0; i < req->nquery; i++)
		if (strcmp(req->query[i].key, key) == 0)
			return req->query[i].value;
	return NULL;
}

void
request_done(struct request *req)
{
	req->done(req);
}
