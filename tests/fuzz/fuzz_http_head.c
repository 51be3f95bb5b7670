/*
 * Fuzz target: arbitrary bytes as what a client sent on a new connection,
 * through the request-head checker the accept gate uses (server/head.c).
 * It must never read out of bounds, and its verdicts must hold together:
 * a whole head is whole again on its own and "more" when cut short; a
 * refusal names a status, a code and a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*p = (const char *)data;
	struct head_fault	 f = {0};
	size_t			 len = 0, again = 0, cut;
	int			 rc;

	rc = head_scan(p, size, &len, &f);
	switch (rc) {
	case HEAD_DONE:
		if (len == 0 || len > size)
			abort();
		if (head_scan(p, len, &again, &f) != HEAD_DONE || again != len)
			abort();
		cut = size ? data[0] % len : 0;
		if (head_scan(p, cut, &again, &f) != HEAD_MORE)
			abort();
		break;
	case HEAD_BAD:
		if (f.code == NULL || f.why == NULL || f.why[0] == '\0')
			abort();
		if (f.status != 400 && f.status != 414 && f.status != 431 &&
		    f.status != 501 && f.status != 505)
			abort();
		break;
	case HEAD_MORE:
		if (size >= HEAD_MAX)
			abort();	/* a head that long is refused, not awaited */
		break;
	default:
		abort();
	}
	return 0;
}
