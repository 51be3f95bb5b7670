/* Percent-encoding: one escape's byte, and nothing read past a NUL. */
#include "http/pct.h"
#include "test.h"

TEST(an_escape_gives_its_byte_in_either_case)
{
	ASSERT_INT(pct_byte("%41"), ==, 'A');
	ASSERT_INT(pct_byte("%7e"), ==, '~');
	ASSERT_INT(pct_byte("%7E"), ==, '~');
	ASSERT_INT(pct_byte("%fF"), ==, 255);
	ASSERT_INT(pct_byte("%00"), ==, 0);
	ASSERT_INT(pct_byte("%2fmore"), ==, '/');
}

TEST(anything_else_is_not_an_escape)
{
	ASSERT_INT(pct_byte("41"), ==, -1);
	ASSERT_INT(pct_byte("%g1"), ==, -1);
	ASSERT_INT(pct_byte("%1g"), ==, -1);
	ASSERT_INT(pct_byte("% 1"), ==, -1);
	ASSERT_INT(pct_byte("%\xc1" "1"), ==, -1);
	ASSERT_INT(pct_byte("%G0"), ==, -1);
	ASSERT_INT(pct_byte(""), ==, -1);
}

TEST(a_cut_escape_is_not_read_past_its_end)
{
	/* Exactly sized on the heap: a sanitizer sees any read past it. */
	char *one = strdup("%"), *two = strdup("%4");

	ASSERT_INT(pct_byte(one), ==, -1);
	ASSERT_INT(pct_byte(two), ==, -1);
	free(one);
	free(two);
}

TEST_MAIN_BEGIN
	RUN(an_escape_gives_its_byte_in_either_case);
	RUN(anything_else_is_not_an_escape);
	RUN(a_cut_escape_is_not_read_past_its_end);
TEST_MAIN_END
