/*
 * The frame codec: headers round-trip for every type, a stream cut at
 * any byte boundary gives back the same frames in order, and oversized
 * or unknown frames are refused as soon as the bytes that prove it are in.
 */
#include <stdint.h>

#include "frame.h"
#include "test.h"

struct want {
	uint16_t	 type;
	uint16_t	 flags;
	uint64_t	 job_id;
	uint32_t	 length;
};

/* Body byte i of frame k: a pattern that shows any shift. */
static uint8_t
body_byte(size_t k, size_t i)
{
	return (uint8_t)(i * 31 + k * 7 + (i >> 8));
}

/* Appends frames to a fresh buffer; *n gets its size. */
static uint8_t *
stream_build(const struct want *w, size_t count, size_t *n)
{
	uint8_t	*buf, *p;
	size_t	 total = 0;

	for (size_t k = 0; k < count; k++)
		total += FRAME_HEADER_SIZE + w[k].length;
	ASSERT((buf = malloc(total ? total : 1)) != NULL);
	p = buf;
	for (size_t k = 0; k < count; k++) {
		frame_header_encode(p, w[k].type, w[k].flags, w[k].job_id,
		    w[k].length);
		p += FRAME_HEADER_SIZE;
		for (uint32_t i = 0; i < w[k].length; i++)
			*p++ = body_byte(k, i);
	}
	*n = total;
	return buf;
}

static void
frame_check(const struct frame *f, const struct want *w, size_t k)
{
	ASSERT_INT(f->type, ==, w->type);
	ASSERT_INT(f->flags, ==, w->flags);
	ASSERT(f->job_id == w->job_id);
	ASSERT_INT(f->length, ==, w->length);
	for (uint32_t i = 0; i < f->length; i++)
		if (f->body[i] != body_byte(k, i))
			FAIL("frame %zu body byte %u differs", k, i);
}

/* Cuts every complete frame, checking each against want[*got]. */
static void
drain(struct frame_reader *r, const struct want *w, size_t count, size_t *got)
{
	struct frame	 f;
	int		 rc;

	while ((rc = frame_reader_next(r, &f)) == 1) {
		ASSERT(*got < count);
		frame_check(&f, &w[*got], *got);
		(*got)++;
	}
	ASSERT_INT(rc, ==, 0);
}

/* Feeds buf in the pieces cuts[] describes (ascending offsets). */
static void
feed_cuts(const uint8_t *buf, size_t n, const size_t *cuts, size_t ncuts,
    const struct want *w, size_t count, int use_space)
{
	struct frame_reader	 r;
	size_t			 off = 0, got = 0;

	frame_reader_init(&r);
	for (size_t c = 0; c <= ncuts; c++) {
		size_t end = c < ncuts ? cuts[c] : n, len = end - off;

		if (use_space && len > 0) {
			uint8_t	*p;
			size_t	 room;

			ASSERT_INT(frame_reader_space(&r, len, &p, &room), ==, 0);
			ASSERT(room >= len);
			memcpy(p, buf + off, len);
			frame_reader_commit(&r, len);
		} else
			ASSERT_INT(frame_reader_feed(&r, buf + off, len), ==, 0);
		drain(&r, w, count, &got);
		off = end;
	}
	ASSERT_INT(got, ==, count);
	ASSERT(r.start == r.end);
	frame_reader_close(&r);
}

TEST(header_roundtrips_every_type)
{
	static const uint64_t ids[] = {0, 1, 0x100000002ULL, UINT64_MAX};
	static const uint32_t lens[] = {0, 1, 4096, FRAME_MAX_BODY};
	uint8_t		 h[FRAME_HEADER_SIZE];
	struct frame	 f;

	for (uint16_t t = FRAME_HELLO; t <= FRAME_TYPE_MAX; t++)
		for (size_t i = 0; i < 4; i++) {
			uint16_t flags = (uint16_t)(t == FRAME_OUTPUT ?
			    (i & 1 ? FRAME_STDERR : FRAME_STDOUT) : i * 0x101);

			frame_header_encode(h, t, flags, ids[i], lens[i]);
			ASSERT_INT(frame_header_decode(h, &f), ==, 0);
			ASSERT_INT(f.type, ==, t);
			ASSERT_INT(f.flags, ==, flags);
			ASSERT(f.job_id == ids[i]);
			ASSERT_INT(f.length, ==, lens[i]);
			ASSERT(f.body == NULL);
			ASSERT(strcmp(frame_type_name(t), "?") != 0);
		}
	ASSERT_STR(frame_type_name(FRAME_OUTPUT), "OUTPUT");
	ASSERT_STR(frame_type_name(0), "?");
	ASSERT_STR(frame_type_name(FRAME_TYPE_MAX + 1), "?");
}

TEST(header_is_network_byte_order)
{
	static const uint8_t expect[FRAME_HEADER_SIZE] = {
		0x00, 0x01, 0x02, 0x03,	0x00, 0x07, 0x00, 0x02,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08
	};
	uint8_t	 h[FRAME_HEADER_SIZE];

	frame_header_encode(h, FRAME_OUTPUT, FRAME_STDERR,
	    0x0102030405060708ULL, 0x010203);
	ASSERT(memcmp(h, expect, sizeof(h)) == 0);
}

static const struct want small_stream[] = {
	{FRAME_HELLO, 0, 0, 17},
	{FRAME_READY, 0, 0, 0},
	{FRAME_OUTPUT, FRAME_STDOUT, 42, 1},
	{FRAME_OUTPUT, FRAME_STDERR, 42, 1000},
	{FRAME_EXIT, 0, 42, 0},
	{FRAME_RUN, 0, UINT64_MAX, 3},
};
#define SMALL_N	(sizeof(small_stream) / sizeof(small_stream[0]))

TEST(stream_split_at_every_byte_gives_same_frames)
{
	size_t	 n, cut;
	uint8_t	*buf = stream_build(small_stream, SMALL_N, &n);

	for (cut = 0; cut <= n; cut++) {
		feed_cuts(buf, n, &cut, 1, small_stream, SMALL_N, 0);
		feed_cuts(buf, n, &cut, 1, small_stream, SMALL_N, 1);
	}
	free(buf);
}

TEST(stream_split_at_every_pair_of_bytes_gives_same_frames)
{
	size_t	 n, cuts[2];
	uint8_t	*buf = stream_build(small_stream, 3, &n);

	for (cuts[0] = 0; cuts[0] <= n; cuts[0]++)
		for (cuts[1] = cuts[0]; cuts[1] <= n; cuts[1]++)
			feed_cuts(buf, n, cuts, 2, small_stream, 3, cuts[1] & 1);
	free(buf);
}

TEST(stream_fed_byte_by_byte_gives_same_frames)
{
	size_t	 n, *cuts;
	uint8_t	*buf = stream_build(small_stream, SMALL_N, &n);

	ASSERT((cuts = malloc(n * sizeof(size_t))) != NULL);
	for (size_t i = 0; i < n; i++)
		cuts[i] = i;
	feed_cuts(buf, n, cuts, n, small_stream, SMALL_N, 0);
	feed_cuts(buf, n, cuts, n, small_stream, SMALL_N, 1);
	free(cuts);
	free(buf);
}

TEST(stream_in_random_chunks_gives_same_frames)
{
	static const struct want big[] = {
		{FRAME_HELLO, 0, 0, 0},
		{FRAME_RUN, 0, 7, FRAME_MAX_BODY},
		{FRAME_OUTPUT, FRAME_STDOUT, 7, 1},
		{FRAME_OUTPUT, FRAME_STDERR, 7, 1000},
		{FRAME_OUTPUT, FRAME_STDOUT, 7, FRAME_OUTPUT_CHUNK},
		{FRAME_EXIT, 0, 7, FRAME_MAX_BODY},
		{FRAME_READY, 0, 0, 0},
	};
	const size_t	 count = sizeof(big) / sizeof(big[0]);
	size_t		 n, *cuts, ncuts;
	uint8_t		*buf = stream_build(big, count, &n);
	unsigned	 seed = 12345;

	ASSERT((cuts = malloc(n * sizeof(size_t))) != NULL);
	for (int round = 0; round < 42; round++) {
		/* Bites from 1 byte up to 1 MiB, each size range twice. */
		size_t	 maxchunk = (size_t)1 << (round % 21);
		size_t	 off = 0;

		for (ncuts = 0;; cuts[ncuts++] = off) {
			off += 1 + (size_t)rand_r(&seed) % maxchunk;
			if (off >= n)
				break;
		}
		feed_cuts(buf, n, cuts, ncuts, big, count, round & 1);
	}
	free(cuts);
	free(buf);
}

TEST(largest_body_is_accepted)
{
	static const struct want w[] = {{FRAME_RUN, 0, 1, FRAME_MAX_BODY}};
	size_t	 n;
	uint8_t	*buf = stream_build(w, 1, &n);

	feed_cuts(buf, n, NULL, 0, w, 1, 0);
	free(buf);
}

/* Feeds the first n bytes of h and returns what next() says. */
static int
next_after(const uint8_t *h, size_t n)
{
	struct frame_reader	 r;
	struct frame		 f;
	int			 rc;

	frame_reader_init(&r);
	ASSERT_INT(frame_reader_feed(&r, h, n), ==, 0);
	rc = frame_reader_next(&r, &f);
	frame_reader_close(&r);
	return rc;
}

TEST(oversized_length_is_refused)
{
	uint8_t		 h[FRAME_HEADER_SIZE];
	struct frame	 f;

	frame_header_encode(h, FRAME_RUN, 0, 1, FRAME_MAX_BODY + 1);
	ASSERT_INT(frame_header_decode(h, &f), ==, -EPROTO);
	ASSERT_INT(next_after(h, sizeof(h)), ==, -EPROTO);
	/* Known bad as soon as the four length bytes are in. */
	ASSERT_INT(next_after(h, 3), ==, 0);
	ASSERT_INT(next_after(h, 4), ==, -EPROTO);
	frame_header_encode(h, FRAME_OUTPUT, 0, 1, UINT32_MAX);
	ASSERT_INT(next_after(h, 4), ==, -EPROTO);
	ASSERT_INT(frame_header_decode(h, &f), ==, -EPROTO);
}

TEST(unknown_type_is_refused)
{
	static const uint16_t bad[] = {0, FRAME_TYPE_MAX + 1, 0x100, 0xffff};
	uint8_t		 h[FRAME_HEADER_SIZE];
	struct frame	 f;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		frame_header_encode(h, bad[i], 0, 1, 0);
		ASSERT_INT(frame_header_decode(h, &f), ==, -EPROTO);
		ASSERT_INT(next_after(h, sizeof(h)), ==, -EPROTO);
		ASSERT_INT(next_after(h, 5), ==, 0);
		ASSERT_INT(next_after(h, 6), ==, -EPROTO);
	}
}

TEST(bad_frame_after_good_one_is_refused_after_it)
{
	static const struct want w[] = {{FRAME_READY, 0, 0, 5}};
	struct frame_reader	 r;
	struct frame		 f;
	uint8_t			 bad[FRAME_HEADER_SIZE], *buf;
	size_t			 n;

	buf = stream_build(w, 1, &n);
	frame_header_encode(bad, 77, 0, 0, 0);
	frame_reader_init(&r);
	ASSERT_INT(frame_reader_feed(&r, buf, n), ==, 0);
	ASSERT_INT(frame_reader_feed(&r, bad, sizeof(bad)), ==, 0);
	ASSERT_INT(frame_reader_next(&r, &f), ==, 1);
	frame_check(&f, &w[0], 0);
	ASSERT_INT(frame_reader_next(&r, &f), ==, -EPROTO);
	ASSERT_INT(frame_reader_next(&r, &f), ==, -EPROTO);
	frame_reader_close(&r);
	free(buf);
}

TEST(space_slides_partial_frame_before_growing)
{
	static const struct want w[] = {
		{FRAME_OUTPUT, FRAME_STDOUT, 3, 3000},
		{FRAME_OUTPUT, FRAME_STDERR, 3, 3000},
	};
	struct frame_reader	 r;
	uint8_t			*buf, *p;
	size_t			 n, room, got = 0, first;

	buf = stream_build(w, 2, &n);
	frame_reader_init(&r);
	/* The whole first frame and part of the second. */
	first = FRAME_HEADER_SIZE + 3000 + 100;
	ASSERT_INT(frame_reader_space(&r, first, &p, &room), ==, 0);
	ASSERT(room >= first);
	memcpy(p, buf, first);
	frame_reader_commit(&r, first);
	drain(&r, w, 2, &got);
	ASSERT_INT(got, ==, 1);
	ASSERT(r.start > 0);
	/* What is left fits once the partial frame moves to the front. */
	ASSERT_INT(frame_reader_space(&r, n - first, &p, &room), ==, 0);
	ASSERT_INT(r.start, ==, 0);
	memcpy(p, buf + first, n - first);
	frame_reader_commit(&r, n - first);
	drain(&r, w, 2, &got);
	ASSERT_INT(got, ==, 2);
	frame_reader_close(&r);
	free(buf);
}

TEST(body_stays_valid_until_next_read)
{
	static const struct want w[] = {
		{FRAME_EXIT, 0, 9, 200}, {FRAME_READY, 0, 0, 0}
	};
	struct frame_reader	 r;
	struct frame		 a, b;
	uint8_t			*buf;
	size_t			 n;

	buf = stream_build(w, 2, &n);
	frame_reader_init(&r);
	ASSERT_INT(frame_reader_feed(&r, buf, n), ==, 0);
	ASSERT_INT(frame_reader_next(&r, &a), ==, 1);
	ASSERT_INT(frame_reader_next(&r, &b), ==, 1);
	frame_check(&a, &w[0], 0);	/* still readable after the next cut */
	frame_check(&b, &w[1], 1);
	ASSERT_INT(frame_reader_next(&r, &b), ==, 0);
	frame_reader_close(&r);
	free(buf);
}

TEST_MAIN_BEGIN
	RUN(header_roundtrips_every_type);
	RUN(header_is_network_byte_order);
	RUN(stream_split_at_every_byte_gives_same_frames);
	RUN(stream_split_at_every_pair_of_bytes_gives_same_frames);
	RUN(stream_fed_byte_by_byte_gives_same_frames);
	RUN(stream_in_random_chunks_gives_same_frames);
	RUN(largest_body_is_accepted);
	RUN(oversized_length_is_refused);
	RUN(unknown_type_is_refused);
	RUN(bad_frame_after_good_one_is_refused_after_it);
	RUN(space_slides_partial_frame_before_growing);
	RUN(body_stays_valid_until_next_read);
TEST_MAIN_END
