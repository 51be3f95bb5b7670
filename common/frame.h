/*
 * The pipe protocol between runneld and runnel-worker: the one spec both
 * programs link.  Every message is a 16-byte header then a body; header
 * fields are written and read one by one in network byte order.
 *
 *   offset 0  u32 length   bytes of body that follow (<= FRAME_MAX_BODY)
 *   offset 4  u16 type     enum frame_type
 *   offset 6  u16 flags    FRAME_STDOUT / FRAME_STDERR on OUTPUT
 *   offset 8  u64 job id   0 when the frame is about no job
 *
 * Bodies are JSON for control frames and raw bytes for OUTPUT; msg.h is
 * their codec.
 */
#ifndef RUNNEL_FRAME_H
#define RUNNEL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_VERSION		1
#define FRAME_HEADER_SIZE	16
#define FRAME_MAX_BODY		(1024u * 1024u)
#define FRAME_OUTPUT_CHUNK	(64u * 1024u)

enum frame_type {
	FRAME_HELLO = 1,	/* w->s {"version","pid"}, once, first */
	FRAME_READY,		/* w->s empty: idle, send me a RUN */
	FRAME_RUN,		/* s->w the job to run (msg.h) */
	FRAME_CANCEL,		/* s->w {"reason"}: end the job's process group */
	FRAME_SHUTDOWN,		/* s->w empty: exit once idle */
	FRAME_STARTED,		/* w->s {"pid","started_at"} */
	FRAME_OUTPUT,		/* w->s raw bytes, flags say which stream */
	FRAME_EXIT,		/* w->s the job's result */
	FRAME_TYPE_MAX = FRAME_EXIT
};

enum frame_flag {
	FRAME_STDOUT = 1,
	FRAME_STDERR = 2
};

struct frame {
	uint32_t	 length;	/* bytes at body */
	uint16_t	 type;
	uint16_t	 flags;
	uint64_t	 job_id;
	const uint8_t	*body;		/* owned by the reader; valid until its next call */
};

/*
 * A reader cuts frames out of a byte stream whatever the read sizes were:
 * many frames in one read, or one frame over many reads.
 */
struct frame_reader {
	uint8_t	*buf;
	size_t	 cap;		/* bytes allocated */
	size_t	 start;		/* first byte not yet consumed */
	size_t	 end;		/* one past the last byte received */
};

void	frame_reader_init(struct frame_reader *);
void	frame_reader_close(struct frame_reader *);

/*
 * Room for the next read: on success *p points at *n >= want free bytes.
 * Returns 0, or -ENOMEM.  Pair with frame_reader_commit().
 */
int	frame_reader_space(struct frame_reader *, size_t want, uint8_t **p, size_t *n);
/* Declares that n bytes were written at the pointer frame_reader_space gave. */
void	frame_reader_commit(struct frame_reader *, size_t n);
/* Copies n bytes in.  Returns 0 or -ENOMEM. */
int	frame_reader_feed(struct frame_reader *, const void *data, size_t n);

/*
 * Cuts the next complete frame.  Returns 1 and fills *f, 0 when more bytes
 * are needed, -EPROTO when the stream holds an oversized or unknown frame
 * (the stream is then unusable).
 */
int	frame_reader_next(struct frame_reader *, struct frame *f);

/* Writes the 16-byte header for a body of length bytes. */
void	frame_header_encode(uint8_t out[FRAME_HEADER_SIZE], uint16_t type,
	    uint16_t flags, uint64_t job_id, uint32_t length);
/*
 * Reads a header into *f (body left NULL).  Returns 0, or -EPROTO for an
 * unknown type or a length over FRAME_MAX_BODY.
 */
int	frame_header_decode(const uint8_t in[FRAME_HEADER_SIZE], struct frame *f);

/* "RUN", "OUTPUT", ...; "?" for an unknown type. */
const char *frame_type_name(uint16_t type);

#endif
