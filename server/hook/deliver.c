/*
 * The webhook sender (hook/deliver.h): a timer on the first delivery due,
 * a lease per try, the POST on libcurl's multi interface, and each answer
 * stored in the next turn's transaction.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core/cluster.h"
#include "core/core.h"
#include "core/finish.h"
#include "hook/deliver.h"
#include "hook/net.h"
#include "hook/sign.h"
#include "log.h"
#include "server.h"
#include "store/delivery.h"
#include "store/store.h"

#define DELIVER_POLL_MS		1000	/* a cluster's leader looks this often */
#define DELIVER_RETRY_MS	1000	/* the store was away: again then */
#define DELIVER_KICK_MS		20	/* a finish: a look this soon */

struct deliver {
	struct server	*srv;
	struct hooknet	*net;
	uv_timer_t	 timer;
	int64_t		 at;		/* what timer is armed for; 0: nothing */
	int		 stopping;
};

/* One try in flight. */
struct try_ctx {
	struct deliver	*d;
	uint64_t	 id;
	uint64_t	 job_id;
	int		 try;
	int64_t		 created_at;
};

static void	on_timer(uv_timer_t *);

static void
arm_at(struct deliver *d, int64_t at)
{
	int64_t wait = at - clock_now_ms();

	if (d->stopping)
		return;
	d->at = at;
	uv_timer_start(&d->timer, on_timer, (uint64_t)(wait > 0 ? wait : 0), 0);
}

/* The timer on the first delivery due (a second on in a cluster at most). */
static void
arm(struct deliver *d)
{
	int64_t	 at = 0, now = clock_now_ms();

	if (store_hook_next(d->srv->store, &at) < 0)
		at = now + DELIVER_RETRY_MS;
	if (d->srv->cluster && (at == 0 || at > now + DELIVER_POLL_MS))
		at = now + DELIVER_POLL_MS;
	if (at == 0) {
		uv_timer_stop(&d->timer);
		d->at = 0;
	} else {
		arm_at(d, at);
	}
}

/* An answer's first bytes as text a column can hold: printable ASCII. */
static char *
response_text(const char *resp, size_t len)
{
	char *t = malloc(len + 1);

	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)resp[i];

		t[i] = (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' ?
		    (char)c : '?';
	}
	t[len] = '\0';
	return t;
}

/* Stores a try's outcome: delivered, due again later, or given up. */
static void
tried(struct try_ctx *c, int status, const char *error, const char *resp,
    size_t resp_len)
{
	struct server		*srv = c->d->srv;
	struct delivery_try	 t = {0};
	int64_t			 now = clock_now_ms(), next = now;
	int			 state = DELIVERY_PENDING;
	char			 why[64];

	if (status >= 200 && status < 300) {
		state = DELIVERY_DELIVERED;
	} else if (now - c->created_at >= DELIVER_GIVE_UP_MS) {
		state = DELIVERY_FAILED;
	} else {
		next = now + finish_retry_delay(srv->cfg->webhook_retry_base_ms,
		    c->try);
		if (next - c->created_at > DELIVER_GIVE_UP_MS)
			next = c->created_at + DELIVER_GIVE_UP_MS;
	}
	if (error == NULL && state != DELIVERY_DELIVERED) {
		snprintf(why, sizeof(why), "HTTP status %d", status);
		error = why;
	}
	t.delivery_id = c->id;
	t.try = c->try;
	t.at = now;
	t.status = status > 0 ? status : -1;
	t.error = (char *)error;
	t.response = resp_len ? response_text(resp, resp_len) : NULL;
	if (store_begin(srv->store) < 0 ||
	    store_hook_tried(srv->store, &t, state, next) < 0)
		log_warnx("webhook: delivery=%" PRIu64 ": its answer could not "
		    "be stored: it will be sent again", c->id);
	else
		core_touch(srv);
	if (state == DELIVERY_DELIVERED)
		log_debug("webhook: delivery=%" PRIu64 " job=%" PRIu64
		    " delivered (%d)", c->id, c->job_id, status);
	else
		log_info("webhook: delivery=%" PRIu64 " job=%" PRIu64
		    " try=%d: %s%s", c->id, c->job_id, c->try, error,
		    state == DELIVERY_FAILED ? ": given up" : "");
	free(t.response);
}

static void
on_posted(void *arg, int status, const char *error, const char *resp,
    size_t resp_len)
{
	struct try_ctx	*c = arg;
	struct deliver	*d = c->d;

	/* Canceled by the stop: the lease runs out, it is sent again. */
	if (!d->stopping) {
		tried(c, status, error, resp, resp_len);
		arm(d);
	}
	free(c);
}

/* Leases delivery dl and starts its POST; 0, or < 0 when not sent now. */
static int
send_one(struct deliver *d, const struct delivery *dl, int64_t now)
{
	struct server		*srv = d->srv;
	const struct config	*cfg = srv->cfg;
	struct hook_headers	 h = {0};
	struct try_ctx		*c;
	char			 id[24], sig[HOOK_SIGN_HEX_LEN + 1];
	char			*body;
	size_t			 len = 0;
	int			 rc;

	if ((rc = store_hook_lease(srv->store, dl->id, dl->next_at,
	    now + DELIVER_LEASE_MS)) < 0)
		return rc;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->d = d;
	c->id = dl->id;
	c->job_id = dl->job_id;
	c->try = dl->tries + 1;
	c->created_at = dl->created_at;
	/* The job as it is now; one deleted meanwhile is told as gone. */
	if ((body = srv->job_json(srv, dl->job_id, &len)) == NULL &&
	    (body = strdup("null")) != NULL)
		len = 4;
	if (body == NULL) {
		free(c);
		return -ENOMEM;
	}
	snprintf(id, sizeof(id), "%" PRIu64, dl->id);
	h.delivery_id = id;
	h.event = dl->event;
	h.timestamp_sec = now / 1000;
	if (cfg->webhook_secret && hook_sign(cfg->webhook_secret,
	    strlen(cfg->webhook_secret), h.timestamp_sec, body, len, sig) == 0)
		h.signature_hex = sig;
	rc = hooknet_post(d->net, dl->url, body, len, &h, on_posted, c);
	free(body);
	if (rc < 0) {
		/* Refused before a byte went out (the policy, say): a try. */
		tried(c, 0, rc == -EPERM ? "the webhook policy refuses this URL"
		    : "the POST could not start", NULL, 0);
		free(c);
	}
	return 0;
}

static void
on_timer(uv_timer_t *t)
{
	struct deliver	*d = t->data;
	struct server	*srv = d->srv;
	struct delivery	*due = NULL;
	size_t		 n = 0, room;
	int64_t		 now = clock_now_ms();

	d->at = 0;
	if (d->stopping)
		return;
	if (srv->cluster && !cluster_leader(srv)) {
		arm_at(d, now + DELIVER_POLL_MS);
		return;
	}
	room = DELIVER_INFLIGHT_MAX - hooknet_inflight(d->net);
	if (room == 0)
		return;		/* an answer arms it again */
	/* A read first: most looks find nothing, and open no transaction. */
	if (store_hook_due(srv->store, now, (int)room, &due, &n) < 0 ||
	    (n > 0 && store_begin(srv->store) < 0)) {
		delivery_free_all(due, n);
		arm_at(d, now + DELIVER_RETRY_MS);
		return;
	}
	for (size_t i = 0; i < n; i++)
		send_one(d, &due[i], now);
	delivery_free_all(due, n);
	if (n > 0)
		core_touch(srv);
	arm(d);
}

int
deliver_start(struct server *srv)
{
	struct deliver	*d;
	int		 rc;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -ENOMEM;
	d->srv = srv;
	if ((rc = hooknet_new(srv->loop, srv->cfg->webhook_allow, NULL,
	    &d->net)) < 0) {
		free(d);
		return rc;
	}
	uv_timer_init(srv->loop, &d->timer);
	d->timer.data = d;
	srv->deliver = d;
	/* Deliveries left from before a restart: due as they were. */
	arm(d);
	return 0;
}

static void
on_closed(uv_handle_t *h)
{
	free(h->data);
}

void
deliver_stop(struct server *srv)
{
	struct deliver *d = srv->deliver;

	if (d == NULL)
		return;
	d->stopping = 1;
	hooknet_free(d->net);
	uv_timer_stop(&d->timer);
	uv_close((uv_handle_t *)&d->timer, on_closed);
	srv->deliver = NULL;
}

void
deliver_kick(struct server *srv, uint64_t job_id)
{
	struct deliver	*d = srv->deliver;
	int64_t		 at = clock_now_ms() + DELIVER_KICK_MS;

	(void)job_id;
	/* Its deliveries, if it has any, were committed with it.  A look
	 * a few ms on serves every job finishing meanwhile: one query, not
	 * one per job. */
	if (d && !d->stopping && (d->at == 0 || d->at > at))
		arm_at(d, at);
}
