/*
 * The libmicrohttpd glue's own header, for http.c, hreq.c and stream.c
 * only: the daemon's state (struct http), a request's (struct hreq),
 * and what the three files call of each other.
 */
#ifndef RUNNEL_HTTP_INT_H
#define RUNNEL_HTTP_INT_H

#include <stdint.h>

#include <microhttpd.h>
#include <uv.h>

#include "http/auth.h"
#include "http/request.h"

struct gate_conn;
struct server;

enum phase {
	PH_BODY,	/* receiving the body */
	PH_STREAM,	/* receiving the body into req->sink */
	PH_WAIT,	/* handler returned API_PENDING: suspended */
	PH_READY,	/* request_done() ran: respond on the next call */
	PH_SENT		/* a response is queued */
};

struct hreq {
	struct request		 req;
	struct http		*http;
	struct MHD_Connection	*conn;
	enum phase		 phase;
	int			 suspended;
	int			 status;
	size_t			 body_cap;
	int			 refused;	/* an early error response went out */
	api_handler		 fn;		/* the route's handler, or NULL */
	unsigned		 allow;		/* methods the path accepts */
	int			 proceed;	/* to its handler: not refused */
	int			 phase_stream;	/* the body went to the sink */
	int64_t			 data_at;	/* monotonic ms of the last bytes */
	uint64_t		 t0_ns;		/* when the headers were in */
	int64_t			 bytes;		/* of the response body; -1: streamed */
	int			 receiving;	/* on http's receiving list */
	struct hreq		*rnext;
	struct hreq		*rprev;
	struct hreq		*next;		/* suspended requests */
	struct hreq		*prev;
	int			 held;		/* a read waiting for a commit */
	struct hreq		*hnext;		/* on http's held list */
	struct gate_conn	*gc;		/* the gate's record of the connection */
};

struct http {
	struct server		*srv;
	struct MHD_Daemon	*daemon;
	uv_poll_t		 poll;
	uv_timer_t		 timer;
	uv_idle_t		 kick;		/* runs MHD after resumes */
	uv_timer_t		 watch;		/* bodies that stopped arriving */
	struct hreq		*receiving;	/* requests whose body is coming */
	struct gate_conn	*adopting;	/* being handed to MHD now */
	int			 adopted;	/* MHD took it (STARTED was seen) */
	struct hreq		*waiting;	/* suspended requests */
	struct hreq		*held;		/* reads waiting for a commit, */
	struct hreq		**held_tail;	/* in their order */
	struct stream		*parked;	/* suspended streams */
	struct auth_sessions	 sessions;	/* the dashboard's (auth.c) */
	int			 stopping;
};

/* Runs MHD once more before the loop next sleeps (after a resume).  http.c. */
void	http_kick(struct http *);

/* MHD's access handler: every call for a request.  hreq.c. */
enum MHD_Result hreq_on_request(void *cls, struct MHD_Connection *,
	    const char *url, const char *method, const char *version,
	    const char *data, size_t *data_size, void **ctx);
/* MHD's completion callback: logs, counts and frees the request.  hreq.c. */
void	hreq_on_completed(void *cls, struct MHD_Connection *, void **ctx,
	    enum MHD_RequestTerminationCode);
/* Resumes a request suspended waiting for its handler.  hreq.c. */
void	hreq_resume(struct hreq *);

/*
 * The MHD response for stream s on connection c: MHD owns s from then
 * on and frees it when the response is done.  NULL if out of memory
 * (s is still the caller's).  stream.c.
 */
struct MHD_Response *stream_response(struct http *, struct MHD_Connection *c,
	    struct stream *s);

#endif
