/*
 * A parsed HTTP request and the response a handler fills in.  Handlers
 * (api_*.c) see only these structs, never libmicrohttpd, so they can be
 * driven by unit tests without sockets.
 */
#ifndef RUNNEL_REQUEST_H
#define RUNNEL_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct server;
struct stream;
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
#define RESPONSE_HEADERS_MAX	8

struct param {
	const char	*key;
	const char	*value;
};

struct response {
	int		 status;
	const char	*content_type;		/* static string */
	char		*body;			/* owned; freed with the request */
	const void	*body_static;		/* or a body that outlives us */
	size_t		 body_len;
	int		 fd;			/* >= 0: send fd_len bytes from fd_offset, fd owned */
	uint64_t	 fd_offset;
	uint64_t	 fd_len;
	struct stream	*stream;		/* a streamed response; owned */
	struct {
		const char	*name;		/* static string */
		char		*value;		/* owned */
	}		 headers[RESPONSE_HEADERS_MAX];
	int		 nheaders;
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
	struct body_sink *sink;			/* streaming routes only */
	void		*sink_ctx;		/* the sink's own state */
	void		*conn;			/* http.c's connection state */
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

/* Adds a response header; value is copied.  Returns 0 or -ENOMEM/-ENOSPC. */
int		 response_header(struct response *, const char *name, const char *value);
/* Takes ownership of body (malloc'd) as the response with that status. */
void		 response_body(struct response *, int status, const char *type, char *body, size_t len);
/* Makes len bytes at body (never freed, never changed) the response. */
void		 response_static(struct response *, int status, const char *type,
		    const void *body, size_t len);
/* Releases what the response owns and resets it. */
void		 response_clear(struct response *);

/*
 * Completes a request whose handler returned API_PENDING: its resp is
 * sent, through the done callback its owner set (http.c, or a test).
 */
void		 request_done(struct request *);

/*
 * A streamed response (chunked): read() copies at most max bytes at
 * position pos into buf and returns the count, 0 when nothing is
 * available yet (the connection then sleeps until stream_wake()), or -1
 * at the end.  free() is called once when the response is done.
 */
struct stream {
	ssize_t	(*read)(struct stream *, uint64_t pos, char *buf, size_t max);
	void	(*free)(struct stream *);
	/* http.c's: how to wake it, the connection, the parked streams */
	void		 (*wake)(struct stream *);
	void		*conn;
	void		*http;
	int		 parked;
	struct stream	*park_next;
	struct stream	*park_prev;
};

/* Resumes a parked stream so that read() is called again. */
void		 stream_wake(struct stream *);

#endif
