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
	const char		*params;	/* the query parameters it takes,
						 * space-separated; NULL: any */
};

/*
 * The handler for req in the n routes, the first that matches, with req->path_id / path_name set; NULL when no
 * route matches, with *allow a bit per method the path does accept
 * (0: no such path).  *streams is set for routes whose handler is called
 * with the headers only and takes the body through a sink.
 */
api_handler	route_find(const struct route *routes, size_t n,
		    struct request *req, unsigned *allow, int *streams);
/*
 * The route route_find picked for req (NULL if none): for
 * route_params_check.
 */
const struct route *route_found(const struct route *routes, size_t n,
		    struct request *req);
/*
 * Refuses a query parameter the route r does not take: answers 400
 * unknown_parameter naming the first one and returns -1; 0 when all
 * are known (or r takes any).
 */
int		route_params_check(const struct route *r, struct request *req);
/* Answers 404, or 405 with an Allow header built from allow. */
int		route_refuse(struct request *req, unsigned allow);

#endif
