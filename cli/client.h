/*
 * The client's side of HTTP: one libcurl handle that keeps its connection
 * to runneld alive across requests, the bearer token in a header (never on
 * a command line), and answers read whole and parsed when they are JSON.
 * Streaming reads (followed output, uploads) use their own handles and
 * borrow the URL and headers from here.
 */
#ifndef RUNNEL_CLI_CLIENT_H
#define RUNNEL_CLI_CLIENT_H

#include <stddef.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

#define CLIENT_MAX_REPLY	(64u << 20)	/* bytes of one whole answer */

struct client {
	CURL			*curl;
	char			*url;		/* base, without a trailing '/' */
	struct curl_slist	*headers;	/* Authorization, User-Agent */
	char			 err[CURL_ERROR_SIZE];
	int			 connected;	/* the last call reached the server */
};

struct reply {
	long		 status;	/* 0: no answer (see client_call) */
	char		*body;		/* NUL-terminated */
	size_t		 len;
	cJSON		*json;		/* the body parsed, when it is JSON */
	long		 retry_after;	/* seconds, -1 when absent */
};

/* url: "http://host:port" (a trailing '/' is dropped); token may be NULL.
 * 0, or -ENOMEM / -EINVAL (logged). */
int	client_init(struct client *, const char *url, const char *token);
void	client_close(struct client *);

/* Sends method path (with its query, already escaped) and body (JSON text
 * or NULL; extra: more header lines or NULL) and reads the answer into *r.
 * 0 for any HTTP answer, whatever its status; EXIT_UNREACHABLE (after
 * printing why) when the server could not be reached or the connection
 * failed before a whole answer came.  The caller clears *r. */
int	client_call(struct client *, const char *method, const char *path,
	    const char *body, struct curl_slist *extra, struct reply *r);

/* Like client_call, but keeps trying on a connection failure for up to
 * retry_s seconds with back-off (the server restarting), printing one
 * note on a terminal.  Only for requests that are safe to repeat. */
int	client_call_retry(struct client *, const char *method, const char *path,
	    const char *body, struct reply *r, int retry_s);

/* For a refused request: prints the server's message and returns the exit
 * status for r->status (cli.h).  what names the request ("job 42"). */
int	client_fail(const struct reply *r, const char *what);

void	reply_clear(struct reply *);

/* The full URL of path in buf; -ENAMETOOLONG when it does not fit. */
int	client_url(const struct client *, const char *path, char *buf,
	    size_t size);

/* Sets url, headers, and the connection options every handle shares. */
void	client_setup(const struct client *, CURL *);

/* Sleeps ms milliseconds unless a signal comes first (for back-off). */
void	client_pause_ms(long ms);

#endif
