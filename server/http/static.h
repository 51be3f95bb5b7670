/*
 * The dashboard's static files: the copy compiled into runneld (with a
 * gzip twin and an ETag each), or a folder on disk with --web-dir.
 */
#ifndef RUNNEL_STATIC_H
#define RUNNEL_STATIC_H

#include "http/request.h"

/* Serves GET/HEAD of any path outside /api/ (API_DONE). */
int	static_get(struct request *);

#endif
