/*
 * The check of an upload job's file before the job runs: it must still
 * be the file that was uploaded (size and SHA-256: it may have been
 * changed at rest).  It is read in pieces; between pieces the worker
 * looks at its socket and the clock, so a CANCEL or the job's timeout
 * ends a long check too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "clock.h"
#include "log.h"
#include "run.h"

#define VERIFY_PIECE	(1u << 20)

static int	refuse(struct run *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
refuse(struct run *r, const char *reason, const char *fmt, ...)
{
	va_list ap;

	r->reason = reason;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Reads and hashes the whole file; 0, or -1 if stopped or unreadable.
 * The buffer is malloc'd per check: above the mmap threshold, it goes
 * back to the system afterwards and the worker stays small.
 */
static int
hash_file(struct run *r, EVP_MD_CTX *md, unsigned char *buf, int64_t *size)
{
	ssize_t n;

	*size = 0;
	while ((n = read(r->file_fd, buf, VERIFY_PIECE)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return refuse(r, "verify", "file check failed: %s",
			    strerror(errno));
		EVP_DigestUpdate(md, buf, (size_t)n);
		*size += n;
		run_poll_chan(r);
		if (r->lost)
			return -1;
		if (r->reason != NULL)		/* a CANCEL came */
			return -1;
		if (r->timeout_at && clock_mono_ms() >= r->timeout_at) {
			r->reason = "timeout";
			return -1;
		}
	}
	return 0;
}

int
run_verify(struct run *r)
{
	const struct run_spec	*spec = r->spec;
	unsigned char		 md_out[32], *buf;
	char			 hex[65];
	EVP_MD_CTX		*md;
	int64_t			 size;
	int			 rc;

	r->file_fd = open(spec->file_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (r->file_fd < 0)
		return refuse(r, "verify", "file check failed: %s",
		    strerror(errno));
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return refuse(r, "verify", "file check failed: %s",
		    "out of memory");
	}
	if ((buf = malloc(VERIFY_PIECE)) == NULL) {
		EVP_MD_CTX_free(md);
		return refuse(r, "verify", "file check failed: %s",
		    "out of memory");
	}
	r->verifying = 1;
	rc = hash_file(r, md, buf, &size);
	r->verifying = 0;
	free(buf);
	EVP_DigestFinal_ex(md, md_out, NULL);
	EVP_MD_CTX_free(md);
	if (rc < 0)
		return -1;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md_out[i]);
	if (size != spec->file_size) {
		char what[64];

		snprintf(what, sizeof(what), "%lld bytes, not %lld",
		    (long long)size, (long long)spec->file_size);
		return refuse(r, "verify", "file check failed: it has %s", what);
	}
	if (strcmp(hex, spec->file_sha256) != 0)
		return refuse(r, "verify", "file check failed: %s",
		    "its SHA-256 is not the one uploaded");
	if (lseek(r->file_fd, 0, SEEK_SET) != 0)
		return refuse(r, "verify", "file check failed: %s",
		    strerror(errno));
	r->verified = 1;
	return 0;
}
