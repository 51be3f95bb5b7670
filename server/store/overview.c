/* The dashboard's overview: the part shared by the backends (overview.h). */
#include <errno.h>
#include <string.h>

#include "store/backend.h"
#include "store/overview.h"
#include "vec.h"

int
store_overview(struct store *s, int64_t now_ms, struct store_overview *out)
{
	memset(out, 0, sizeof(*out));
	return s->ops->overview(s, now_ms, out);
}

void
overview_failed_add(struct store_overview *o, int64_t now_ms, int64_t minute,
    int64_t n)
{
	int64_t back = now_ms / 60000 - minute;

	if (back >= 0 && back < OVERVIEW_MINUTES)
		o->failed[OVERVIEW_MINUTES - 1 - back] += n;
}

int
overview_latency_add(struct store_overview *o, int64_t ms, size_t *cap)
{
	if (o->nlatency >= 2 * OVERVIEW_LATENCY_MAX)
		return 0;
	if (vec_grow(&o->latency_ms, cap, o->nlatency + 1,
	    sizeof(*o->latency_ms)) < 0)
		return -ENOMEM;
	o->latency_ms[o->nlatency++] = ms < 0 ? 0 : ms;
	return 0;
}
