/*
 * Logging to stderr.  A line is formatted whole and written with one
 * write(2), so lines from runneld and its workers do not interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

static const char	*log_prog = "runnel";
static enum log_level	 log_min = LOG_INFO;
/* Taken once: a line per finished job need not ask the kernel each time. */
static int		 log_pid;
/* The last warning or error, whatever the level shown: why a start failed. */
static char		 log_problem[512];

void
log_init(const char *prog, enum log_level level)
{
	log_prog = prog;
	log_min = level;
	log_pid = (int)getpid();
}

int
log_level_parse(const char *s)
{
	static const char *names[] = {"debug", "info", "warn", "error"};

	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static void	log_vline(enum log_level, int, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

static void
log_vline(enum log_level level, int err, const char *fmt, va_list ap)
{
	static const char *tags[] = {"debug", "info", "warn", "error"};
	char	 msg[2048], line[2048 + 128], ts[32];
	int	 n;

	if (level < log_min && level < LOG_WARN)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg) - 64)
		n = sizeof(msg) - 64;	/* truncated; keep room for the tail */
	if (err)
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(err));
	if (level >= LOG_WARN)
		snprintf(log_problem, sizeof(log_problem), "%.*s",
		    (int)sizeof(log_problem) - 1, msg);
	if (level < log_min)
		return;
	clock_format_ms(clock_now_ms(), ts);
	n = snprintf(line, sizeof(line), "%s %s[%d] %s: %s\n", ts, log_prog,
	    log_pid ? log_pid : (int)getpid(), tags[level], msg);
	if (n > 0)
		(void)!write(STDERR_FILENO, line, (size_t)n < sizeof(line) ?
		    (size_t)n : sizeof(line) - 1);
}

const char *
log_last_problem(void)
{
	return log_problem[0] ? log_problem : "no cause was logged";
}

#define LOG_FN(fn, level, witherr)				\
void								\
fn(const char *fmt, ...)					\
{								\
	int	 saved = errno;					\
	va_list	 ap;						\
								\
	va_start(ap, fmt);					\
	log_vline(level, witherr ? saved : 0, fmt, ap);		\
	va_end(ap);						\
	errno = saved;						\
}

LOG_FN(log_debug, LOG_DEBUG, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_warn, LOG_WARN, 1)
LOG_FN(log_warnx, LOG_WARN, 0)
LOG_FN(log_error, LOG_ERROR, 0)

void
fatal(const char *fmt, ...)
{
	int	 saved = errno;
	va_list	 ap;

	va_start(ap, fmt);
	log_vline(LOG_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vline(LOG_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
