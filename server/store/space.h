/*
 * Free space on the data directory's disk.  runneld keeps a reserve file,
 * data/reserve (SPACE_RESERVE_BYTES), and gives it up the moment the
 * disk runs full, so that the commits which end what runs or free space
 * (finishes, cancels, deletes) still get through.  While the disk is
 * full, nothing new is taken or started: submissions, uploads and
 * retries get 503 storage_full, the dispatcher waits, and job output is
 * not stored (such a job fails, see pool/worker.c).  Once enough is free
 * again the reserve is made anew and runneld goes on by itself.
 */
#ifndef RUNNEL_SPACE_H
#define RUNNEL_SPACE_H

#include <stdint.h>

struct server;

#define SPACE_RESERVE_BYTES	(8LL << 20)
/* Free space below this (the reserve not counted) is a full disk. */
#define SPACE_FLOOR_BYTES	(8LL << 20)
/* What must be free before the reserve is made again and work goes on. */
#define SPACE_RESUME_BYTES	(SPACE_FLOOR_BYTES + SPACE_RESERVE_BYTES + (8LL << 20))

/*
 * Makes the reserve (or starts full when it cannot).  changed is called
 * when the disk becomes full or has room again.  0 or a negative code.
 */
int	space_start(struct server *, void (*changed)(struct server *));
void	space_stop(struct server *);
void	space_free(struct server *);

/*
 * 1 while the disk is full.  Looks at the free space again when the
 * last look is over a quarter of a second old, so it is cheap to ask.
 */
int	space_full(struct server *);

/*
 * A write on the data directory failed with errno err (what: "database",
 * "output", "upload"): ENOSPC and EDQUOT make the disk full now.
 */
void	space_hit(struct server *, const char *what, int err);

/* Bytes free for runneld's user on the data directory's disk, -1 unknown. */
int64_t	space_free_bytes(struct server *);

#endif
