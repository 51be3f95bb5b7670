/*
 * What the client knows of its terminal: whether a stream is one, colors
 * (only on a terminal, never with NO_COLOR), its width, an interrupt
 * flag set by SIGINT/SIGTERM, and short human forms of times.
 */
#ifndef RUNNEL_CLI_TERM_H
#define RUNNEL_CLI_TERM_H

#include <stddef.h>
#include <stdint.h>

int	term_is_tty(int fd);
/* 1 when output to fd may be colored. */
int	term_color(int fd);
/* Columns of the terminal on stdout; 0 when stdout is not one. */
int	term_width(void);

/* Catches SIGINT and SIGTERM into a flag instead of dying (no
 * SA_RESTART: a blocking call returns EINTR). */
void	term_catch_signals(void);
/* The signal caught since the last term_interrupt_clear(), or 0. */
int	term_interrupted(void);
void	term_interrupt_clear(void);

/* ANSI escape for a color name, or "" when color is off. */
const char *term_sgr(int on, const char *code);

/* "3s", "4m", "2h", "5d" from a span in ms (negative: 0). */
void	term_span(int64_t ms, char *buf, size_t size);
/* Milliseconds since the epoch of an RFC 3339 time; -1 when s is not one. */
int64_t	term_time_ms(const char *s);
int64_t	term_now_ms(void);

#endif
