/*
 * Terminal facts for the client's human output.  Colors follow the
 * NO_COLOR convention (no-color.org) and stay off when the stream is not a
 * terminal, so that scripts get plain bytes.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "term.h"

static volatile sig_atomic_t caught;

int
term_is_tty(int fd)
{
	return isatty(fd);
}

int
term_color(int fd)
{
	const char *nc = getenv("NO_COLOR"), *t = getenv("TERM");

	if (nc != NULL && *nc != '\0')
		return 0;
	if (t != NULL && strcmp(t, "dumb") == 0)
		return 0;
	return isatty(fd);
}

int
term_width(void)
{
	struct winsize ws;

	if (!isatty(1))
		return 0;
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

static void
on_signal(int sig)
{
	caught = sig;
}

void
term_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a closed pipe on stdout is a write error, not a silent death */
	signal(SIGPIPE, SIG_IGN);
}

int
term_interrupted(void)
{
	return caught;
}

void
term_interrupt_clear(void)
{
	caught = 0;
}

const char *
term_sgr(int on, const char *code)
{
	return on ? code : "";
}

void
term_span(int64_t ms, char *buf, size_t size)
{
	int64_t s = ms < 0 ? 0 : ms / 1000;

	if (ms >= 0 && ms < 1000)
		snprintf(buf, size, "%lldms", (long long)ms);
	else if (s < 120)
		snprintf(buf, size, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(buf, size, "%lldm", (long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, size, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, size, "%lldd", (long long)(s / 86400));
}

int64_t
term_time_ms(const char *s)
{
	int64_t ms;

	if (s == NULL || clock_parse_ms(s, &ms) < 0)
		return -1;
	return ms;
}

int64_t
term_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
