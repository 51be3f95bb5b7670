/*
 * Uploads: the two forms of API.md (multipart/form-data with parts
 * file, job and sha256; or a raw application/octet-stream body with the
 * spec in the query), a temp file per upload, the hash, the limits.
 *
 * In cluster mode the complete file is also stored in the database
 * (store/blobs.h, off the loop) before its job is submitted, so that
 * a 201 means every node can read it; the blob stays pinned until the
 * job's commit is over.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "api/api.h"
#include "api/idem.h"
#include "api/spec.h"
#include "api/upload.h"
#include "core/cluster.h"
#include "core/core.h"
#include "core/submit.h"
#include "http/multipart.h"
#include "http/reply.h"
#include "log.h"
#include "server.h"
#include "store/blobs.h"
#include "store/files.h"
#include "store/space.h"
#include "vec.h"

#define SPACE_CHECK_EVERY	(16ull << 20)

enum part {
	PART_NONE,
	PART_FILE,
	PART_JOB,
	PART_SHA,
	PART_OTHER
};

struct upload {
	struct server		*srv;
	struct request		*req;
	int			 fd;
	char			 tmp[PATH_MAX + 32];
	EVP_MD_CTX		*md;
	uint64_t		 size;
	uint64_t		 max;
	uint64_t		 next_check;
	int			 multipart;
	struct multipart	 mp;
	enum part		 part;
	int			 have_file;
	char			 client_name[MULTIPART_NAME_MAX];
	char			*job_text;
	size_t			 job_len;
	size_t			 job_cap;
	char			 sha_text[132];
	size_t			 sha_len;
	char			 unknown[64];	/* the first part we do not know */
	struct job		 job;
	uv_fs_t			 sync;
	int			 syncing;
	int			 putting;	/* going to the database */
	int64_t			 pin;		/* its pin there, until the commit */
	int			 closed;	/* the request is gone */
};

static int	upload_data(struct request *, const char *, size_t);
static int	upload_end(struct request *);
static void	upload_close(struct request *);

static const struct body_sink upload_sink = {upload_data, upload_end, upload_close};

static uint64_t
free_bytes(const char *dir)
{
	struct statvfs st;

	if (statvfs(dir, &st) != 0)
		return UINT64_MAX;	/* unknown: let write() tell */
	return (uint64_t)st.f_bavail * st.f_frsize;
}

/* Answers 503 storage_full; returns -ENOSPC. */
static int
storage_full(struct upload *u)
{
	reply_fail(u->req, 503, "storage_full", NULL, "not enough free "
	    "space for this upload: nothing was stored");
	return -ENOSPC;
}

/* Bytes of the file itself: limits, hash, write. */
static int
file_bytes(struct upload *u, const char *p, size_t n)
{
	if (u->size + n > u->max) {
		reply_fail(u->req, 413, "too_large", "file", "the file is over "
		    "the %llu-byte limit (--max-upload)",
		    (unsigned long long)u->max);
		return -EFBIG;
	}
	EVP_DigestUpdate(u->md, p, n);
	u->size += n;
	while (n > 0) {
		ssize_t w = write(u->fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int err = errno;

			log_warn("upload: write %s", u->tmp);
			space_hit(u->srv, "upload", err);
			if (err == ENOSPC || err == EDQUOT)
				storage_full(u);
			else
				reply_errno(u->req, -EIO);
			return -err;
		}
		p += w;
		n -= (size_t)w;
	}
	if (u->size >= u->next_check) {
		u->next_check = u->size + SPACE_CHECK_EVERY;
		if (free_bytes(u->srv->tmp_dir) < UPLOAD_RESERVE_BYTES ||
		    space_full(u->srv))
			return storage_full(u);
	}
	return 0;
}

/* ---- multipart parts --------------------------------------------------- */

static int
part_begin(void *arg, const char *name, const char *filename,
    const char *type)
{
	struct upload *u = arg;

	(void)type;
	if (strcmp(name, "file") == 0) {
		if (u->have_file)
			return (reply_fail(u->req, 400, "invalid_field", "file",
			    "one file per upload"), -EINVAL);
		u->have_file = 1;
		snprintf(u->client_name, sizeof(u->client_name), "%s",
		    filename ? filename : "");
		u->part = PART_FILE;
	} else if (strcmp(name, "job") == 0) {
		u->part = PART_JOB;
	} else if (strcmp(name, "sha256") == 0) {
		u->part = PART_SHA;
	} else {
		if (u->unknown[0] == '\0')
			snprintf(u->unknown, sizeof(u->unknown), "%s", name);
		u->part = PART_OTHER;
	}
	return 0;
}

static int
append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	int rc;

	if ((rc = vec_grow(buf, cap, *len + n + 1, 1)) < 0)
		return rc;
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

static int
part_data(void *arg, const char *p, size_t n)
{
	struct upload *u = arg;

	switch (u->part) {
	case PART_FILE:
		return file_bytes(u, p, n);
	case PART_JOB:
		if (u->job_len + n > u->srv->cfg->max_body) {
			reply_fail(u->req, 413, "too_large", "job",
			    "the job part is over --max-body");
			return -EFBIG;
		}
		if (append(&u->job_text, &u->job_len, &u->job_cap, p, n) < 0) {
			reply_errno(u->req, -ENOMEM);
			return -ENOMEM;
		}
		return 0;
	case PART_SHA:
		if (u->sha_len + n >= sizeof(u->sha_text))
			return (reply_fail(u->req, 400, "invalid_field", "sha256",
			    "sha256 must be 64 hex digits"), -EINVAL);
		memcpy(u->sha_text + u->sha_len, p, n);
		u->sha_len += n;
		u->sha_text[u->sha_len] = '\0';
		return 0;
	default:
		return 0;	/* refused at the end, not kept */
	}
}

static int
part_end(void *arg)
{
	((struct upload *)arg)->part = PART_NONE;
	return 0;
}

static const struct multipart_cb parts = {part_begin, part_data, part_end};

/* ---- the sink ---------------------------------------------------------- */

static int
upload_data(struct request *req, const char *p, size_t n)
{
	struct upload	*u = req->sink_ctx;
	int		 rc;

	if (!u->multipart)
		return file_bytes(u, p, n);
	rc = multipart_feed(&u->mp, p, n);
	if (rc == -EINVAL && u->mp.error)
		reply_fail(req, 400, "invalid_multipart", NULL, "malformed "
		    "multipart body: %s", u->mp.error);
	else if (rc == -ENOMEM)
		reply_errno(req, rc);
	return rc;
}

/* Trims and checks a hex SHA-256; 0, or -1 when it is not one. */
static int
sha_hex(char *s)
{
	size_t	 n;
	char	*p = s;

	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	memmove(s, p, strlen(p) + 1);
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	if (n != 64)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if ((s[i] < '0' || s[i] > '9') && ((s[i] | 0x20) < 'a' ||
		    (s[i] | 0x20) > 'f'))
			return -1;
		s[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] | 0x20 : s[i]);
	}
	return 0;
}

/* What only the complete multipart body can tell. */
static int
multipart_checks(struct upload *u)
{
	struct api_error e;

	if (multipart_finish(&u->mp) < 0)
		return (reply_fail(u->req, 400, "invalid_multipart", NULL,
		    "malformed multipart body: %s", u->mp.error), -EINVAL);
	if (u->unknown[0])
		return (reply_fail(u->req, 400, "unknown_field", u->unknown,
		    "unknown part \"%s\" (file, job and sha256 are known)",
		    u->unknown), -EINVAL);
	if (!u->have_file)
		return (reply_fail(u->req, 400, "invalid_field", "file",
		    "the upload needs a part named file"), -EINVAL);
	if (u->sha_len && sha_hex(u->sha_text) < 0)
		return (reply_fail(u->req, 400, "invalid_field", "sha256",
		    "sha256 must be 64 hex digits"), -EINVAL);
	if (spec_parse_upload(u->job_text, u->job_len, &u->job, &e) < 0)
		return (reply_error(u->req, &e), -EINVAL);
	if (api_hooks_check(u->req, u->job.webhooks_json, "") < 0)
		return -EINVAL;
	return 0;
}

/*
 * What an Idempotency-Key holds an upload to: its file, file name and
 * spec (not its bytes on the wire: a multipart boundary is new on every
 * try).  u->md is done with the file and is reused.
 */
static void
request_digest(struct upload *u, char out[65])
{
	const struct request	*req = u->req;
	unsigned char		 md[32];

	EVP_DigestInit_ex(u->md, EVP_sha256(), NULL);
	EVP_DigestUpdate(u->md, u->job.file_sha256, 64);
	EVP_DigestUpdate(u->md, u->job.file_name, strlen(u->job.file_name) + 1);
	if (u->multipart) {
		if (u->job_text)
			EVP_DigestUpdate(u->md, u->job_text, u->job_len);
	} else {
		for (int i = 0; i < req->nquery; i++) {
			const char *v = req->query[i].value ? req->query[i].value : "";

			EVP_DigestUpdate(u->md, req->query[i].key,
			    strlen(req->query[i].key) + 1);
			EVP_DigestUpdate(u->md, v, strlen(v) + 1);
		}
	}
	EVP_DigestFinal_ex(u->md, md, NULL);
	idem_hex(md, out);
}

/* The job's commit is over: the job's row holds the blob from now on. */
static void
upload_submitted(void *arg, const struct core_result *res)
{
	struct upload *u = arg;

	blobs_unpin(u->srv, u->pin);
	u->pin = 0;
	api_submitted(u->req, res);
}

static int
hand_over(struct upload *u)
{
	struct core_error	 err;
	struct job		*j;
	char			 sha[65] = "";
	int			 rc;

	close(u->fd);
	u->fd = -1;
	if (u->req->idempotency_key)
		request_digest(u, sha);
	if (spec_default_limits(u->srv->cfg->limits, &u->job) < 0 ||
	    (j = malloc(sizeof(*j))) == NULL)
		return reply_errno(u->req, -ENOMEM);
	*j = u->job;		/* the core owns it now */
	job_init(&u->job);
	rc = submit_upload(u->srv, j, u->tmp, u->req->idempotency_key,
	    sha, u->pin ? upload_submitted : api_submitted,
	    u->pin ? (void *)u : (void *)u->req, &err);
	if (rc < 0 && u->pin) {
		blobs_unpin(u->srv, u->pin);
		u->pin = 0;
	}
	return api_pending(u->req, rc, &err);
}

static void
on_put(void *arg, int rc)
{
	struct upload *u = arg;

	u->putting = 0;
	if (u->closed) {		/* runneld stopped meanwhile */
		upload_close(u->req);
		return;
	}
	if (rc == -ENOTCONN) {
		reply_errno(u->req, rc);
		request_done(u->req);
		return;
	}
	if (rc < 0) {
		reply_fail(u->req, 503, "unavailable", NULL, "the file could not "
		    "be stored in the database: nothing was stored");
		request_done(u->req);
		return;
	}
	if (hand_over(u) == API_DONE)
		request_done(u->req);
}

/* Cluster mode: into the database first.  API_PENDING, or an answer. */
static int
put_then_hand_over(struct upload *u)
{
	if (!blobs_shared(u->srv))
		return hand_over(u);
	if (blobs_put(u->srv, u->tmp, u->size, u->job.file_sha256,
	    &u->pin, on_put, u) < 0)
		return reply_errno(u->req, -EIO);
	u->putting = 1;
	return API_PENDING;
}

static void
on_synced(uv_fs_t *fs)
{
	struct upload	*u = fs->data;
	int		 rc = (int)fs->result;

	uv_fs_req_cleanup(fs);
	u->syncing = 0;
	if (u->closed) {		/* runneld stopped meanwhile */
		upload_close(u->req);
		return;
	}
	if (rc < 0) {
		log_warnx("upload: fdatasync %s: %s", u->tmp, uv_strerror(rc));
		space_hit(u->srv, "upload", -rc);
		reply_errno(u->req, rc == UV_ENOSPC ? -ENOSPC : -EIO);
		request_done(u->req);
		return;
	}
	if (put_then_hand_over(u) == API_DONE)
		request_done(u->req);
}

static int
upload_end(struct request *req)
{
	struct upload	*u = req->sink_ctx;
	unsigned char	 md[32];
	char		 hex[65];
	char		 name[FILES_NAME_MAX + 1];

	if (u->multipart && multipart_checks(u) < 0)
		return API_DONE;
	EVP_DigestFinal_ex(u->md, md, NULL);
	idem_hex(md, hex);
	if (u->sha_len && strcmp(hex, u->sha_text) != 0)
		return reply_fail(req, 422, "checksum_mismatch", "sha256",
		    "the file's SHA-256 is %s, not %s: nothing was stored", hex,
		    u->sha_text);
	files_safe_name(u->client_name, name, sizeof(name));
	if ((u->job.file_name = strdup(name)) == NULL ||
	    (u->job.file_sha256 = strdup(hex)) == NULL)
		return reply_errno(req, -ENOMEM);
	u->job.file_size = (int64_t)u->size;
	if (u->srv->cfg->durability == STORE_FAST)
		return put_then_hand_over(u);
	/* The file's bytes reach the disk before its job is committed;
	 * off the loop, so other requests go on meanwhile. */
	u->sync.data = u;
	if (uv_fs_fdatasync(u->srv->loop, &u->sync, u->fd, on_synced) < 0)
		return reply_errno(req, -EIO);
	u->syncing = 1;
	return API_PENDING;
}

static void
upload_close(struct request *req)
{
	struct upload *u = req->sink_ctx;

	if (u == NULL)
		return;
	u->closed = 1;
	if (u->syncing || u->putting)
		return;		/* on_synced or on_put finishes the job */
	blobs_unpin(u->srv, u->pin);
	if (u->fd >= 0)
		close(u->fd);
	if (u->tmp[0] && unlink(u->tmp) != 0 && errno != ENOENT)
		log_warn("upload: unlink %s", u->tmp);
	EVP_MD_CTX_free(u->md);
	multipart_close(&u->mp);
	free(u->job_text);
	job_clear(&u->job);
	req->sink_ctx = NULL;
	free(u);
}

/* ---- the start --------------------------------------------------------- */

/* The raw form: name, sha256 and the spec come from the query. */
static int
raw_begin(struct upload *u)
{
	static const char	*const skip[] = {"name", "sha256", NULL};
	struct request		*req = u->req;
	struct api_error	 e;
	const char		*v;

	snprintf(u->client_name, sizeof(u->client_name), "%s",
	    (v = request_query(req, "name")) ? v : "");
	if ((v = request_query(req, "sha256")) != NULL) {
		snprintf(u->sha_text, sizeof(u->sha_text), "%s", v);
		u->sha_len = strlen(u->sha_text);
		if (sha_hex(u->sha_text) < 0)
			return (reply_fail(req, 400, "invalid_field", "sha256",
			    "sha256 must be 64 hex digits"), -EINVAL);
	}
	if (spec_from_query(req->query, req->nquery, skip, &u->job, &e) < 0)
		return (reply_error(req, &e), -EINVAL);
	return 0;
}

static int
form_begin(struct upload *u)
{
	const char	*ct = u->req->content_type;
	char		 boundary[MULTIPART_BOUNDARY_MAX + 1];
	size_t		 n = strlen("application/octet-stream");

	if (ct && strncasecmp(ct, "multipart/form-data", 19) == 0) {
		if (multipart_boundary(ct, boundary, sizeof(boundary)) < 0)
			return (reply_fail(u->req, 400, "invalid_multipart", NULL,
			    "multipart/form-data needs a boundary of 1 to 70 "
			    "characters"), -EINVAL);
		u->multipart = 1;
		multipart_init(&u->mp, boundary, &parts, u);
		return 0;
	}
	/* curl -T sends no Content-Type: raw it is. */
	if ((ct == NULL && u->req->method == HTTP_PUT) ||
	    (ct && strncasecmp(ct, "application/octet-stream", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';')))
		return raw_begin(u);
	return (reply_fail(u->req, 415, "unsupported_media_type", NULL,
	    "upload with multipart/form-data or application/octet-stream, "
	    "not %.100s", ct ? ct : "no Content-Type"), -EINVAL);
}

/* Refuses what the announced length already tells. */
static int
length_begin(struct upload *u)
{
	const struct config	*cfg = u->srv->cfg;
	int64_t			 cl = u->req->content_length;
	uint64_t		 allowed = u->max;

	if (cl < 0)
		return 0;
	if (u->multipart)
		allowed += cfg->max_body + 64 * 1024;	/* the other parts */
	if ((uint64_t)cl > allowed)
		return (reply_fail(u->req, 413, "too_large", "file", "the upload "
		    "is over the %llu-byte limit (--max-upload)",
		    (unsigned long long)u->max), -EINVAL);
	if (free_bytes(u->srv->tmp_dir) < (uint64_t)cl + UPLOAD_RESERVE_BYTES)
		return storage_full(u);
	return 0;
}

int
upload_begin(struct request *req)
{
	struct server	*srv = req->srv;
	struct upload	*u;

	if (srv->draining || space_full(srv))
		return reply_errno(req, srv->draining ? -ESHUTDOWN : -ENOSPC);
	/* Refused before the body, not after it went to disk for nothing. */
	if (!cluster_db_up(srv))
		return reply_errno(req, -ENOTCONN);
	if (!idem_key_check(req))
		return API_DONE;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return reply_errno(req, -ENOMEM);
	u->srv = srv;
	u->req = req;
	u->fd = -1;
	u->max = srv->cfg->max_upload;
	u->next_check = SPACE_CHECK_EVERY;
	job_init(&u->job);
	req->sink_ctx = u;
	if (form_begin(u) < 0 || length_begin(u) < 0)
		goto refused;
	snprintf(u->tmp, sizeof(u->tmp), "%s/upload-XXXXXX", srv->tmp_dir);
	if ((u->fd = mkostemp(u->tmp, O_CLOEXEC)) < 0) {
		log_warn("upload: mkostemp in %s", srv->tmp_dir);
		space_hit(srv, "upload", errno);
		u->tmp[0] = '\0';
		reply_errno(req, errno == ENOSPC ? -ENOSPC : -EIO);
		goto refused;
	}
	if ((u->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1) {
		reply_errno(req, -ENOMEM);
		goto refused;
	}
	req->sink = &upload_sink;
	return API_STREAM;
refused:
	upload_close(req);
	return API_DONE;
}
