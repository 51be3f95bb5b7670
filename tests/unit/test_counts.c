/* The loop's counts by state and queue: moves, and moves past zero. */
#include "core/counts.h"
#include "test.h"

TEST(moves_count_out_of_one_state_into_another)
{
	struct counts			 t;
	const struct queue_counts	*q;

	counts_init(&t);
	ASSERT_INT(counts_move(&t, "mail", -1, JOB_QUEUED), ==, 0);
	ASSERT_INT(counts_move(&t, "mail", -1, JOB_QUEUED), ==, 0);
	ASSERT_INT(counts_move(&t, "mail", JOB_QUEUED, JOB_RUNNING), ==, 0);
	ASSERT_INT(t.by_state[JOB_QUEUED], ==, 1);
	ASSERT_INT(t.by_state[JOB_RUNNING], ==, 1);
	ASSERT_INT(t.submitted_total, ==, 2);
	q = counts_queue(&t, "mail", 0);
	ASSERT(q != NULL);
	ASSERT_INT(q->by_state[JOB_QUEUED], ==, 1);
	ASSERT_INT(q->by_state[JOB_RUNNING], ==, 1);
	counts_close(&t);
}

/* A cluster node's copy may lag what other nodes did: it never shows
 * fewer than no jobs, and says so. */
TEST(a_move_out_of_an_empty_state_stays_at_zero_and_says_so)
{
	struct counts			 t;
	const struct queue_counts	*q;

	counts_init(&t);
	ASSERT_INT(counts_move(&t, "default", -1, JOB_QUEUED), ==, 0);
	ASSERT_INT(counts_move(&t, "other", JOB_QUEUED, JOB_RUNNING), ==, 1);
	q = counts_queue(&t, "other", 0);
	ASSERT(q != NULL);
	ASSERT_INT(q->by_state[JOB_QUEUED], ==, 0);
	ASSERT_INT(q->by_state[JOB_RUNNING], ==, 1);
	/* The total had one: it moved. */
	ASSERT_INT(t.by_state[JOB_QUEUED], ==, 0);
	ASSERT_INT(counts_move(&t, "default", JOB_QUEUED, -1), ==, 1);
	ASSERT_INT(t.by_state[JOB_QUEUED], ==, 0);
	q = counts_queue(&t, "default", 0);
	ASSERT_INT(q->by_state[JOB_QUEUED], ==, 0);
	counts_close(&t);
}

TEST_MAIN_BEGIN
	RUN(moves_count_out_of_one_state_into_another);
	RUN(a_move_out_of_an_empty_state_stays_at_zero_and_says_so);
TEST_MAIN_END
