/*
 * Refusals: the detail of why a core operation said no, written where
 * the reason is found and rendered by the api (api_refused).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core_int.h"

int
refuse_set(struct core_error *err, int rc, const char *field,
    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return rc;
	memset(err, 0, sizeof(*err));
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return rc;
}

int
refuse_state(struct core_error *err, struct job *j, const char *what)
{
	int rc = refuse_set(err, -EBUSY, NULL, "cannot %s job %llu: it is "
	    "%s", what, (unsigned long long)j->id, job_state_name(j->state));

	job_clear(j);
	return rc;
}
