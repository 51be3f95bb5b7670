/*
 * POST /api/v1/uploads (the streaming work is upload.c's) and
 * GET /api/v1/jobs/{id}/file: the stored file, with Range.  In cluster
 * mode a node without a local copy streams the file's chunks from the
 * database (store/blobs.h), one read at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/upload.h"
#include "core/core.h"
#include "http/reply.h"
#include "log.h"
#include "server.h"
#include "store/blobs.h"
#include "store/files.h"

#define BLOB_READ	(1u << 20)

/* A file's bytes [from, from + len) read from the database. */
struct blob_stream {
	struct stream	 stream;	/* first: the stream is the reader */
	struct server	*srv;
	char		 sha[72];
	uint64_t	 from;
	uint64_t	 len;
	char		*buf;
	size_t		 buf_len;
	uint64_t	 buf_at;	/* file offset of buf[0] */
	uint64_t	 asked;
	size_t		 got;
	int		 busy;
	int		 failed;
	int		 closed;
};

static void
blob_release(struct blob_stream *b)
{
	if (b->busy)
		return;		/* on_blob_read frees it */
	free(b->buf);
	free(b);
}

static void
on_blob_read(void *arg, int rc)
{
	struct blob_stream *b = arg;

	b->busy = 0;
	if (b->closed) {
		blob_release(b);
		return;
	}
	if (rc < 0 || b->got == 0) {
		/* Gone or unreachable: the body ends short, the client sees
		 * a cut connection rather than wrong bytes. */
		log_warnx("file: the database did not give %.12s at %llu: %s",
		    b->sha, (unsigned long long)b->asked, rc < 0 ?
		    strerror(-rc) : "no such bytes");
		b->failed = 1;
	} else {
		b->buf_at = b->asked;
		b->buf_len = b->got;
	}
	stream_wake(&b->stream);
}

static ssize_t
blob_read(struct stream *s, uint64_t pos, char *buf, size_t max)
{
	struct blob_stream	*b = (struct blob_stream *)s;
	uint64_t		 off = b->from + pos, want;

	if (pos >= b->len || b->failed)
		return -1;
	if (b->buf_len && off >= b->buf_at && off < b->buf_at + b->buf_len) {
		uint64_t k = b->buf_at + b->buf_len - off;

		k = k < max ? k : max;
		k = k < b->len - pos ? k : b->len - pos;
		memcpy(buf, b->buf + (off - b->buf_at), (size_t)k);
		return (ssize_t)k;
	}
	if (b->busy)
		return 0;
	if (b->buf == NULL && (b->buf = malloc(BLOB_READ)) == NULL)
		return -1;
	want = b->len - pos < BLOB_READ ? b->len - pos : BLOB_READ;
	b->asked = off;
	b->got = 0;
	if (blobs_read(b->srv, b->sha, off, b->buf, (size_t)want, &b->got,
	    on_blob_read, b) < 0)
		return -1;
	b->busy = 1;
	return 0;
}

static void
blob_free(struct stream *s)
{
	struct blob_stream *b = (struct blob_stream *)s;

	b->closed = 1;
	blob_release(b);
}

int
api_uploads_post(struct request *req)
{
	return upload_begin(req);
}

/*
 * Parses one "bytes=a-b", "bytes=a-" or "bytes=-n" range of a size-byte
 * file.  Returns 1 with [*from, *to] set, 0 to send the whole file (no
 * header, or one we do not serve: several ranges, another unit, a
 * malformed one, as RFC 9110 has it), or -1
 * when it cannot be satisfied.
 */
static int
parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
	uint64_t a, b = UINT64_MAX;

	if (h == NULL || strncmp(h, "bytes=", 6) != 0)
		return 0;
	h += 6;
	if (*h == '-') {		/* the last b bytes */
		h++;
		if (api_digits(&h, &b) < 0 || *h != '\0')
			return 0;
		if (b == 0 || size == 0)
			return -1;
		*from = b >= size ? 0 : size - b;
		*to = size - 1;
		return 1;
	}
	if (api_digits(&h, &a) < 0 || *h++ != '-')
		return 0;
	if (*h != '\0' && (api_digits(&h, &b) < 0 || b < a))
		return 0;
	if (*h != '\0')
		return 0;	/* several ranges, or junk: the whole file */
	if (a >= size)
		return -1;
	*from = a;
	*to = b >= size ? size - 1 : b;
	return 1;
}

/* RFC 6266: an ASCII fallback and the UTF-8 name percent-encoded. */
static void
disposition(const char *name, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	char	 ascii[256], enc[FILES_NAME_MAX * 3 + 1];
	size_t	 a = 0, e = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (a + 1 < sizeof(ascii))
			ascii[a++] = *p < 0x20 || *p >= 0x7f || *p == '"' ||
			    *p == '\\' ? '_' : (char)*p;
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("!#$&+-.^_`|~", *p)) {
			enc[e++] = (char)*p;
		} else {
			enc[e++] = '%';
			enc[e++] = hex[*p >> 4];
			enc[e++] = hex[*p & 15];
		}
		if (e + 4 > sizeof(enc))
			break;
	}
	ascii[a] = '\0';
	enc[e] = '\0';
	snprintf(out, size, "attachment; filename=\"%s\"; filename*=UTF-8''%s",
	    ascii, enc);
}

int
api_uploads_file_get(struct request *req)
{
	struct job		 j;
	struct stat		 st;
	struct blob_stream	*b = NULL;
	char			 path[4096 + 256], cd[1024], cr[96];
	uint64_t		 id, from = 0, to = 0;
	int			 fd, rc, range;

	if (api_path_id(req, &id) < 0)
		return API_DONE;
	if ((rc = core_job_get(req->srv, id, &j)) < 0)
		return reply_errno(req, rc);
	if (j.type != JOB_UPLOAD || j.file_name == NULL) {
		job_clear(&j);
		return reply_fail(req, 404, "not_found", NULL, "job %llu has no "
		    "file", (unsigned long long)id);
	}
	files_path(req->srv, id, j.file_name, path, sizeof(path));
	disposition(j.file_name, cd, sizeof(cd));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0 && fstat(fd, &st) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0 && blobs_shared(req->srv) && j.file_sha256 &&
	    (b = calloc(1, sizeof(*b))) != NULL) {
		/* Another node took the upload: the database has it. */
		b->srv = req->srv;
		snprintf(b->sha, sizeof(b->sha), "%s", j.file_sha256);
		st.st_size = (off_t)j.file_size;
	}
	job_clear(&j);
	if (fd < 0 && b == NULL)
		return reply_fail(req, 404, "not_found", NULL, "the file of job "
		    "%llu is gone", (unsigned long long)id);
	range = parse_range(req->range, (uint64_t)st.st_size, &from, &to);
	response_header(&req->resp, "Accept-Ranges", "bytes");
	if (range < 0) {
		if (fd >= 0)
			close(fd);
		free(b);
		snprintf(cr, sizeof(cr), "bytes */%" PRIu64, (uint64_t)st.st_size);
		response_header(&req->resp, "Content-Range", cr);
		return reply_fail(req, 416, "range_not_satisfiable", NULL,
		    "the file has %" PRIu64 " bytes", (uint64_t)st.st_size);
	}
	response_header(&req->resp, "Content-Disposition", cd);
	req->resp.status = 200;
	req->resp.content_type = "application/octet-stream";
	req->resp.fd = fd;
	req->resp.fd_offset = 0;
	req->resp.fd_len = (uint64_t)st.st_size;
	if (range > 0) {
		snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
		    from, to, (uint64_t)st.st_size);
		response_header(&req->resp, "Content-Range", cr);
		req->resp.status = 206;
		req->resp.fd_offset = from;
		req->resp.fd_len = to - from + 1;
	}
	if (b != NULL) {
		b->from = req->resp.fd_offset;
		b->len = req->resp.fd_len;
		b->stream.read = blob_read;
		b->stream.free = blob_free;
		b->stream.sized = 1;
		b->stream.size = b->len;
		req->resp.fd = -1;
		response_stream(&req->resp, "application/octet-stream",
		    &b->stream);
		req->resp.status = range > 0 ? 206 : 200;
	}
	return API_DONE;
}
