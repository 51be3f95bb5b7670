/*
 * Growing arrays: the one helper for every array (or byte buffer) that
 * grows as it is filled.  The caller keeps the pointer, the count and
 * the capacity in its own struct; vec_grow only makes room.
 */
#ifndef RUNNEL_VEC_H
#define RUNNEL_VEC_H

#include <stddef.h>

/* The first allocation holds at least this many bytes. */
#define VEC_FIRST_BYTES	512

/*
 * Makes the array at *pp (pp is the address of any T *, NULL or from
 * malloc) hold at least need elements of elem_size bytes: the capacity
 * *cap doubles until it does.  Elements below the old *cap are kept.
 * Returns 0, -EINVAL if elem_size is 0, or -ENOMEM (out of memory, or
 * need * elem_size does not fit a size_t) with *pp and *cap unchanged.
 */
int	vec_grow(void *pp, size_t *cap, size_t need, size_t elem_size);

#endif
