/*
 * The response a handler fills in: a status, a body (owned, static, a
 * file range or a stream) and a few headers.  No HTTP library types:
 * the libmicrohttpd glue turns it into its own.
 */
#ifndef RUNNEL_RESPONSE_H
#define RUNNEL_RESPONSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RESPONSE_HEADERS_MAX	8

struct stream;

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

/* Adds a response header; value is copied.  Returns 0 or -ENOMEM/-ENOSPC. */
int		 response_header(struct response *, const char *name, const char *value);
/* Takes ownership of body (malloc'd) as the response with that status. */
void		 response_body(struct response *, int status, const char *type, char *body, size_t len);
/* Makes len bytes at body (never freed, never changed) the response. */
void		 response_static(struct response *, int status, const char *type,
		    const void *body, size_t len);
/*
 * Makes the stream s (taken) the response: 200 with that type, sent as
 * its reader gives bytes, uncached.
 */
void		 response_stream(struct response *, const char *type,
		    struct stream *s);
/* Releases what the response owns and resets it. */
void		 response_clear(struct response *);

/*
 * A streamed response (chunked): read() copies at most max bytes at
 * position pos into buf and returns the count, 0 when nothing is
 * available yet (the connection then sleeps until stream_wake()), or -1
 * at the end.  free() is called once when the response is done.  With
 * sized set the body is size bytes (Content-Length, not chunked); an
 * end before them cuts the connection.
 */
struct stream {
	ssize_t	(*read)(struct stream *, uint64_t pos, char *buf, size_t max);
	void	(*free)(struct stream *);
	int		 sized;
	uint64_t	 size;
	/* stream.c's: how to wake it, the connection, the parked streams */
	void		 (*wake)(struct stream *);
	void		*conn;
	void		*http;
	int		 parked;
	struct stream	*park_next;
	struct stream	*park_prev;
};

/*
 * Resumes a parked stream so that read() is called again (s->wake).
 * Defined in http/stream.c, which parks and resumes streams.
 */
void		 stream_wake(struct stream *);
/*
 * Ends the stream's connection now, even if its client reads nothing
 * (shuts its socket down; free() follows when MHD closes it).
 */
void		 stream_abort(struct stream *);

#endif
