/*
 * A column of a batch as one PostgreSQL array literal, in text format
 * ({"a",NULL,"b\"c"}): a batch of rows goes as one array per column to
 * a prepared INSERT ... SELECT FROM unnest(...), whose plan does not
 * depend on how many rows there are.
 */
#ifndef RUNNEL_PG_ARRAY_H
#define RUNNEL_PG_ARRAY_H

#include <stddef.h>
#include <stdint.h>

struct pg_params;

struct pg_array {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 n;		/* elements so far */
	int	 err;		/* -ENOMEM: an element was not held */
};

/* NULL for v is SQL NULL. */
void	pg_array_text(struct pg_array *, const char *v);
/* v when present, else SQL NULL. */
void	pg_array_int(struct pg_array *, int64_t v, int present);
/* len bytes (any) as a bytea element, or SQL NULL when v is NULL. */
void	pg_array_bytes(struct pg_array *, const void *v, size_t len);
/* The literal as the next parameter, which takes it over; a's error,
 * if any, is the parameters' (the statement is not sent). */
void	pg_param_array(struct pg_params *, struct pg_array *a);
void	pg_array_clear(struct pg_array *);

#endif
