/* The PostgreSQL backend: being written. */
#include <errno.h>

#include "log.h"
#include "store/backend.h"

int
pg_open(struct store **out, const char *conninfo, enum store_durability d)
{
	(void)conninfo;
	(void)d;
	*out = NULL;
	log_warnx("store: PostgreSQL is not built yet");
	return -ENOTSUP;
}
