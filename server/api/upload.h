/*
 * An upload in flight: the body of POST /api/v1/uploads streamed to a
 * file in data/tmp while SHA-256 is computed (OpenSSL EVP), within
 * --max-upload and the free space, then handed to the core, which
 * commits the job and moves the file in together.  Memory stays flat
 * whatever the size: nothing but a part's headers is ever buffered.
 */
#ifndef RUNNEL_UPLOAD_H
#define RUNNEL_UPLOAD_H

#include "http/request.h"

/* Disk kept free for the database: uploads stop short of it. */
#define UPLOAD_RESERVE_BYTES	(64ull << 20)

/*
 * The handler of POST /api/v1/uploads, called with the headers only:
 * refuses what can be refused before the body (API_DONE), or sets up
 * req->sink and returns API_STREAM.
 */
int	upload_begin(struct request *req);

#endif
