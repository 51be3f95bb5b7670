/*
 * HTTP: libmicrohttpd in external epoll mode inside the libuv loop.  The
 * only module that sees microhttpd.h.  It turns MHD requests into struct
 * request, routes them, and sends struct response; pending requests and
 * idle streams sleep with MHD suspend/resume.
 */
#ifndef RUNNEL_HTTP_H
#define RUNNEL_HTTP_H

struct server;

/* Binds cfg's address and starts serving.  Returns 0 or a negative code. */
int	http_start(struct server *);
/* The port actually bound (for --listen HOST:0). */
int	http_port(const struct server *);
/*
 * Answers the reads held while the store had a turn open (hreq.c): they
 * run once what they would see is committed or undone.  The core calls
 * it after each turn, as srv->turn_over.
 */
void	http_reads_release(struct server *);
/* Wakes every sleeping connection and stops the daemon. */
void	http_stop(struct server *);
void	http_free(struct server *);

#endif
