/*
 * The pool's reports, as the core takes them: each entry of the table
 * given to pool_start adapts one report to the core function (or the
 * events or space module) that handles it.  The arg is the server.
 */
#include "core/core.h"
#include "core/events.h"
#include "core/finish.h"
#include "core/workers.h"
#include "server.h"
#include "store/space.h"

static void
workers_ready(void *arg)
{
	core_worker_ready(arg);
}

static void
workers_exited(void *arg, uint64_t id, const struct job_exit *ex)
{
	finish_exited(arg, id, ex);
}

static void
workers_lost(void *arg, uint64_t id, const struct job_exit *ex)
{
	finish_lost(arg, id, ex);
}

static void
workers_output(void *arg, uint64_t id)
{
	events_output(arg, id);
}

static int
workers_storage_full(void *arg)
{
	return space_full(arg);
}

static void
workers_storage_error(void *arg, const char *what, int err)
{
	space_hit(arg, what, err);
}

const struct pool_cb core_pool_cb = {
	.ready = workers_ready,
	.exited = workers_exited,
	.lost = workers_lost,
	.output = workers_output,
	.storage_full = workers_storage_full,
	.storage_error = workers_storage_error,
};
