/* The growing-array helper: room, doubling, kept contents, refusals. */
#include <stdint.h>

#include "test.h"
#include "vec.h"

TEST(first_growth_allocates_at_least_what_is_needed)
{
	uint64_t	*a = NULL;
	size_t		 cap = 0;

	ASSERT_INT(vec_grow(&a, &cap, 1, sizeof(*a)), ==, 0);
	ASSERT(a != NULL);
	ASSERT_INT(cap, ==, VEC_FIRST_BYTES / sizeof(*a));
	a[cap - 1] = 7;
	free(a);
	a = NULL;
	cap = 0;
	ASSERT_INT(vec_grow(&a, &cap, 1000, sizeof(*a)), ==, 0);
	ASSERT_INT(cap, >=, 1000);
	a[999] = 7;
	free(a);
}

TEST(elements_larger_than_the_first_block_get_one_slot)
{
	struct big { char b[VEC_FIRST_BYTES * 3]; } *a = NULL;
	size_t cap = 0;

	ASSERT_INT(vec_grow(&a, &cap, 1, sizeof(*a)), ==, 0);
	ASSERT_INT(cap, ==, 1);
	memset(a, 1, sizeof(*a));
	ASSERT_INT(vec_grow(&a, &cap, 2, sizeof(*a)), ==, 0);
	ASSERT_INT(cap, ==, 2);
	free(a);
}

TEST(enough_room_changes_nothing)
{
	char	*b = NULL, *was;
	size_t	 cap = 0;

	ASSERT_INT(vec_grow(&b, &cap, 10, 1), ==, 0);
	was = b;
	ASSERT_INT(vec_grow(&b, &cap, cap, 1), ==, 0);
	ASSERT(b == was);
	ASSERT_INT(vec_grow(&b, &cap, 0, 1), ==, 0);
	ASSERT(b == was);
	ASSERT_INT(cap, ==, VEC_FIRST_BYTES);
	free(b);
}

TEST(capacity_doubles_and_contents_are_kept)
{
	int	*a = NULL;
	size_t	 cap = 0, n = 0, grew = 0, last = 0;

	for (int i = 0; i < 100000; i++) {
		ASSERT_INT(vec_grow(&a, &cap, n + 1, sizeof(*a)), ==, 0);
		if (cap != last) {
			if (last)
				ASSERT_INT(cap, ==, last * 2);
			last = cap;
			grew++;
		}
		a[n++] = i;
	}
	for (int i = 0; i < 100000; i++)
		ASSERT_INT(a[i], ==, i);
	/* Amortised: a handful of reallocations, not one per element. */
	ASSERT_INT(grew, <=, 20);
	free(a);
}

TEST(overflowing_sizes_are_refused_and_leave_the_array_alone)
{
	uint64_t	*a = NULL, *was;
	size_t		 cap = 0;

	ASSERT_INT(vec_grow(&a, &cap, 4, sizeof(*a)), ==, 0);
	a[0] = 42;
	was = a;
	ASSERT_INT(vec_grow(&a, &cap, SIZE_MAX / 4, sizeof(*a)), ==, -ENOMEM);
	ASSERT_INT(vec_grow(&a, &cap, SIZE_MAX / 8 + 1, sizeof(*a)), ==,
	    -ENOMEM);
	ASSERT(a == was);
	ASSERT_INT(cap, ==, VEC_FIRST_BYTES / sizeof(*a));
	ASSERT_INT(a[0], ==, 42);
	ASSERT_INT(vec_grow(&a, &cap, 4, 0), ==, -EINVAL);
	free(a);
}

TEST_MAIN_BEGIN
	RUN(first_growth_allocates_at_least_what_is_needed);
	RUN(elements_larger_than_the_first_block_get_one_slot);
	RUN(enough_room_changes_nothing);
	RUN(capacity_doubles_and_contents_are_kept);
	RUN(overflowing_sizes_are_refused_and_leave_the_array_alone);
TEST_MAIN_END
