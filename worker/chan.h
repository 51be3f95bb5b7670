/*
 * The worker's end of its socket to runneld (fd 3): frames in through a
 * frame_reader, frames out with one writev per frame.
 */
#ifndef RUNNEL_CHAN_H
#define RUNNEL_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "msg.h"

struct chan {
	int			 fd;
	struct frame_reader	 rd;
};

/*
 * Handles one frame from runneld.  Returns 0, or a negative errno code
 * (-EPROTO for a frame that breaks the protocol) that stops the caller.
 */
typedef int (*chan_frame_cb)(const struct frame *, void *arg);

/* Takes over fd (open until the worker exits) and marks it close-on-exec. */
int	chan_init(struct chan *, int fd);

/*
 * One read(2) from the socket into the reader.  Returns the number of
 * bytes read, 0 at end of file (runneld is gone), -EAGAIN when nothing
 * was there, or another negative errno code.
 */
int	chan_fill(struct chan *);

/*
 * Gives back the buffer a big frame made the reader grow, if nothing is
 * pending in it: the worker must stay small.  Frames already cut stay
 * valid only if their bodies were copied out.
 */
void	chan_trim(struct chan *);

/*
 * Hands every complete frame buffered so far to cb, in order, stopping
 * at the first error cb returns.  Returns 0, -EPROTO for a stream that
 * breaks the protocol, or cb's error.
 */
int	chan_dispatch(struct chan *, chan_frame_cb cb, void *arg);

/*
 * Sends one frame; blocks until it is written whole (a full socket
 * backpressures the job).  Returns 0, or -EPIPE / another negative errno
 * code when runneld is gone.
 */
int	chan_send(struct chan *, uint16_t type, uint16_t flags, uint64_t job_id,
	    const void *body, size_t length);
/* Sends an encoded body (msg.h) as a frame about job_id; as chan_send. */
int	chan_send_body(struct chan *, uint64_t job_id, const struct msg_body *);

#endif
