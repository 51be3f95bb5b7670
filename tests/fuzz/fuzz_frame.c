/*
 * Fuzz target for the frame reader.  The first bytes of the input choose
 * the sizes of the pieces the rest is fed in, so the fuzzer explores both
 * the stream's contents and its read boundaries.  Frames are cut after
 * every piece until the reader wants more or refuses the stream.
 *
 * Input: [n][size 1]...[size n] then the stream, where n = first byte % 8
 * and each size byte s gives a piece of s + 1 bytes (the last piece takes
 * whatever is left, and the sizes repeat while bytes remain).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

static volatile uint64_t fuzz_sink;

static int
fuzz_cut(struct frame_reader *r)
{
	struct frame	 f;
	int		 rc;

	while ((rc = frame_reader_next(r, &f)) == 1) {
		/* Touch every body byte so a bad pointer shows up under ASan. */
		uint64_t sum = f.type + f.flags + f.job_id;

		for (uint32_t i = 0; i < f.length; i++)
			sum += f.body[i];
		fuzz_sink += sum;
		if (f.length > FRAME_MAX_BODY || f.type < FRAME_HELLO ||
		    f.type > FRAME_TYPE_MAX)
			abort();	/* the reader let a bad frame through */
	}
	if (rc != 0 && rc != -EPROTO)
		abort();
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_reader	 r;
	const uint8_t		*sizes;
	size_t			 nsizes, off, k = 0;

	if (size == 0)
		return 0;
	nsizes = data[0] % 8;
	if (1 + nsizes > size)
		return 0;
	sizes = data + 1;
	off = 1 + nsizes;
	frame_reader_init(&r);
	while (off < size) {
		size_t	 len = size - off;
		uint8_t	*p;
		size_t	 room;

		if (nsizes > 0 && (size_t)sizes[k % nsizes] + 1 < len)
			len = (size_t)sizes[k % nsizes] + 1;
		/* Alternate the two ways bytes get in. */
		if (k++ & 1) {
			if (frame_reader_space(&r, len, &p, &room) < 0 || room < len)
				abort();
			memcpy(p, data + off, len);
			frame_reader_commit(&r, len);
		} else if (frame_reader_feed(&r, data + off, len) < 0)
			abort();
		off += len;
		if (fuzz_cut(&r) < 0)
			break;
	}
	frame_reader_close(&r);
	return 0;
}
