/*
 * Logging: one line per event with key=value context, to stderr.
 * log_warn/fatal append strerror(errno); the *x variants do not.
 */
#ifndef RUNNEL_LOG_H
#define RUNNEL_LOG_H

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR
};

/* prog prefixes every line; lines below level are dropped. */
void	log_init(const char *prog, enum log_level level);
/* "debug", "info", "warn", "error" -> level; -1 if unknown. */
int	log_level_parse(const char *);
/* The text of the last warning or error logged, shown or not. */
const char *log_last_problem(void);

void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
