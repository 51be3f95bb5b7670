/*
 * A parsed HTTP request, with the response a handler fills in
 * (http/response.h).  Handlers (the api wing) see only these structs,
 * never libmicrohttpd, so they can be driven by unit tests without
 * sockets.
 */
#ifndef RUNNEL_REQUEST_H
#define RUNNEL_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "http/response.h"

struct server;
struct request;

/*
 * Where the body of a streaming route goes (uploads): set by the route's
 * handler when called with the headers only.
 */
struct body_sink {
	/* Takes the next n bytes: 0, or < 0 with the refusal in req->resp. */
	int	(*data)(struct request *, const char *p, size_t n);
	/* The body is complete: returns API_DONE or API_PENDING, as a handler. */
	int	(*end)(struct request *);
	/* The request is over, whatever happened: release everything. */
	void	(*close)(struct request *);
};

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_DELETE,
	HTTP_OPTIONS,
	HTTP_OTHER
};

#define REQUEST_QUERY_MAX	32

struct param {
	const char	*key;
	const char	*value;
};

struct request {
	struct server	*srv;
	enum http_method method;
	const char	*method_name;
	const char	*path;			/* decoded, without the query */
	struct param	 query[REQUEST_QUERY_MAX];
	int		 nquery;
	int		 query_overflow;	/* more than REQUEST_QUERY_MAX parameters */
	/* Headers handlers look at; NULL when absent. */
	const char	*content_type;
	const char	*idempotency_key;
	const char	*range;
	const char	*if_none_match;
	const char	*accept_encoding;
	const char	*authorization;
	const char	*cookie;
	const char	*host;
	const char	*origin;
	const char	*sec_fetch_site;
	const char	*cors_method;		/* Access-Control-Request-Method */
	int64_t		 content_length;	/* -1 when not announced */
	char		*body;			/* NUL-terminated, body_len bytes */
	size_t		 body_len;
	/* Path parameters filled by the router. */
	const char	*path_id;		/* {id} as text */
	const char	*path_name;		/* {name} as text */
	char		 path_param[128];
	struct response	 resp;
	const struct body_sink *sink;		/* streaming routes only */
	void		*sink_ctx;		/* the sink's own state */
	void		*conn;			/* hreq.c's request state */
	/* Sends resp once a pending handler filled it (request_done). */
	void		 (*done)(struct request *);
};

/* What a handler returns. */
enum {
	API_DONE = 0,		/* resp is filled: send it */
	API_PENDING = 1,	/* resp will be filled later, then request_done() */
	API_STREAM = 2		/* (streaming routes) send the body to req->sink */
};

typedef int (*api_handler)(struct request *);

/* The value of query parameter key, or NULL. */
const char	*request_query(const struct request *, const char *key);

/*
 * Completes a request whose handler returned API_PENDING: its resp is
 * sent, through the done callback its owner set (hreq.c, or a test).
 */
void		 request_done(struct request *);

#endif
