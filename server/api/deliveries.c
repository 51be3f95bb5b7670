/*
 * GET /api/v1/jobs/{id}/deliveries: the webhook deliveries of a job, each
 * with its state and every try's answer.
 */
#include <errno.h>
#include <stdlib.h>

#include "api/api.h"
#include "core/core.h"
#include "http/jsonw.h"
#include "http/reply.h"
#include "server.h"
#include "store/delivery.h"
#include "store/store.h"

static void
opt_int(struct jsonw *w, int64_t v, int present)
{
	if (present)
		jsonw_int(w, v);
	else
		jsonw_lit(w, "null");
}

/* The tries of delivery id, from *k on in tries (sorted by delivery). */
static void
tries_json(struct jsonw *w, uint64_t id, const struct delivery_try *t,
    size_t n, size_t *k)
{
	int first = 1;

	jsonw_lit(w, "[");
	while (*k < n && t[*k].delivery_id < id)
		(*k)++;
	for (; *k < n && t[*k].delivery_id == id; (*k)++) {
		const struct delivery_try *x = &t[*k];

		if (!first)
			jsonw_lit(w, ",");
		first = 0;
		jsonw_lit(w, "{\"try\":");
		jsonw_int(w, x->try);
		jsonw_lit(w, ",\"at\":");
		jsonw_time(w, x->at);
		jsonw_lit(w, ",\"status\":");
		opt_int(w, x->status, x->status >= 0);
		jsonw_lit(w, ",\"error\":");
		jsonw_str(w, x->error);
		jsonw_lit(w, ",\"response\":");
		jsonw_str(w, x->response);
		jsonw_lit(w, "}");
	}
	jsonw_lit(w, "]");
}

static void
delivery_json(struct jsonw *w, const struct delivery *d,
    const struct delivery_try *t, size_t nt, size_t *k)
{
	jsonw_lit(w, "{\"id\":");
	jsonw_int(w, (int64_t)d->id);
	jsonw_lit(w, ",\"url\":");
	jsonw_str(w, d->url);
	jsonw_lit(w, ",\"event\":");
	jsonw_str(w, d->event);
	jsonw_lit(w, ",\"attempt\":");
	jsonw_int(w, d->attempt);
	jsonw_lit(w, ",\"state\":");
	jsonw_str(w, delivery_state_name(d->state));
	jsonw_lit(w, ",\"tries\":");
	jsonw_int(w, d->tries);
	jsonw_lit(w, ",\"created_at\":");
	jsonw_time(w, d->created_at);
	jsonw_lit(w, ",\"next_try_at\":");
	jsonw_time(w, d->state == DELIVERY_PENDING ? d->next_at : 0);
	jsonw_lit(w, ",\"last_status\":");
	opt_int(w, d->last_status, d->last_status >= 0);
	jsonw_lit(w, ",\"last_error\":");
	jsonw_str(w, d->last_error);
	jsonw_lit(w, ",\"answers\":");
	tries_json(w, d->id, t, nt, k);
	jsonw_lit(w, "}");
}

int
api_deliveries_list(struct request *req)
{
	struct delivery		*ds = NULL;
	struct delivery_try	*ts = NULL;
	struct jsonw		 w;
	struct job		 j;
	size_t			 n = 0, nt = 0, k = 0;
	uint64_t		 id;
	int			 rc;

	if (api_path_id(req, &id) < 0)
		return API_DONE;
	if ((rc = core_job_get(req->srv, id, &j)) < 0)
		return reply_errno(req, rc);
	job_clear(&j);
	if ((rc = store_hook_list(req->srv->store, id, &ds, &n)) < 0 ||
	    (rc = store_hook_tries(req->srv->store, id, &ts, &nt)) < 0) {
		delivery_free_all(ds, n);
		return reply_errno(req, rc);
	}
	jsonw_init(&w);
	jsonw_lit(&w, "{\"deliveries\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			jsonw_lit(&w, ",");
		delivery_json(&w, &ds[i], ts, nt, &k);
	}
	jsonw_lit(&w, "]}");
	delivery_free_all(ds, n);
	delivery_try_free_all(ts, nt);
	return reply_jw(req, 200, &w);
}
