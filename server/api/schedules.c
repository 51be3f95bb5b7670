/*
 * /api/v1/schedules: recurring jobs.  POST makes one (with ?dry_run=1
 * shows the one it would make, next fire times included, and stores
 * nothing: the dashboard's preview while typing), GET lists them or
 * shows one with its next fire times, PATCH changes it, DELETE removes it
 * (its jobs stay), POST .../trigger runs it now.  A schedule's body is
 * checked field by field here; its job template is a spec as POST
 * /api/v1/jobs takes it (api/spec.c), checked again at each tick.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "api/spec.h"
#include "clock.h"
#include "core/core.h"
#include "core/sched.h"
#include "http/jsonw.h"
#include "http/reply.h"
#include "http/response.h"
#include "server.h"
#include "store/schedule.h"
#include "store/store.h"

/* ---- the template ---------------------------------------------------------- */

/* What a template cannot hold: ids and times fixed at its writing. */
static const char *const template_refused[] = {"after", "run_at"};

static int
template_check(const cJSON *spec, struct job *j, struct api_error *e)
{
	for (size_t i = 0; i < sizeof(template_refused) /
	    sizeof(template_refused[0]); i++)
		if (cJSON_GetObjectItemCaseSensitive(spec,
		    template_refused[i]) != NULL)
			return reply_error_set(e, 422, "invalid_field",
			    template_refused[i], "a schedule's job cannot "
			    "have %s (use delay for a wait after each tick)",
			    template_refused[i]);
	return spec_parse(spec, "", j, e);
}

int
api_job_template(const char *json, struct job *j)
{
	struct api_error	 e;
	cJSON			*spec;
	int			 rc;

	if ((spec = cJSON_Parse(json)) == NULL)
		return -EINVAL;
	rc = template_check(spec, j, &e);
	cJSON_Delete(spec);
	return rc < 0 ? -EINVAL : 0;
}

/* ---- rendering ------------------------------------------------------------- */

static void
time_or_null(struct jsonw *w, int64_t ms)
{
	if (ms > 0)
		jsonw_time(w, ms);
	else
		jsonw_lit(w, "null");
}

/* The last job: what the Schedules view shows of it. */
static void
last_job_json(struct jsonw *w, struct server *srv, uint64_t id)
{
	struct job j;

	if (id == 0 || core_job_get(srv, id, &j) < 0) {
		jsonw_lit(w, "null");
		return;
	}
	jsonw_lit(w, "{\"id\":");
	jsonw_int(w, (int64_t)j.id);
	jsonw_lit(w, ",\"state\":");
	jsonw_str(w, job_state_name(j.state));
	jsonw_lit(w, ",\"exit_code\":");
	if (j.exit_code >= 0)
		jsonw_int(w, j.exit_code);
	else
		jsonw_lit(w, "null");
	jsonw_lit(w, ",\"error\":");
	jsonw_str(w, j.error);
	jsonw_lit(w, ",\"scheduled_for\":");
	time_or_null(w, j.scheduled_for);
	jsonw_lit(w, ",\"started_at\":");
	time_or_null(w, j.started_at);
	jsonw_lit(w, ",\"finished_at\":");
	time_or_null(w, j.finished_at);
	jsonw_lit(w, "}");
	job_clear(&j);
}

static void
render_schedule(struct jsonw *w, struct server *srv, const struct schedule *sc)
{
	int64_t	 runs[SCHED_NEXT_RUNS];
	size_t	 n = sc->paused ? 0 : sched_next_runs(sc, clock_now_ms(),
		    runs, SCHED_NEXT_RUNS);

	jsonw_lit(w, "{\"id\":");
	jsonw_int(w, (int64_t)sc->id);
	jsonw_lit(w, ",\"name\":");
	jsonw_str(w, sc->name);
	jsonw_lit(w, ",\"cron\":");
	jsonw_str(w, sc->cron);
	jsonw_lit(w, ",\"timezone\":");
	jsonw_str(w, sc->timezone);
	jsonw_lit(w, ",\"job\":");
	jsonw_raw(w, sc->job_json, strlen(sc->job_json));
	jsonw_lit(w, ",\"overlap\":");
	jsonw_str(w, schedule_overlap_name(sc->overlap));
	jsonw_lit(w, ",\"misfire\":");
	jsonw_str(w, schedule_misfire_name(sc->misfire));
	jsonw_lit(w, ",\"paused\":");
	if (sc->paused)
		jsonw_lit(w, "true");
	else
		jsonw_lit(w, "false");
	jsonw_lit(w, ",\"until\":");
	time_or_null(w, sc->until);
	jsonw_lit(w, ",\"next_runs\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			jsonw_lit(w, ",");
		jsonw_time(w, runs[i]);
	}
	jsonw_lit(w, "],\"waiting\":");
	time_or_null(w, sc->waiting);
	jsonw_lit(w, ",\"last_job\":");
	last_job_json(w, srv, sc->last_job);
	jsonw_lit(w, ",\"created_at\":");
	jsonw_time(w, sc->created_at);
	jsonw_lit(w, "}");
}

static int
reply_schedule(struct request *req, int status, uint64_t id)
{
	struct schedule	 sc;
	struct jsonw	 w;
	int		 rc;

	if ((rc = store_sched_get(req->srv->store, id, &sc)) < 0)
		return rc == -ENOENT ? reply_fail(req, 404, "not_found", NULL,
		    "no such schedule") : reply_errno(req, rc);
	jsonw_init(&w);
	render_schedule(&w, req->srv, &sc);
	schedule_clear(&sc);
	if (status == 201) {
		char loc[64];

		snprintf(loc, sizeof(loc), "/api/v1/schedules/%llu",
		    (unsigned long long)id);
		response_header(&req->resp, "Location", loc);
	}
	return reply_jw(req, status, &w);
}

/* ---- parsing a body ------------------------------------------------------- */

/* A refusal of the core, in this resource's words. */
static int
sched_refused(struct request *req, int rc, const struct core_error *err)
{
	const char *field = err->field[0] ? err->field : NULL;
	const char *msg = err->message[0] ? err->message : NULL;

	if (msg == NULL)
		return reply_errno(req, rc);
	switch (rc) {
	case -EINVAL:
		return reply_fail(req, 422, "invalid_field", field, "%s", msg);
	case -EEXIST:
		return reply_fail(req, 409, "conflict", field, "%s", msg);
	case -ENOENT:
		return reply_fail(req, 404, "not_found", field, "%s", msg);
	default:
		return api_refused(req, rc, err);
	}
}

/* What a body changed, beyond the fields it set in the schedule. */
struct body_seen {
	int	 when;		/* cron, timezone or until */
	int	 resumed;	/* paused: true -> false */
};

static int
set_str(char **dst, const cJSON *v, const char *field, size_t max,
    struct api_error *e)
{
	char *s;

	if (!cJSON_IsString(v) || v->valuestring[0] == '\0' ||
	    strlen(v->valuestring) > max)
		return reply_error_set(e, 400, "invalid_field", field, "%s must "
		    "be a non-empty string of at most %zu bytes", field, max);
	if ((s = strdup(v->valuestring)) == NULL)
		return reply_error_set(e, 500, "internal", NULL, "out of memory");
	free(*dst);
	*dst = s;
	return 0;
}

static int
set_policy(int *dst, const cJSON *v, const char *field, int (*parse)(const char *),
    const char *names, struct api_error *e)
{
	int p;

	if (!cJSON_IsString(v))
		return reply_error_set(e, 400, "invalid_field", field,
		    "%s must be one of %s", field, names);
	if ((p = parse(v->valuestring)) < 0)
		return reply_error_set(e, 422, "invalid_field", field,
		    "%s must be one of %s, not \"%.40s\"", field, names,
		    v->valuestring);
	*dst = p;
	return 0;
}

static int
set_job(struct schedule *sc, const cJSON *v, struct api_error *e)
{
	struct job	 j;
	char		*text;
	int		 rc;

	if (!cJSON_IsObject(v))
		return reply_error_set(e, 400, "invalid_field", "job", "job "
		    "must be a job spec object, as POST /api/v1/jobs takes");
	job_init(&j);
	rc = template_check(v, &j, e);
	job_clear(&j);
	if (rc < 0) {
		char field[REPLY_FIELD_MAX + 8];

		/* Named inside the template, refused as the schedule's. */
		snprintf(field, sizeof(field), "job%s%s", e->field[0] ? "." :
		    "", e->field);
		snprintf(e->field, sizeof(e->field), "%.*s",
		    (int)sizeof(e->field) - 1, field);
		/* A bad value in it is the schedule's 422; a body that is
		 * not strict JSON (a key given twice) stays a 400. */
		if (e->status == 400 && strcmp(e->code, "invalid_json") != 0)
			e->status = 422;
		return rc;
	}
	if ((text = cJSON_PrintUnformatted(v)) == NULL)
		return reply_error_set(e, 500, "internal", NULL, "out of memory");
	free(sc->job_json);
	sc->job_json = text;
	return 0;
}

static int
set_until(struct schedule *sc, const cJSON *v, struct api_error *e)
{
	int64_t ms;

	if (cJSON_IsNull(v)) {
		sc->until = 0;
		return 0;
	}
	if (!cJSON_IsString(v) || clock_parse_ms(v->valuestring, &ms) < 0 ||
	    ms <= 0)
		return reply_error_set(e, 400, "invalid_field", "until", "until "
		    "must be an RFC 3339 timestamp after 1970, or null");
	sc->until = ms;
	return 0;
}

static int
set_field(struct schedule *sc, const cJSON *v, struct body_seen *seen,
    struct api_error *e)
{
	const char *k = v->string;

	if (strcmp(k, "name") == 0)
		return set_str(&sc->name, v, "name", SCHED_NAME_MAX, e);
	if (strcmp(k, "cron") == 0) {
		seen->when = 1;
		return set_str(&sc->cron, v, "cron", SCHED_CRON_MAX, e);
	}
	if (strcmp(k, "timezone") == 0) {
		seen->when = 1;
		return set_str(&sc->timezone, v, "timezone", 255, e);
	}
	if (strcmp(k, "job") == 0)
		return set_job(sc, v, e);
	if (strcmp(k, "overlap") == 0)
		return set_policy(&sc->overlap, v, "overlap",
		    schedule_overlap_parse, "allow, skip, queue, cancel", e);
	if (strcmp(k, "misfire") == 0)
		return set_policy(&sc->misfire, v, "misfire",
		    schedule_misfire_parse, "skip, once, all", e);
	if (strcmp(k, "paused") == 0) {
		if (!cJSON_IsBool(v))
			return reply_error_set(e, 400, "invalid_field",
			    "paused", "paused must be true or false");
		seen->resumed = sc->paused && !cJSON_IsTrue(v);
		sc->paused = cJSON_IsTrue(v);
		return 0;
	}
	if (strcmp(k, "until") == 0) {
		seen->when = 1;
		return set_until(sc, v, e);
	}
	return reply_error_set(e, 400, "unknown_field", k, "unknown field "
	    "\"%.64s\" (name, cron, timezone, job, overlap, misfire, paused, "
	    "until)", k);
}

/* The body's fields into sc.  0, or -EINVAL with *e filled. */
static int
body_parse(struct request *req, struct schedule *sc, struct body_seen *seen,
    struct api_error *e)
{
	cJSON		*root;
	const cJSON	*v, *w;
	int		 rc = 0;

	memset(seen, 0, sizeof(*seen));
	if ((rc = spec_check_text(req->body ? req->body : "", req->body_len,
	    e)) < 0)
		return rc;
	if ((root = cJSON_ParseWithLength(req->body, req->body_len)) == NULL ||
	    !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return reply_error_set(e, 400, "invalid_json", NULL, "send a "
		    "JSON object: a schedule");
	}
	cJSON_ArrayForEach(v, root) {
		for (w = root->child; w != v; w = w->next)
			if (strcmp(w->string, v->string) == 0) {
				rc = reply_error_set(e, 400, "invalid_json",
				    v->string, "field \"%.64s\" is given twice",
				    v->string);
				goto out;
			}
		if ((rc = set_field(sc, v, seen, e)) < 0)
			break;
	}
out:
	cJSON_Delete(root);
	return rc;
}

/* The template's webhooks against --webhook-allow: answered and -1 if not. */
static int
template_hooks(struct request *req, const char *job_json)
{
	cJSON	*spec, *h;
	char	*text = NULL;
	int	 rc = 0;

	if (job_json == NULL || (spec = cJSON_Parse(job_json)) == NULL)
		return 0;
	if ((h = cJSON_GetObjectItemCaseSensitive(spec, "webhooks")) != NULL &&
	    cJSON_IsArray(h) && (text = cJSON_PrintUnformatted(h)) != NULL)
		rc = api_hooks_check(req, text, "job.");
	free(text);
	cJSON_Delete(spec);
	return rc;
}

/* ---- handlers --------------------------------------------------------------- */

static int
path_sched(struct request *req, uint64_t *id)
{
	const char	*s = req->path_id ? req->path_id : "";

	if (api_digits(&s, id) < 0 || *s != '\0' || *id == 0 ||
	    *id > (uint64_t)INT64_MAX) {
		reply_fail(req, 400, "invalid_field", "id", "a schedule id is a "
		    "positive integer, not \"%.40s\"", req->path_id ?
		    req->path_id : "");
		return -1;
	}
	return 0;
}

/* After the commit: the schedule as it now is. */
static void
sched_done(void *arg, const struct core_result *r)
{
	struct request *req = arg;

	if (r->rc < 0)
		reply_errno(req, r->rc);
	else if (req->method == HTTP_DELETE)
		response_body(&req->resp, 204, NULL, NULL, 0);
	else
		reply_schedule(req, req->method == HTTP_POST ? 201 : 200, r->id);
	request_done(req);
}

/* ?dry_run=1: 1, 0 (absent, 0, false), or -1 with the reply sent. */
static int
dry_run(struct request *req)
{
	const char *v = request_query(req, "dry_run");

	if (v == NULL || strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		return 0;
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
		return 1;
	reply_fail(req, 400, "invalid_field", "dry_run", "dry_run must be "
	    "1, true, 0 or false, not \"%.40s\"", v);
	return -1;
}

/* A dry run: the schedule the body would make, with id 0, not stored. */
static int
reply_dry(struct request *req, const struct schedule *sc)
{
	struct jsonw w;

	jsonw_init(&w);
	render_schedule(&w, req->srv, sc);
	return reply_jw(req, 200, &w);
}

int
api_schedules_create(struct request *req)
{
	struct schedule		 sc;
	struct body_seen	 seen;
	struct api_error	 e;
	struct core_error	 err = {0};
	int			 dry, rc;

	if (api_json_body(req) < 0 || (dry = dry_run(req)) < 0)
		return API_DONE;
	schedule_init(&sc);
	if (body_parse(req, &sc, &seen, &e) < 0) {
		schedule_clear(&sc);
		return reply_error(req, &e);
	}
	if (template_hooks(req, sc.job_json) < 0) {
		schedule_clear(&sc);
		return API_DONE;
	}
	if (sc.name == NULL || sc.cron == NULL || sc.job_json == NULL) {
		const char *missing = sc.name == NULL ? "name" :
		    sc.cron == NULL ? "cron" : "job";

		schedule_clear(&sc);
		return reply_fail(req, 400, "invalid_field", missing, "%s is "
		    "required", missing);
	}
	if (sc.timezone == NULL && (sc.timezone = strdup("UTC")) == NULL) {
		schedule_clear(&sc);
		return reply_errno(req, -ENOMEM);
	}
	sc.created_at = clock_now_ms();
	if ((rc = sched_check(&sc, sc.created_at, &err)) == 0 && dry) {
		rc = reply_dry(req, &sc);
		schedule_clear(&sc);
		return rc;
	}
	if (rc == 0)
		rc = sched_create(req->srv, &sc, sched_done, req, &err);
	schedule_clear(&sc);
	return rc < 0 ? sched_refused(req, rc, &err) : API_PENDING;
}

int
api_schedules_list(struct request *req)
{
	struct schedule	*all;
	size_t		 n;
	struct jsonw	 w;
	int		 rc;

	if ((rc = store_sched_all(req->srv->store, &all, &n)) < 0)
		return reply_errno(req, rc);
	jsonw_init(&w);
	jsonw_lit(&w, "{\"schedules\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			jsonw_lit(&w, ",");
		render_schedule(&w, req->srv, &all[i]);
	}
	jsonw_lit(&w, "]}");
	schedule_free_all(all, n);
	return reply_jw(req, 200, &w);
}

int
api_schedules_get(struct request *req)
{
	uint64_t id;

	if (path_sched(req, &id) < 0)
		return API_DONE;
	return reply_schedule(req, 200, id);
}

int
api_schedules_patch(struct request *req)
{
	struct schedule		 sc;
	struct body_seen	 seen;
	struct api_error	 e;
	struct core_error	 err = {0};
	uint64_t		 id;
	int			 rc;

	if (api_json_body(req) < 0 || path_sched(req, &id) < 0)
		return API_DONE;
	if ((rc = store_sched_get(req->srv->store, id, &sc)) < 0)
		return rc == -ENOENT ? reply_fail(req, 404, "not_found", NULL,
		    "no such schedule") : reply_errno(req, rc);
	if (body_parse(req, &sc, &seen, &e) < 0) {
		schedule_clear(&sc);
		return reply_error(req, &e);
	}
	if (template_hooks(req, sc.job_json) < 0) {
		schedule_clear(&sc);
		return API_DONE;
	}
	/* A resume or a new time rule: on from now; owed runs go. */
	if (seen.resumed || seen.when)
		sc.waiting = 0;
	rc = sched_update(req->srv, &sc, seen.resumed || seen.when, sched_done,
	    req, &err);
	schedule_clear(&sc);
	return rc < 0 ? sched_refused(req, rc, &err) : API_PENDING;
}

int
api_schedules_delete(struct request *req)
{
	struct core_error	 err = {0};
	uint64_t		 id;
	int			 rc;

	if (path_sched(req, &id) < 0)
		return API_DONE;
	rc = sched_delete(req->srv, id, sched_done, req, &err);
	return rc < 0 ? sched_refused(req, rc, &err) : API_PENDING;
}

int
api_schedules_trigger(struct request *req)
{
	struct core_error	 err = {0};
	uint64_t		 id;
	int			 rc;

	if (path_sched(req, &id) < 0)
		return API_DONE;
	rc = sched_trigger(req->srv, id, api_submitted, req, &err);
	return rc < 0 ? sched_refused(req, rc, &err) : API_PENDING;
}
