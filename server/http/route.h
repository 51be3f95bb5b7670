/*
 * The route table: method + path pattern -> handler.  Patterns have
 * literal segments and {id} / {name} captures.
 */
#ifndef RUNNEL_ROUTE_H
#define RUNNEL_ROUTE_H

#include <stddef.h>

#include "http/request.h"

struct route {
	enum http_method	 method;
	const char		*pattern;	/* "/a/{id}/b"; "*": any non-API path */
	api_handler		 fn;
	int			 streams;	/* called with the headers; body to a sink */
};

/*
 * The handler for req in the n routes, the first that matches, with req->path_id / path_name set; NULL when no
 * route matches, with *allow a bit per method the path does accept
 * (0: no such path).  *streams is set for routes whose handler is called
 * with the headers only and takes the body through a sink.
 */
api_handler	route_find(const struct route *routes, size_t n,
		    struct request *req, unsigned *allow, int *streams);
/* Answers 404, or 405 with an Allow header built from allow. */
int		route_refuse(struct request *req, unsigned allow);

#endif
