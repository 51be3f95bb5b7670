/*
 * runneld --check URL: a health probe for containers that have no curl.
 * GETs an http:// URL (on loopback, typically /healthz) and exits 0 on a
 * 2xx answer, 1 otherwise, within CHECK_TIMEOUT_MS.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "probe.h"

#define CHECK_TIMEOUT_MS	5000

/* Splits http://host[:port]/path; returns 0 or -1. */
static int
parse_url(const char *url, char *host, size_t hsize, char *port, size_t psize,
    const char **path)
{
	const char	*p, *h, *colon, *slash;
	size_t		 n;

	if (strncmp(url, "http://", 7) != 0)
		return -1;
	h = url + 7;
	slash = strchr(h, '/');
	*path = slash ? slash : "/";
	n = slash ? (size_t)(slash - h) : strlen(h);
	if (h[0] == '[') {			/* [v6]:port */
		p = memchr(h, ']', n);
		if (p == NULL || (size_t)(p - h - 1) >= hsize)
			return -1;
		memcpy(host, h + 1, (size_t)(p - h - 1));
		host[p - h - 1] = '\0';
		colon = p + 1 < h + n && p[1] == ':' ? p + 1 : NULL;
	} else {
		colon = memchr(h, ':', n);
		size_t hl = colon ? (size_t)(colon - h) : n;
		if (hl == 0 || hl >= hsize)
			return -1;
		memcpy(host, h, hl);
		host[hl] = '\0';
	}
	if (colon) {
		size_t pl = (size_t)(h + n - colon - 1);

		if (pl == 0 || pl >= psize)
			return -1;
		memcpy(port, colon + 1, pl);
		port[pl] = '\0';
	} else {
		snprintf(port, psize, "80");
	}
	return 0;
}

static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd	 pfd = {.fd = fd, .events = events};
	int64_t		 left = deadline - clock_mono_ms();

	return left > 0 && poll(&pfd, 1, (int)left) == 1 ? 0 : -1;
}

int
probe_url(const char *url)
{
	struct addrinfo	 hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	char		 host[256], port[16], req[1024], buf[64];
	const char	*path;
	int64_t		 deadline = clock_mono_ms() + CHECK_TIMEOUT_MS;
	int		 fd = -1, status = 0, n;

	if (parse_url(url, host, sizeof(host), port, sizeof(port), &path) < 0) {
		fprintf(stderr, "runneld --check: not an http:// URL: %s\n", url);
		return 1;
	}
	if (getaddrinfo(host, port, &hints, &res) != 0 ||
	    (fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		goto out;
	if (connect(fd, res->ai_addr, res->ai_addrlen) != 0 &&
	    (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) < 0))
		goto out;
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n"
	    "Connection: close\r\n\r\n", path, host);
	if (wait_fd(fd, POLLOUT, deadline) < 0 || write(fd, req, (size_t)n) != n ||
	    wait_fd(fd, POLLIN, deadline) < 0)
		goto out;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	if (n > 12) {
		buf[n] = '\0';
		if (sscanf(buf, "HTTP/%*d.%*d %d", &status) != 1)
			status = 0;
	}
out:
	if (fd >= 0)
		close(fd);
	if (res)
		freeaddrinfo(res);
	if (status >= 200 && status < 300)
		return 0;
	fprintf(stderr, "runneld --check %s: %s\n", url, status ?
	    "unhealthy" : "no answer");
	return 1;
}
