/*
 * The frame codec: header encoding and a reader that reassembles frames
 * from arbitrary read boundaries.  Lengths are checked before any
 * allocation, so a hostile peer costs at most FRAME_MAX_BODY bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "vec.h"

static void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	put_u16(p, (uint16_t)(v >> 16));
	put_u16(p + 2, (uint16_t)v);
}

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return ((uint32_t)get_u16(p) << 16) | get_u16(p + 2);
}

void
frame_header_encode(uint8_t out[FRAME_HEADER_SIZE], uint16_t type,
    uint16_t flags, uint64_t job_id, uint32_t length)
{
	put_u32(out, length);
	put_u16(out + 4, type);
	put_u16(out + 6, flags);
	put_u32(out + 8, (uint32_t)(job_id >> 32));
	put_u32(out + 12, (uint32_t)job_id);
}

int
frame_header_decode(const uint8_t in[FRAME_HEADER_SIZE], struct frame *f)
{
	f->length = get_u32(in);
	f->type = get_u16(in + 4);
	f->flags = get_u16(in + 6);
	f->job_id = ((uint64_t)get_u32(in + 8) << 32) | get_u32(in + 12);
	f->body = NULL;
	if (f->length > FRAME_MAX_BODY)
		return -EPROTO;
	if (f->type < FRAME_HELLO || f->type > FRAME_TYPE_MAX)
		return -EPROTO;
	return 0;
}

const char *
frame_type_name(uint16_t type)
{
	static const char *names[] = {
		"?", "HELLO", "READY", "RUN", "CANCEL", "SHUTDOWN",
		"STARTED", "OUTPUT", "EXIT"
	};

	if (type > FRAME_TYPE_MAX)
		return "?";
	return names[type];
}

void
frame_reader_init(struct frame_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void
frame_reader_close(struct frame_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

int
frame_reader_space(struct frame_reader *r, size_t want, uint8_t **p, size_t *n)
{
	size_t	 used = r->end - r->start;

	if (r->cap - r->end >= want)
		goto done;
	/* Slide unconsumed bytes to the front before growing. */
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, used);
		r->start = 0;
		r->end = used;
		if (r->cap - r->end >= want)
			goto done;
	}
	/* Consumers cut every complete frame after each read, so what is
	 * kept is at most one partial frame: anything more is a bug. */
	if (used > FRAME_HEADER_SIZE + FRAME_MAX_BODY)
		return -ENOMEM;
	if (vec_grow(&r->buf, &r->cap, used + want, 1) < 0)
		return -ENOMEM;
done:
	*p = r->buf + r->end;
	*n = r->cap - r->end;
	return 0;
}

void
frame_reader_commit(struct frame_reader *r, size_t n)
{
	r->end += n;
}

int
frame_reader_feed(struct frame_reader *r, const void *data, size_t n)
{
	uint8_t	*p;
	size_t	 room;
	int	 rc;

	if (n == 0)
		return 0;
	if ((rc = frame_reader_space(r, n, &p, &room)) < 0)
		return rc;
	memcpy(p, data, n);
	frame_reader_commit(r, n);
	return 0;
}

int
frame_reader_next(struct frame_reader *r, struct frame *f)
{
	size_t	 avail = r->end - r->start;
	int	 rc;

	if (avail < FRAME_HEADER_SIZE)
		goto need;
	if ((rc = frame_header_decode(r->buf + r->start, f)) < 0)
		return rc;
	if (avail - FRAME_HEADER_SIZE < f->length)
		goto need;
	f->body = r->buf + r->start + FRAME_HEADER_SIZE;
	r->start += FRAME_HEADER_SIZE + f->length;
	if (r->start == r->end)
		r->start = r->end = 0;	/* body stays readable: nothing overwrites it until the next space() */
	return 1;
need:
	/* A header that is already known bad is refused at once. */
	if (avail >= 4 && get_u32(r->buf + r->start) > FRAME_MAX_BODY)
		return -EPROTO;
	if (avail >= 6) {
		uint16_t type = get_u16(r->buf + r->start + 4);
		if (type < FRAME_HELLO || type > FRAME_TYPE_MAX)
			return -EPROTO;
	}
	return 0;
}
