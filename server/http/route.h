/*
 * The route table: method + path pattern -> handler.  Patterns have
 * literal segments and {id} / {name} captures.
 */
#ifndef RUNNEL_ROUTE_H
#define RUNNEL_ROUTE_H

#include "http/request.h"

/*
 * The handler for req, with req->path_id / path_name set; NULL when no
 * route matches, with *allow a bit per method the path does accept
 * (0: no such path).  *streams is set for routes whose handler is called
 * with the headers only and takes the body through a sink.
 */
api_handler	route_find(struct request *req, unsigned *allow, int *streams);
/* Answers 404, or 405 with an Allow header built from allow. */
int		route_refuse(struct request *req, unsigned allow);

#endif
