/*
 * Schedules as stored (store/schedule.h): their names and lifetimes, and
 * the store_sched_* calls, which go to the backend's table.
 */
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"
#include "store/schedule.h"

static const char *const overlap_names[SCHED_OVERLAP_COUNT] = {
	"allow", "skip", "queue", "cancel",
};
static const char *const misfire_names[SCHED_MISFIRE_COUNT] = {
	"skip", "once", "all",
};

void
schedule_init(struct schedule *s)
{
	memset(s, 0, sizeof(*s));
	s->misfire = SCHED_MISFIRE_ONCE;
}

void
schedule_clear(struct schedule *s)
{
	free(s->name);
	free(s->cron);
	free(s->timezone);
	free(s->job_json);
	schedule_init(s);
}

void
schedule_free_all(struct schedule *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		schedule_clear(&s[i]);
	free(s);
}

static int
name_parse(const char *const *names, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *
schedule_overlap_name(int v)
{
	return v >= 0 && v < SCHED_OVERLAP_COUNT ? overlap_names[v] : "?";
}

const char *
schedule_misfire_name(int v)
{
	return v >= 0 && v < SCHED_MISFIRE_COUNT ? misfire_names[v] : "?";
}

int
schedule_overlap_parse(const char *name)
{
	return name_parse(overlap_names, SCHED_OVERLAP_COUNT, name);
}

int
schedule_misfire_parse(const char *name)
{
	return name_parse(misfire_names, SCHED_MISFIRE_COUNT, name);
}

int
store_sched_add(struct store *s, struct schedule *sc)
{
	return s->ops->sched->add(s, sc);
}

int
store_sched_get(struct store *s, uint64_t id, struct schedule *out)
{
	return s->ops->sched->get(s, id, out);
}

int
store_sched_all(struct store *s, struct schedule **out, size_t *n)
{
	return s->ops->sched->all(s, out, n);
}

int
store_sched_put(struct store *s, const struct schedule *sc)
{
	return s->ops->sched->put(s, sc);
}

int
store_sched_delete(struct store *s, uint64_t id)
{
	return s->ops->sched->delete(s, id);
}

int
store_sched_next(struct store *s, int64_t *at)
{
	return s->ops->sched->next(s, at);
}

int
store_sched_due(struct store *s, int64_t now_ms, int limit, uint64_t **ids,
    size_t *n)
{
	return s->ops->sched->due(s, now_ms, limit, ids, n);
}

int
store_sched_owed(struct store *s, uint64_t **ids, size_t *n)
{
	return s->ops->sched->owed(s, ids, n);
}

int
store_sched_advance(struct store *s, uint64_t id, int64_t from, int64_t to)
{
	return s->ops->sched->advance(s, id, from, to);
}

int
store_sched_made(struct store *s, uint64_t id, uint64_t last_job,
    int64_t waiting)
{
	return s->ops->sched->made(s, id, last_job, waiting);
}

int
store_sched_tick(struct store *s, uint64_t id, int64_t tick, uint64_t job)
{
	return s->ops->sched->tick(s, id, tick, job);
}

int
store_sched_ticks_purge(struct store *s, int64_t before_ms)
{
	return s->ops->sched->ticks_purge(s, before_ms);
}
