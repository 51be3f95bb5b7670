/* The API's route table: method + path -> handler (matched by http/route.c). */
#include "api/api.h"
#include "api/routes.h"
#include "http/static.h"

/* The query parameters each route takes; any other is refused. */
#define NONE		""
#define LIST_PARAMS	"state queue type limit before schedule q name " \
			"created_after created_before finished_after " \
			"finished_before exit_code"
/* The raw upload form: the file's name and hash, the spec's fields
 * (those that need an array or object are refused by the handler). */
#define UPLOAD_PARAMS	"name sha256 command queue priority timeout " \
			"max_attempts delay run_at cwd stdin argv env " \
			"after limits webhooks shell"

const struct route api_routes[] = {
	{HTTP_GET,	"/api/v1/jobs",			api_jobs_list, 0, LIST_PARAMS},
	{HTTP_POST,	"/api/v1/jobs",			api_jobs_submit, 0, NONE},
	{HTTP_POST,	"/api/v1/jobs/bulk",		api_jobs_bulk, 0, NONE},
	{HTTP_GET,	"/api/v1/jobs/{id}",		api_jobs_get, 0, "wait"},
	{HTTP_DELETE,	"/api/v1/jobs/{id}",		api_jobs_delete, 0, NONE},
	{HTTP_POST,	"/api/v1/jobs/{id}/cancel",	api_jobs_cancel, 0, NONE},
	{HTTP_POST,	"/api/v1/jobs/{id}/retry",	api_jobs_retry, 0, NONE},
	{HTTP_GET,	"/api/v1/jobs/{id}/output",	api_output_get, 0,
	    "stream offset attempt follow"},
	{HTTP_GET,	"/api/v1/jobs/{id}/file",	api_uploads_file_get, 0, NONE},
	{HTTP_GET,	"/api/v1/jobs/{id}/deliveries",	api_deliveries_list, 0, NONE},
	{HTTP_POST,	"/api/v1/uploads",		api_uploads_post, 1, UPLOAD_PARAMS},
	{HTTP_PUT,	"/api/v1/uploads",		api_uploads_post, 1, UPLOAD_PARAMS},	/* curl -T */
	{HTTP_GET,	"/api/v1/workers",		api_workers_list, 0, NONE},
	{HTTP_GET,	"/api/v1/queues",		api_queues_list, 0, NONE},
	{HTTP_PATCH,	"/api/v1/queues/{name}",	api_queues_patch, 0, NONE},
	{HTTP_GET,	"/api/v1/schedules",		api_schedules_list, 0, NONE},
	{HTTP_POST,	"/api/v1/schedules",		api_schedules_create, 0, "dry_run"},
	{HTTP_GET,	"/api/v1/schedules/{id}",	api_schedules_get, 0, NONE},
	{HTTP_PATCH,	"/api/v1/schedules/{id}",	api_schedules_patch, 0, NONE},
	{HTTP_DELETE,	"/api/v1/schedules/{id}",	api_schedules_delete, 0, NONE},
	{HTTP_POST,	"/api/v1/schedules/{id}/trigger", api_schedules_trigger, 0, NONE},
	{HTTP_GET,	"/api/v1/stats",		api_stats_get, 0, NONE},
	{HTTP_GET,	"/api/v1/events",		api_events_get, 0, NONE},
	{HTTP_GET,	"/api/v1/session",		api_session_get, 0, NONE},
	{HTTP_POST,	"/api/v1/session",		api_session_create, 0, NONE},
	{HTTP_DELETE,	"/api/v1/session",		api_session_delete, 0, NONE},
	{HTTP_GET,	"/api/v1/openapi.json",		api_openapi_get, 0, NONE},
	{HTTP_GET,	"/healthz",			api_health_get, 0, NONE},
	{HTTP_GET,	"/metrics",			api_metrics_get, 0, NONE},
	/* the dashboard: a browser may add cache-busting parameters */
	{HTTP_GET,	"*",				static_get, 0, NULL},
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
