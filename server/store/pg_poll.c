/*
 * The poll handle that follows a libpq connection's socket (store/pg_poll.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "store/pg_poll.h"

static void
poll_closed(uv_handle_t *h)
{
	free(h->data);
}

void
pg_poll_drop(struct pg_poll **pp)
{
	if (*pp == NULL)
		return;
	uv_poll_stop(&(*pp)->h);
	uv_close((uv_handle_t *)&(*pp)->h, poll_closed);
	*pp = NULL;
}

int
pg_poll_watch(struct pg_poll **pp, uv_loop_t *loop, PGconn *conn,
    int events, uv_poll_cb cb, void *arg)
{
	struct pg_poll	*p;
	int		 fd = PQsocket(conn);

	if (fd < 0)
		return -ENOTCONN;
	if (*pp && (*pp)->fd != fd)
		pg_poll_drop(pp);
	if (*pp == NULL) {
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return -ENOMEM;
		p->arg = arg;
		p->fd = fd;
		p->h.data = p;
		if (uv_poll_init(loop, &p->h, fd) < 0) {
			free(p);
			return -ENOTCONN;
		}
		*pp = p;
	}
	uv_poll_start(&(*pp)->h, events, cb);
	return 0;
}
