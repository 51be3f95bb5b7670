/*
 * Webhook deliveries as stored (store/delivery.h): their names and
 * lifetimes (the store_hook_* calls are store.c's).
 */
#include <stdlib.h>
#include <string.h>

#include "store/delivery.h"

static const char *const state_names[DELIVERY_STATE_COUNT] = {
	"pending", "delivered", "failed",
};

void
delivery_clear(struct delivery *d)
{
	free(d->url);
	free(d->event);
	free(d->last_error);
	memset(d, 0, sizeof(*d));
	d->last_status = -1;
}

void
delivery_free_all(struct delivery *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		delivery_clear(&d[i]);
	free(d);
}

void
delivery_try_free_all(struct delivery_try *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].error);
		free(t[i].response);
	}
	free(t);
}

const char *
delivery_state_name(int v)
{
	return v >= 0 && v < DELIVERY_STATE_COUNT ? state_names[v] : "?";
}

int
delivery_state_parse(const char *name)
{
	for (int i = 0; name && i < DELIVERY_STATE_COUNT; i++)
		if (strcmp(state_names[i], name) == 0)
			return i;
	return -1;
}
