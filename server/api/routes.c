/* The API's route table: method + path -> handler (matched by http/route.c). */
#include "api/api.h"
#include "api/routes.h"
#include "http/static.h"

const struct route api_routes[] = {
	{HTTP_GET,	"/api/v1/jobs",			api_jobs_list, 0},
	{HTTP_POST,	"/api/v1/jobs",			api_jobs_submit, 0},
	{HTTP_GET,	"/api/v1/jobs/{id}",		api_jobs_get, 0},
	{HTTP_DELETE,	"/api/v1/jobs/{id}",		api_jobs_delete, 0},
	{HTTP_POST,	"/api/v1/jobs/{id}/cancel",	api_jobs_cancel, 0},
	{HTTP_POST,	"/api/v1/jobs/{id}/retry",	api_jobs_retry, 0},
	{HTTP_GET,	"/api/v1/jobs/{id}/output",	api_output_get, 0},
	{HTTP_GET,	"/api/v1/jobs/{id}/file",	api_uploads_file_get, 0},
	{HTTP_GET,	"/api/v1/jobs/{id}/deliveries",	api_deliveries_list, 0},
	{HTTP_POST,	"/api/v1/uploads",		api_uploads_post, 1},
	{HTTP_PUT,	"/api/v1/uploads",		api_uploads_post, 1},	/* curl -T */
	{HTTP_GET,	"/api/v1/workers",		api_workers_list, 0},
	{HTTP_GET,	"/api/v1/queues",		api_queues_list, 0},
	{HTTP_PATCH,	"/api/v1/queues/{name}",	api_queues_patch, 0},
	{HTTP_GET,	"/api/v1/schedules",		api_schedules_list, 0},
	{HTTP_POST,	"/api/v1/schedules",		api_schedules_create, 0},
	{HTTP_GET,	"/api/v1/schedules/{id}",	api_schedules_get, 0},
	{HTTP_PATCH,	"/api/v1/schedules/{id}",	api_schedules_patch, 0},
	{HTTP_DELETE,	"/api/v1/schedules/{id}",	api_schedules_delete, 0},
	{HTTP_POST,	"/api/v1/schedules/{id}/trigger", api_schedules_trigger, 0},
	{HTTP_GET,	"/api/v1/stats",		api_stats_get, 0},
	{HTTP_GET,	"/api/v1/events",		api_events_get, 0},
	{HTTP_GET,	"/api/v1/session",		api_session_get, 0},
	{HTTP_POST,	"/api/v1/session",		api_session_create, 0},
	{HTTP_DELETE,	"/api/v1/session",		api_session_delete, 0},
	{HTTP_GET,	"/api/v1/openapi.json",		api_openapi_get, 0},
	{HTTP_GET,	"/healthz",			api_health_get, 0},
	{HTTP_GET,	"/metrics",			api_metrics_get, 0},
	{HTTP_GET,	"*",				static_get, 0},	/* the rest */
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
