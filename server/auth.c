/* Bearer tokens: which paths need one, and the constant-time check. */
#include <string.h>

#include "auth.h"
#include "reply.h"
#include "server.h"

int
auth_equal(const char *a, const char *b)
{
	size_t		 la = strlen(a), lb = strlen(b);
	unsigned char	 diff = la != lb;

	/* Walk the expected token whole, whatever the guess looks like. */
	for (size_t i = 0; i < lb; i++)
		diff |= (unsigned char)b[i] ^ (unsigned char)(i < la ? a[i] : 0);
	return diff == 0;
}

static int
needs_token(const char *path)
{
	return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/metrics") == 0;
}

int
auth_check(struct request *req)
{
	const char	*token = req->srv->cfg->token;
	const char	*h = req->authorization;

	if (token == NULL || !needs_token(req->path))
		return 1;
	if (h && strncasecmp(h, "Bearer ", 7) == 0) {
		h += 7;
		while (*h == ' ')
			h++;
		if (auth_equal(h, token))
			return 1;
		reply_fail(req, 401, "unauthorized", NULL, "wrong token");
	} else {
		reply_fail(req, 401, "unauthorized", NULL,
		    "this runneld needs Authorization: Bearer <token>");
	}
	response_header(&req->resp, "WWW-Authenticate", "Bearer realm=\"runnel\"");
	return 0;
}
