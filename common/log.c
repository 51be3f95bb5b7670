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

void
log_init(const char *prog, enum log_level level)
{
	log_prog = prog;
	log_min = level;
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

int
log_enabled(enum log_level level)
{
	return level >= log_min;
}

static void	log_vline(enum log_level, int, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

static void
log_vline(enum log_level level, int err, const char *fmt, va_list ap)
{
	static const char *tags[] = {"debug", "info", "warn", "error"};
	char	 line[2048], ts[32];
	int	 n, m;

	if (level < log_min)
		return;
	clock_format_ms(clock_now_ms(), ts);
	n = snprintf(line, sizeof(line), "%s %s[%d] %s: ", ts, log_prog,
	    (int)getpid(), tags[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n >= sizeof(line) - 64)
		n = sizeof(line) - 64;	/* truncated; keep room for the tail */
	if (err)
		n += snprintf(line + n, sizeof(line) - n, ": %s", strerror(err));
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, n);
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
