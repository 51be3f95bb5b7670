/*
 * Cross-site requests.  Any page a user opens can make the browser send
 * runneld a POST (a form, a fetch with no preflight), and a runneld
 * without a token runs what it is given.  So a request that changes
 * something (any method but GET, HEAD and OPTIONS) whose Origin is not
 * runneld's own, or whose Sec-Fetch-Site is cross-site or same-site, is
 * refused with 403 cross_origin, unless its origin was allowed with
 * --allow-origin (which also gets CORS answers).  curl and scripts send
 * no Origin and are not affected.  A runneld without a token that
 * listens on loopback also answers loopback names only (its Host), so a
 * page cannot reach it through a DNS name rebound to 127.0.0.1.
 */
#ifndef RUNNEL_ORIGIN_H
#define RUNNEL_ORIGIN_H

struct request;

/* 0 if req may go on; else its 403 answer is made and -1 returned. */
int	origin_check(struct request *);

/*
 * A CORS preflight (OPTIONS with Origin and Access-Control-Request-Method):
 * 1 with the answer made (204 for an allowed origin, 403 otherwise); 0
 * if req is not one.
 */
int	origin_preflight(struct request *);

/* Adds the CORS headers to the answer of a request from an allowed origin. */
void	origin_cors(struct request *);

#endif
