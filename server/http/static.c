/*
 * Static files.  Paths are checked before any lookup: only
 * [A-Za-z0-9._-] segments, no "..", so nothing outside the web root can
 * be named.  With --web-dir the file is opened below the folder's fd
 * with O_NOFOLLOW on every component (openat2 RESOLVE_BENEATH would do
 * the same; this works on any kernel).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "embed.h"
#include "http/reply.h"
#include "http/static.h"
#include "server.h"

extern const struct embed_file web_files[];

static const struct {
	const char	*ext;
	const char	*type;
} types[] = {
	{".html", "text/html; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".mjs", "text/javascript; charset=utf-8"},
	{".json", "application/json; charset=utf-8"},
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".ico", "image/x-icon"},
	{".txt", "text/plain; charset=utf-8"},
	{".woff2", "font/woff2"},
};

static const char *
content_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* 0 if the relative name is made of plain segments only. */
static int
name_valid(const char *name)
{
	const char *seg = name;

	if (*name == '\0' || strlen(name) > 200)
		return -1;
	for (const char *p = name;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t n = (size_t)(p - seg);

			if (n == 0 || (seg[0] == '.' && (n == 1 ||
			    (n == 2 && seg[1] == '.'))))
				return -1;
			if (*p == '\0')
				return 0;
			seg = p + 1;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		    *p == '-'))
			return -1;
	}
}

static int
accepts_gzip(const struct request *req)
{
	const char *ae = req->accept_encoding;

	return ae && strstr(ae, "gzip") != NULL;
}

/* FNV-1a: stable across builds for the same bytes. */
static void
etag_of(const unsigned char *data, size_t n, char out[24])
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ data[i]) * 1099511628211ull;
	snprintf(out, 24, "\"%016llx\"", (unsigned long long)h);
}

static int
not_modified(struct request *req, const char *etag)
{
	if (req->if_none_match == NULL || strstr(req->if_none_match, etag) == NULL)
		return 0;
	response_body(&req->resp, 304, NULL, NULL, 0);
	response_header(&req->resp, "ETag", etag);
	return 1;
}

int
static_embedded(struct request *req, const struct embed_file *f,
    const char *type)
{
	char	 etag[24];
	int	 gz;

	etag_of(f->data, f->size, etag);
	if (not_modified(req, etag))
		return API_DONE;
	gz = f->gz != NULL && accepts_gzip(req);
	response_static(&req->resp, 200, type, gz ? f->gz : f->data,
	    gz ? f->gz_size : f->size);
	response_header(&req->resp, "ETag", etag);
	response_header(&req->resp, "Cache-Control", "no-cache");
	response_header(&req->resp, "Vary", "Accept-Encoding");
	if (gz)
		response_header(&req->resp, "Content-Encoding", "gzip");
	return API_DONE;
}

static int
serve_embedded(struct request *req, const char *name)
{
	const struct embed_file *f;

	for (f = web_files; f->name; f++)
		if (strcmp(f->name, name) == 0)
			break;
	if (f->name == NULL)
		return reply_fail(req, 404, "not_found", NULL, "no such file: "
		    "%.200s", req->path);
	return static_embedded(req, f, content_type(name));
}

/* Opens name below dir, refusing symlinks on the way. */
static int
open_beneath(const char *dir, const char *name)
{
	char	 part[256];
	int	 fd, next;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	for (const char *p = name; fd >= 0;) {
		size_t n = strcspn(p, "/");

		snprintf(part, sizeof(part), "%.*s", (int)n, p);
		next = openat(fd, part, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		    (p[n] ? O_DIRECTORY : 0));
		close(fd);
		fd = next;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	return fd;
}

static int
serve_dir(struct request *req, const char *name)
{
	struct stat	 st;
	char		 etag[48];
	int		 fd;

	fd = open_beneath(req->srv->cfg->web_dir, name);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return reply_fail(req, 404, "not_found", NULL, "no such file: "
		    "%.200s", req->path);
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"",
	    (unsigned long long)st.st_mtime, (unsigned long long)st.st_size);
	if (not_modified(req, etag)) {
		close(fd);
		return API_DONE;
	}
	req->resp.status = 200;
	req->resp.content_type = content_type(name);
	req->resp.fd = fd;
	req->resp.fd_offset = 0;
	req->resp.fd_len = (uint64_t)st.st_size;
	response_header(&req->resp, "ETag", etag);
	response_header(&req->resp, "Cache-Control", "no-cache");
	return API_DONE;
}

int
static_get(struct request *req)
{
	const char *name = req->path + 1;

	if (strcmp(req->path, "/") == 0)
		name = "index.html";
	if (name_valid(name) < 0)
		return reply_fail(req, 404, "not_found", NULL, "no such file: "
		    "%.200s", req->path);
	if (req->srv->cfg->web_dir[0])
		return serve_dir(req, name);
	return serve_embedded(req, name);
}
