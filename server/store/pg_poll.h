/*
 * A uv_poll_t on a libpq connection's socket, for a connection made step
 * by step on the loop (pg_link.c, pg_listen.c): the descriptor may change
 * between steps, so each watch checks it and makes a new handle when it
 * did.  A handle is freed in its close callback.
 */
#ifndef RUNNEL_STORE_PG_POLL_H
#define RUNNEL_STORE_PG_POLL_H

#include <libpq-fe.h>
#include <uv.h>

struct pg_poll {
	uv_poll_t	 h;
	void		*arg;		/* the owner, for the callback */
	int		 fd;
};

/*
 * Watches conn's socket for events (UV_READABLE, UV_WRITABLE), calling cb
 * with h->data pointing at the struct pg_poll; *pp is the owner's handle,
 * NULL or one made here (then on the old socket, it is dropped).  Returns
 * 0, -ENOTCONN when conn has no socket or the handle cannot be made,
 * -ENOMEM.
 */
int	pg_poll_watch(struct pg_poll **pp, uv_loop_t *loop, PGconn *conn,
	    int events, uv_poll_cb cb, void *arg);
/* Stops and closes *pp, if any, and sets it to NULL. */
void	pg_poll_drop(struct pg_poll **pp);

#endif
