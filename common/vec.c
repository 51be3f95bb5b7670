/* Growing arrays: capacity doubling with overflow checks, in one place. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

int
vec_grow(void *pp, size_t *cap, size_t need, size_t elem_size)
{
	void	*p, *np;
	size_t	 c;

	if (elem_size == 0)
		return -EINVAL;
	if (need <= *cap)
		return 0;
	if (need > SIZE_MAX / elem_size)
		return -ENOMEM;
	c = *cap ? *cap : VEC_FIRST_BYTES / elem_size;
	if (c == 0)
		c = 1;
	while (c < need)
		c = c > SIZE_MAX / 2 ? need : c * 2;
	if (c > SIZE_MAX / elem_size)
		c = need;
	/* pp points at a T *: copied, not dereferenced as a void *, so
	 * that no object is read through an lvalue of another type. */
	memcpy(&p, pp, sizeof(p));
	if ((np = realloc(p, c * elem_size)) == NULL)
		return -ENOMEM;
	memcpy(pp, &np, sizeof(np));
	*cap = c;
	return 0;
}
