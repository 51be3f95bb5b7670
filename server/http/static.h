/*
 * The dashboard's static files: the copy compiled into runneld (with a
 * gzip twin and an ETag each), or a folder on disk with --web-dir.
 */
#ifndef RUNNEL_STATIC_H
#define RUNNEL_STATIC_H

#include "embed.h"
#include "http/request.h"

/* Serves GET/HEAD of any path outside /api/ (API_DONE). */
int	static_get(struct request *);
/*
 * Answers a file compiled into runneld as type: 200 with an ETag (304
 * when If-None-Match names it), its gzip copy when the client takes
 * gzip.  API_DONE.
 */
int	static_embedded(struct request *, const struct embed_file *,
	    const char *type);

#endif
