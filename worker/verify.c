/*
 * The check of an upload job's file before the job runs: it must still
 * be the file that was uploaded (size and SHA-256: it may have been
 * changed at rest).  It is read in pieces; between pieces the caller
 * looks at its socket and the clock is read, so a CANCEL or the job's
 * timeout ends a long check too.
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
#include "verify.h"

#define VERIFY_PIECE	(1u << 20)

static int	refuse(int rc, char *error, size_t n, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));

static int
refuse(int rc, char *error, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error, n, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * Reads and hashes the whole file.  The buffer is malloc'd per check:
 * above the mmap threshold, it goes back to the system afterwards and
 * the worker stays small.
 */
static int
hash_file(int fd, EVP_MD_CTX *md, unsigned char *buf, int64_t *size,
    const struct verify_watch *watch, char *error, size_t n)
{
	ssize_t got;

	*size = 0;
	while ((got = read(fd, buf, VERIFY_PIECE)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return refuse(-errno, error, n, "file check failed: %s",
			    strerror(errno));
		EVP_DigestUpdate(md, buf, (size_t)got);
		*size += got;
		if (watch->stop(watch->arg))
			return -ECANCELED;
		if (watch->deadline_ms && clock_mono_ms() >= watch->deadline_ms)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Hashes the open file and compares; 0 or as verify_file. */
static int
verify_fd(int fd, int64_t want_size, const char *want_sha256,
    const struct verify_watch *watch, char *error, size_t n)
{
	unsigned char		 md_out[32], *buf;
	char			 hex[65];
	EVP_MD_CTX		*md;
	int64_t			 size;
	int			 rc;

	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return refuse(-ENOMEM, error, n, "file check failed: %s",
		    "out of memory");
	}
	if ((buf = malloc(VERIFY_PIECE)) == NULL) {
		EVP_MD_CTX_free(md);
		return refuse(-ENOMEM, error, n, "file check failed: %s",
		    "out of memory");
	}
	rc = hash_file(fd, md, buf, &size, watch, error, n);
	free(buf);
	EVP_DigestFinal_ex(md, md_out, NULL);
	EVP_MD_CTX_free(md);
	if (rc < 0)
		return rc;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md_out[i]);
	if (size != want_size)
		return refuse(-EBADMSG, error, n, "file check failed: it has "
		    "%lld bytes, not %lld", (long long)size,
		    (long long)want_size);
	if (strcmp(hex, want_sha256) != 0)
		return refuse(-EBADMSG, error, n, "file check failed: %s",
		    "its SHA-256 is not the one uploaded");
	if (lseek(fd, 0, SEEK_SET) != 0)
		return refuse(-errno, error, n, "file check failed: %s",
		    strerror(errno));
	return 0;
}

int
verify_file(const char *path, int64_t size, const char *sha256,
    const struct verify_watch *watch, int *fd, char *error, size_t n)
{
	int	 rc;

	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0)
		return refuse(-errno, error, n, "file check failed: %s",
		    strerror(errno));
	if ((rc = verify_fd(*fd, size, sha256, watch, error, n)) < 0) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}
