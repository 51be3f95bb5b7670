/* Files compiled into a binary by cmake/embed.cmake. */
#ifndef RUNNEL_EMBED_H
#define RUNNEL_EMBED_H

#include <stddef.h>

struct embed_file {
	const char		*name;	/* path relative to its folder; NULL ends a table */
	const unsigned char	*data;	/* NUL-terminated for text files' convenience */
	size_t			 size;	/* bytes, without the added NUL */
	const unsigned char	*gz;	/* gzip of data, or NULL when not smaller */
	size_t			 gz_size;
};

#endif
