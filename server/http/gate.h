/*
 * The gate: runneld's listening socket and the connections on it.  It
 * accepts them itself, so that it can bound them per client address
 * (--max-client-connections) and in all (--max-connections), and holds
 * each new one until its first request head has arrived whole and
 * passed head.c, within --header-timeout; only then is the connection
 * handed to libmicrohttpd (http.c).  What it refuses gets a JSON answer
 * and a close: 503 over a limit, 408 for a head that did not come in
 * time, 400/414/431/501/505 for a head that cannot be right.  A
 * keep-alive connection that waits for its next request longer than
 * GATE_IDLE_MS is closed.
 */
#ifndef RUNNEL_GATE_H
#define RUNNEL_GATE_H

#include <stdint.h>
#include <sys/socket.h>

struct server;
struct gate_conn;

#define GATE_IDLE_MS	60000

/*
 * Binds host:port and listens.  Returns 0 or a negative errno code
 * (logged).  The port bound is then gate_port().
 */
int	gate_listen(struct server *, const char *host, int port);
int	gate_port(const struct server *);
/* Starts accepting (after http.c's daemon is up). */
int	gate_start(struct server *);
/* Stops accepting and closes what it still holds; gate_free after the loop. */
void	gate_stop(struct server *);
void	gate_free(struct server *);

/*
 * The glue's side (http.c, hreq.c).  A handed-over connection's
 * gate_conn lives until gate_closed; a request on it begins when its
 * head is in and ends when it is answered (from then on the idle
 * deadline runs).
 */
void	gate_request_begin(struct gate_conn *);
void	gate_request_end(struct gate_conn *);
void	gate_closed(struct server *, struct gate_conn *);
/* Connections open now (waiting for a head or with libmicrohttpd). */
int	gate_connections(const struct server *);
/* The client's address as text ("127.0.0.1", "::1"). */
const char *gate_client(const struct gate_conn *);

/*
 * Implemented by http.c: hands fd (its first head in, unread) to
 * libmicrohttpd with c as its context.  0, or -1 when libmicrohttpd
 * refused it (then fd is closed and c not taken).
 */
int	http_adopt(struct server *, int fd, const struct sockaddr *sa,
	    socklen_t salen, struct gate_conn *c);

#endif
