/*
 * The socket to runneld.  Reads land straight in the frame reader's
 * buffer; writes put the header and the body in one writev, so an OUTPUT
 * chunk is never copied.  The socket may be blocking or not: a write
 * that would block waits in poll(2), which is the backpressure on a job
 * that writes faster than runneld stores.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "chan.h"
#include "log.h"

/* Bytes asked of each read; a big RUN grows the buffer past this. */
#define CHAN_READ_SIZE	(16u * 1024u)
/* A buffer grown past this by a big RUN is given back once empty. */
#define CHAN_KEEP_SIZE	(64u * 1024u)

int
chan_init(struct chan *c, int fd)
{
	int	 flags;

	c->fd = fd;
	frame_reader_init(&c->rd);
	if ((flags = fcntl(fd, F_GETFD)) < 0 ||
	    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

void
chan_trim(struct chan *c)
{
	if (c->rd.start == c->rd.end && c->rd.cap > CHAN_KEEP_SIZE)
		frame_reader_close(&c->rd);
}

int
chan_fill(struct chan *c)
{
	uint8_t	*p;
	size_t	 room;
	ssize_t	 n;
	int	 rc;

	chan_trim(c);
	if ((rc = frame_reader_space(&c->rd, CHAN_READ_SIZE, &p, &room)) < 0)
		return rc;
	do {
		n = read(c->fd, p, room);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	frame_reader_commit(&c->rd, (size_t)n);
	return (int)n;
}

int
chan_dispatch(struct chan *c, chan_frame_cb cb, void *arg)
{
	struct frame	 f;
	int		 rc;

	while ((rc = frame_reader_next(&c->rd, &f)) > 0) {
		log_debug("frame in type=%s job=%llu length=%u",
		    frame_type_name(f.type), (unsigned long long)f.job_id,
		    f.length);
		if ((rc = cb(&f, arg)) < 0)
			return rc;
	}
	if (rc < 0)
		log_warnx("protocol error: bad frame header from runneld");
	return rc;
}

/* Waits until the socket takes more bytes.  Returns 0 or -errno. */
static int
chan_wait_writable(int fd)
{
	struct pollfd	 pfd = {.fd = fd, .events = POLLOUT};

	if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

static int
chan_writev(int fd, struct iovec *iov, int iovcnt)
{
	ssize_t	 n;
	int	 rc;

	while (iovcnt > 0) {
		if ((n = writev(fd, iov, iovcnt)) < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			if ((rc = chan_wait_writable(fd)) < 0)
				return rc;
			continue;
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= n;
		}
	}
	return 0;
}

int
chan_send(struct chan *c, uint16_t type, uint16_t flags, uint64_t job_id,
    const void *body, size_t length)
{
	uint8_t		 hdr[FRAME_HEADER_SIZE];
	struct iovec	 iov[2];

	if (c->fd < 0)
		return -EPIPE;
	if (length > FRAME_MAX_BODY)
		return -EMSGSIZE;
	frame_header_encode(hdr, type, flags, job_id, (uint32_t)length);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)body;
	iov[1].iov_len = length;
	return chan_writev(c->fd, iov, length > 0 ? 2 : 1);
}

int
chan_send_body(struct chan *c, uint64_t job_id, const struct msg_body *b)
{
	return chan_send(c, b->type, b->flags, job_id, b->data, b->length);
}
