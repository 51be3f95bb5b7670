/*
 * Schedules as stored (store/schedule.h): their names and lifetimes, and
 * (the store_sched_* calls are store.c's, like every call to a backend).
 */
#include <stdlib.h>
#include <string.h>

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
