/*
 * Notifications from the other nodes: a second connection to the
 * PostgreSQL database, used only to LISTEN on one channel and watched by
 * the loop (its socket in a uv_poll_t).  Nothing here blocks: connecting,
 * the LISTEN and reading go step by step as the socket allows.  When the
 * connection drops it is made again with back-off (100 ms doubling to
 * 5 s); each time it is listening again, up is called, since whatever was
 * sent while it was down is lost and the owner must look for itself.
 * Notifications are sent on the store's own connection (store_notify),
 * inside the turn's transaction, so they go out at its commit.
 */
#ifndef RUNNEL_STORE_LISTEN_H
#define RUNNEL_STORE_LISTEN_H

#include <uv.h>

struct pg_listen;

struct pg_listen_cb {
	/* A notification's payload (valid for the call only). */
	void	(*message)(void *arg, const char *payload);
	/* Listening, for the first time or again. */
	void	(*up)(void *arg);
};

/*
 * Starts listening on channel (a plain identifier) of the database that
 * conninfo names; cb is called with arg from the loop.  Returns 0 with
 * *out set, or -ENOMEM / -EINVAL (a connection string libpq refuses).
 * The connection itself is made in the background.
 */
int	pg_listen_start(uv_loop_t *, const char *conninfo, const char *channel,
	    const struct pg_listen_cb *cb, void *arg, struct pg_listen **out);
/* Closes the connection; the handles and *l are freed once closed. */
void	pg_listen_stop(struct pg_listen *);
/* 1 while listening. */
int	pg_listen_is_up(const struct pg_listen *);

#endif
