/*
 * A streaming multipart/form-data parser (RFC 7578, RFC 2046): bytes go
 * in however they were cut, parts come out as callbacks, and only one
 * part's header block (at most MULTIPART_HEADER_MAX bytes) and a few
 * bytes of a possible delimiter are ever held.  No HTTP library types:
 * fuzz_multipart drives it directly.
 */
#ifndef RUNNEL_MULTIPART_H
#define RUNNEL_MULTIPART_H

#include <stddef.h>

#define MULTIPART_BOUNDARY_MAX	70
#define MULTIPART_HEADER_MAX	8192
/* A name may fill a part's header block: files.c shortens it, keeping
 * its extension (FILES_CLIENT_NAME_MAX is as much). */
#define MULTIPART_NAME_MAX	MULTIPART_HEADER_MAX

/* Each returns 0 to go on, or a negative code that stops the parser. */
struct multipart_cb {
	int	(*part_begin)(void *arg, const char *name, const char *filename,
		    const char *content_type);	/* filename, type: NULL if absent */
	int	(*part_data)(void *arg, const char *data, size_t n);
	int	(*part_end)(void *arg);
};

enum multipart_state {
	MP_PREAMBLE,
	MP_AFTER_DELIM,
	MP_HEADERS,
	MP_BODY,
	MP_EPILOGUE
};

struct multipart {
	const struct multipart_cb	*cb;
	void				*arg;
	enum multipart_state		 state;
	char				 delim[4 + MULTIPART_BOUNDARY_MAX + 1];
	size_t				 dlen;
	char				 carry[4 + MULTIPART_BOUNDARY_MAX];
	size_t				 ncarry;	/* bytes that may start a delimiter */
	int				 after;		/* bytes seen after a delimiter */
	char				 after_buf[2];
	char				*hdr;		/* the part's header block */
	size_t				 nhdr;
	int				 parts;
	const char			*error;		/* why it was refused */
};

/*
 * Reads the boundary from a Content-Type value ("multipart/form-data;
 * boundary=..."), quoted or not, into out.  Returns 0 or -EINVAL.
 */
int	multipart_boundary(const char *content_type, char *out, size_t size);

/* Returns 0, or -EINVAL for a boundary that is empty or too long. */
int	multipart_init(struct multipart *, const char *boundary,
	    const struct multipart_cb *cb, void *arg);
void	multipart_close(struct multipart *);
/*
 * Feeds the next n bytes.  Returns 0, -EINVAL with m->error set for a
 * malformed body, -ENOMEM, or what a callback returned.
 */
int	multipart_feed(struct multipart *, const char *p, size_t n);
/* The body is over: returns 0 if it ended with the closing delimiter. */
int	multipart_finish(struct multipart *);

#endif
