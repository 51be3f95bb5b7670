/*
 * The watchers of bench/watchers.py, in C: N connections to
 * GET /api/v1/events on 127.0.0.1:PORT in one epoll loop, so that the
 * clients cost little next to runneld.  Each client de-chunks its stream,
 * counts the events' ids (and gaps in them), and for each job event with
 * a finished_at records the delay from it (the server's wall clock,
 * to the millisecond) to the read() that completed the event.
 *
 * Driven over stdin/stdout, one line each way:
 *   out "ready"                   every client has its 200 head
 *   in  "expect N SECONDS"        out "complete" once every client has N
 *                                 finished events (or its stream ended,
 *                                 or SECONDS passed)
 *   in  "report"                  out one JSON line: per client events,
 *                                 gaps, done, delay sum, eof, first and
 *                                 last arrival; and the delay histogram.
 *                                 The counts of done and delays restart.
 *   in  "quit"
 *
 * usage: ssewatch PORT CLIENTS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DELAY_MAX_MS	120000		/* the histogram's last bucket */
#define LINE_MAX_BYTES	65536		/* an SSE line longer is cut */

struct client {
	int		 fd;
	int		 head;		/* the 200 head was read */
	int		 eof;
	long		 chunk_left;	/* -1: a size line is due; -2: its CRLF */
	char		 size[32];
	size_t		 nsize;
	char		*line;
	size_t		 nline;
	long long	 first_seq, last_seq, events, done, delay_sum;
	double		 first_at, last_at;
	char		 headbuf[1024];
	size_t		 nhead;
};

static struct client	*clients;
static int		 nclients;
static long long	*hist;

static double
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "2026-12-07T15:19:03.747Z" -> epoch ms; -1 if it is not one. */
static long long
iso_ms(const char *s)
{
	static char		 last[24];
	static long long	 last_ms = -1;
	struct tm		 tm = {0};
	int			 ms;

	if (last_ms >= 0 && memcmp(s, last, 23) == 0)
		return last_ms;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	memcpy(last, s, 23);
	last_ms = (long long)timegm(&tm) * 1000 + ms;
	return last_ms;
}

static void
on_line(struct client *c, const char *l, size_t n, double now)
{
	static const char	 key[] = "\"finished_at\":\"";
	const char		*p;
	long long		 at, d;

	if (n > 4 && memcmp(l, "id: ", 4) == 0) {
		long long seq = strtoll(l + 4, NULL, 10);

		if (c->events == 0)
			c->first_seq = seq;
		c->last_seq = seq;
		c->events++;
		return;
	}
	if (n < 6 || memcmp(l, "data: ", 6) != 0)
		return;
	if ((p = memmem(l, n, key, sizeof(key) - 1)) == NULL ||
	    (size_t)(l + n - p) < sizeof(key) - 1 + 23)
		return;
	if ((at = iso_ms(p + sizeof(key) - 1)) < 0)
		return;
	d = (long long)(now * 1000.0) - at;
	if (d < 0)
		d = 0;
	if (d > DELAY_MAX_MS)
		d = DELAY_MAX_MS;
	hist[d]++;
	c->delay_sum += d;
	c->done++;
	if (c->first_at == 0)
		c->first_at = now;
	c->last_at = now;
}

static void
line_add(struct client *c, const char *p, size_t n)
{
	if (n > LINE_MAX_BYTES - c->nline)
		n = LINE_MAX_BYTES - c->nline;
	memcpy(c->line + c->nline, p, n);
	c->nline += n;
}

/* Whole lines in place; only a line cut by a read or a chunk is copied. */
static void
on_data(struct client *c, const char *p, size_t n, double now)
{
	const char *nl;

	while (n > 0) {
		if ((nl = memchr(p, '\n', n)) == NULL) {
			line_add(c, p, n);
			return;
		}
		if (c->nline == 0) {
			on_line(c, p, (size_t)(nl - p), now);
		} else {
			line_add(c, p, (size_t)(nl - p));
			on_line(c, c->line, c->nline, now);
			c->nline = 0;
		}
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
}

/* Chunked transfer coding, byte by byte where it is framing. */
static void
on_bytes(struct client *c, const char *p, size_t n, double now)
{
	while (n > 0 && !c->eof) {
		if (c->chunk_left > 0) {
			size_t k = (size_t)c->chunk_left < n ?
			    (size_t)c->chunk_left : n;

			on_data(c, p, k, now);
			c->chunk_left -= (long)k;
			p += k;
			n -= k;
			if (c->chunk_left == 0)
				c->chunk_left = -2;
			continue;
		}
		if (c->chunk_left == -2) {	/* the CRLF after a chunk */
			if (*p == '\n')
				c->chunk_left = -1;
			p++;
			n--;
			continue;
		}
		if (*p == '\n') {
			c->size[c->nsize] = '\0';
			c->chunk_left = strtol(c->size, NULL, 16);
			c->nsize = 0;
			if (c->chunk_left == 0)
				c->eof = 1;
		} else if (*p != '\r' && c->nsize < sizeof(c->size) - 1) {
			c->size[c->nsize++] = *p;
		}
		p++;
		n--;
	}
}

static int
on_head(struct client *c, const char *p, size_t n, size_t *used)
{
	for (*used = 0; *used < n && c->nhead < sizeof(c->headbuf) - 1;) {
		c->headbuf[c->nhead++] = p[(*used)++];
		c->headbuf[c->nhead] = '\0';
		if (c->nhead >= 4 &&
		    memcmp(c->headbuf + c->nhead - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	if (strstr(c->headbuf, "\r\n\r\n") == NULL)
		return c->nhead < sizeof(c->headbuf) - 1 ? 0 : -1;
	if (strncmp(c->headbuf, "HTTP/1.1 200", 12) != 0)
		return -1;
	c->head = 1;
	c->chunk_left = -1;
	return 0;
}

static int
client_open(struct client *c, int port)
{
	static const char	 req[] = "GET /api/v1/events HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
	struct sockaddr_in	 sa = {.sin_family = AF_INET};

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(c->fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
		return -1;
	if ((c->line = malloc(LINE_MAX_BYTES)) == NULL)
		return -1;
	return fcntl(c->fd, F_SETFL, O_NONBLOCK);
}

static void
report(void)
{
	long long top = 0;

	printf("{\"clients\":[");
	for (int i = 0; i < nclients; i++) {
		struct client *c = &clients[i];

		printf("%s{\"events\":%lld,\"gaps\":%lld,\"done\":%lld,"
		    "\"delay_sum\":%lld,\"eof\":%s,\"first_at\":%.6f,"
		    "\"last_at\":%.6f}", i ? "," : "", c->events,
		    c->events ? c->last_seq - c->first_seq + 1 - c->events : 0,
		    c->done, c->delay_sum, c->eof ? "true" : "false",
		    c->first_at, c->last_at);
		c->done = c->delay_sum = 0;
		c->first_at = c->last_at = 0;
	}
	printf("],\"hist\":{");
	for (long long d = 0; d <= DELAY_MAX_MS; d++) {
		if (hist[d] == 0)
			continue;
		printf("%s\"%lld\":%lld", top++ ? "," : "", d, hist[d]);
		hist[d] = 0;
	}
	printf("}}\n");
	fflush(stdout);
}

static int
all_done(long long expected)
{
	for (int i = 0; i < nclients; i++)
		if (clients[i].done < expected && !clients[i].eof)
			return 0;
	return 1;
}

static int
all_heads(void)
{
	for (int i = 0; i < nclients; i++)
		if (!clients[i].head)
			return 0;
	return 1;
}

/* A command from stdin; 1 on quit. */
static int
on_command(long long *expected, double *deadline)
{
	char	 cmd[128];
	double	 secs;

	if (fgets(cmd, sizeof(cmd), stdin) == NULL || strncmp(cmd, "quit", 4) == 0)
		return 1;
	if (sscanf(cmd, "expect %lld %lf", expected, &secs) == 2)
		*deadline = wall_s() + secs;
	else if (strncmp(cmd, "report", 6) == 0)
		report();
	return 0;
}

int
main(int argc, char **argv)
{
	static char		 buf[1 << 18];
	struct epoll_event	 ev, evs[256];
	struct rlimit		 rl;
	long long		 expected = -1;
	double			 deadline = 0;
	int			 port, ep, ready = 0;

	if (argc != 3)
		return fprintf(stderr, "usage: ssewatch PORT CLIENTS\n"), 2;
	port = atoi(argv[1]);
	nclients = atoi(argv[2]);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	clients = calloc((size_t)nclients, sizeof(*clients));
	hist = calloc(DELAY_MAX_MS + 1, sizeof(*hist));
	if (clients == NULL || hist == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return perror("ssewatch"), 1;
	setvbuf(stdin, NULL, _IONBF, 0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
	for (int i = 0; i < nclients; i++) {
		if (client_open(&clients[i], port) < 0)
			return perror("ssewatch: connect"), 1;
		ev.data.ptr = &clients[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, clients[i].fd, &ev);
	}
	for (;;) {
		int n = epoll_wait(ep, evs, 256, 100);

		for (int i = 0; i < n; i++) {
			struct client	*c = evs[i].data.ptr;
			ssize_t		 r;
			size_t		 used;

			if (c == NULL) {
				if (on_command(&expected, &deadline))
					return 0;
				continue;
			}
			while ((r = read(c->fd, buf, sizeof(buf))) > 0) {
				double now = wall_s();

				used = 0;
				if (!c->head && on_head(c, buf, (size_t)r,
				    &used) < 0) {
					fprintf(stderr, "ssewatch: not a 200: "
					    "%.80s\n", c->headbuf);
					return 1;
				}
				on_bytes(c, buf + used, (size_t)r - used, now);
				if ((size_t)r < sizeof(buf))
					break;
			}
			if (r == 0 || (r < 0 && errno != EAGAIN)) {
				c->eof = 1;
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			}
		}
		if (!ready && all_heads()) {
			printf("ready\n");
			fflush(stdout);
			ready = 1;
		}
		if (expected >= 0 && (all_done(expected) || wall_s() > deadline)) {
			printf("complete\n");
			fflush(stdout);
			expected = -1;
		}
	}
}
