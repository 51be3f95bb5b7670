/*
 * What the nodes of a cluster tell each other, on one channel: each turn
 * gathers its news and sends it at its commit (NOTIFY is transactional:
 * a turn rolled back said nothing), at most one notification per queue
 * made runnable, since NOTIFY takes a lock for the whole database at
 * commit.  The payloads:
 *
 *   q QUEUE            jobs of QUEUE became runnable: an idle node claims
 *   c NODE ID          NODE is asked to end running job ID (a cancel)
 *   j NODE ID:TO,...   NODE committed these changes (TO: the state, -1
 *                      deleted): the others tell their waiters and event
 *                      listeners
 *   n NODE             NODE joined
 *
 * Nothing is sent while no other node is alive, nor with --notify off.
 * What a node misses (the LISTEN connection down, notify off) it finds
 * by polling at its tick: cancels asked of it (jobs.cancel_requested),
 * and the jobs its waiters wait for.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/core_int.h"
#include "core/events.h"
#include "log.h"
#include "pool/pool.h"
#include "server.h"
#include "store/cluster.h"
#include "store/listen.h"
#include "store/store.h"
#include "vec.h"

#define NOTIFY_CHANNEL		"runnel"
/* PostgreSQL takes payloads shorter than 8000 bytes. */
#define PAYLOAD_MAX		7900

static int
others_hear(const struct server *srv)
{
	return srv->cfg->notify && srv->cluster->peers > 0;
}

static int
listening(const struct server *srv)
{
	return srv->cluster->listen && pg_listen_is_up(srv->cluster->listen);
}

/* ---- what this turn tells ----------------------------------------------- */

void
notify_wake(struct server *srv, const char *queue)
{
	struct cluster *cl = srv->cluster;

	for (size_t i = 0; i < cl->nwake; i++)
		if (strcmp(cl->wake[i], queue) == 0)
			return;
	if (vec_grow(&cl->wake, &cl->capwake, cl->nwake + 1,
	    sizeof(*cl->wake)) < 0)
		return;		/* the others' poll finds it */
	snprintf(cl->wake[cl->nwake++], sizeof(*cl->wake), "%s", queue);
}

void
notify_hello(struct server *srv)
{
	srv->cluster->hello = 1;
	turn_dirty(srv);
}

int
notify_cancel(struct server *srv, uint64_t id)
{
	struct cluster		*cl = srv->cluster;
	struct cancel_note	*n;
	char			 node[NODE_ID_MAX + 1];
	int			 rc;

	/* Recorded first: the node's poll finds it even if the word is lost. */
	if ((rc = store_cancel_request(srv->store, id, node)) < 0)
		return rc;
	if (vec_grow(&cl->cancels, &cl->capcancels, cl->ncancels + 1,
	    sizeof(*cl->cancels)) == 0) {
		n = &cl->cancels[cl->ncancels++];
		n->id = id;
		snprintf(n->node, sizeof(n->node), "%s", node);
	}
	turn_dirty(srv);
	return 0;
}

static void
say(struct server *srv, const char *payload)
{
	store_notify(srv->store, NOTIFY_CHANNEL, payload);
}

/* The turn's changes, as few notifications as the payload limit allows. */
static void
send_changes(struct server *srv)
{
	const struct turn	*t = &srv->core->turn;
	char			 buf[PAYLOAD_MAX + 64];
	size_t			 head, len;

	if (t->nchanges == 0)
		return;
	head = len = (size_t)snprintf(buf, sizeof(buf), "j %s ",
	    srv->cluster->node);
	for (size_t i = 0; i < t->nchanges; i++) {
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "%s%" PRIu64 ":%d", len > head ? "," : "",
		    t->changes[i].id, t->changes[i].to);
		if (len > PAYLOAD_MAX - 32 || i + 1 == t->nchanges) {
			say(srv, buf);
			len = head;
		}
	}
}

void
notify_flush(struct server *srv)
{
	struct cluster	*cl = srv->cluster;
	char		 buf[NODE_ID_MAX + JOB_QUEUE_MAX + 32];

	if (!srv->cfg->notify)
		return;
	if (cl->hello) {
		snprintf(buf, sizeof(buf), "n %s", cl->node);
		say(srv, buf);
	}
	/* The node running it may be any: it was asked by its row too. */
	for (size_t i = 0; i < cl->ncancels; i++) {
		snprintf(buf, sizeof(buf), "c %s %" PRIu64, cl->cancels[i].node,
		    cl->cancels[i].id);
		say(srv, buf);
	}
	if (!others_hear(srv))
		return;
	/* This node took all it could find: nothing is left for others. */
	for (size_t i = 0; i < cl->nwake && !cl->claimed_all; i++) {
		snprintf(buf, sizeof(buf), "q %s", cl->wake[i]);
		say(srv, buf);
	}
	send_changes(srv);
}

void
notify_committed(struct server *srv, int rc)
{
	struct cluster *cl = srv->cluster;

	(void)rc;	/* rolled back: nothing was sent, nothing to redo */
	claim_round_clear(&cl->round);
	cl->claimed_all = 0;
	cl->nwake = 0;
	cl->ncancels = 0;
	cl->counted = 0;
	cl->hello = 0;
}

/* ---- what the others tell ---------------------------------------------- */

/* This node is asked to end job id, if it runs it (once). */
static void
cancel_here(struct server *srv, uint64_t id)
{
	struct cluster *cl = srv->cluster;

	for (size_t i = 0; i < cl->ncanceling; i++)
		if (cl->canceling[i] == id)
			return;
	if (pool_cancel(srv->pool, id, "canceled") < 0)
		return;
	log_info("cluster: job=%" PRIu64 ": canceled from another node", id);
	if (vec_grow(&cl->canceling, &cl->capcanceling, cl->ncanceling + 1,
	    sizeof(*cl->canceling)) == 0)
		cl->canceling[cl->ncanceling++] = id;
}

/* Another node changed job id: its waiters and listeners here hear it. */
static void
changed(struct server *srv, uint64_t id, int to)
{
	struct job	 j, view;

	if (to >= 0 && events_listeners(srv) > 0 &&
	    core_job_get(srv, id, &j) == 0) {
		/* As turn_snapshot: the job object has no stdin. */
		view = j;
		view.stdin_data = NULL;
		view.stdin_len = 0;
		events_job(srv, id, to, &view);
		job_clear(&j);
		return;
	}
	if (to < 0 || job_state_finished(to))
		events_job(srv, id, to, NULL);
}

static void
on_changes(struct server *srv, const char *from, const char *list)
{
	const char	*p = list;
	char		*end;

	if (strcmp(from, srv->cluster->node) == 0)
		return;		/* published at our own commit */
	while (*p) {
		uint64_t	 id = strtoull(p, &end, 10);
		long		 to;

		if (end == p || *end != ':')
			return;
		p = end + 1;
		to = strtol(p, &end, 10);
		if (end == p || to < -1 || to >= JOB_STATE_COUNT)
			return;
		changed(srv, id, (int)to);
		p = *end == ',' ? end + 1 : end;
	}
}

void
notify_message(struct server *srv, const char *payload)
{
	struct cluster	*cl = srv->cluster;
	char		 node[NODE_ID_MAX + 1];
	const char	*rest;
	size_t		 n;

	if (payload[0] == '\0' || payload[1] != ' ')
		return;
	rest = payload + 2;
	switch (payload[0]) {
	case 'q':
		if (!srv->draining && srv->pool && pool_idle(srv->pool) >= 0) {
			srv->core->runnable = 1;
			turn_dirty(srv);
		}
		return;
	case 'n':
		if (strcmp(rest, cl->node) != 0 && cl->peers == 0)
			cl->peers = 1;	/* counted at the next beat */
		return;
	case 'c':
	case 'j':
		n = strcspn(rest, " ");
		if (n == 0 || n > NODE_ID_MAX || rest[n] != ' ')
			return;
		memcpy(node, rest, n);
		node[n] = '\0';
		if (payload[0] == 'j') {
			on_changes(srv, node, rest + n + 1);
		} else if (strcmp(node, cl->node) == 0) {
			cancel_here(srv, strtoull(rest + n + 1, NULL, 10));
		}
		return;
	}
}

void
notify_up(struct server *srv)
{
	struct cluster *cl = srv->cluster;

	/* What was said while we did not listen: look for ourselves. */
	cl->missed = 1;
	srv->core->runnable = 1;
	turn_dirty(srv);
}

/* ---- polling ------------------------------------------------------------ */

struct ids {
	uint64_t	*v;
	size_t		 n, cap;
};

static void
add_id(void *arg, uint64_t id)
{
	struct ids *s = arg;

	if (vec_grow(&s->v, &s->cap, s->n + 1, sizeof(*s->v)) == 0)
		s->v[s->n++] = id;
}

/* The cancels asked of this node; the ones done drop out of the set. */
static void
poll_cancels(struct server *srv)
{
	struct cluster	*cl = srv->cluster;
	uint64_t	*ids;
	size_t		 n, keep = 0;

	if (pool_busy(srv->pool) == 0) {
		cl->ncanceling = 0;
		return;
	}
	if (store_cancel_requests(srv->store, cl->node, &ids, &n) < 0)
		return;
	for (size_t i = 0; i < cl->ncanceling; i++)
		for (size_t k = 0; k < n; k++)
			if (ids[k] == cl->canceling[i]) {
				cl->canceling[keep++] = cl->canceling[i];
				break;
			}
	cl->ncanceling = keep;
	for (size_t k = 0; k < n; k++)
		cancel_here(srv, ids[k]);
	free(ids);
}

/* Jobs waited for here that ended elsewhere while nobody told us. */
static void
poll_waiters(struct server *srv)
{
	struct ids	 w = {0};

	events_waited(srv, add_id, &w);
	for (size_t i = 0; i < w.n; i++) {
		struct job j;

		job_init(&j);
		if (pool_job_live(srv->pool, w.v[i], &j) == 0)
			continue;	/* ours: its end is told here */
		if (store_get(srv->store, w.v[i], &j) == -ENOENT) {
			events_job(srv, w.v[i], -1, NULL);
			continue;
		}
		if (job_state_finished(j.state))
			events_job(srv, w.v[i], j.state, NULL);
		job_clear(&j);
	}
	free(w.v);
}

void
notify_poll(struct server *srv)
{
	struct cluster *cl = srv->cluster;

	if (srv->pool)
		poll_cancels(srv);
	if (!listening(srv) || cl->missed) {
		cl->missed = 0;
		poll_waiters(srv);
	}
}
