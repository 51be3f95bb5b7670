/*
 * Submissions: command jobs (one or a batch) and upload jobs, with or
 * without an Idempotency-Key.  Each returns 0 when done will be called
 * after the turn's commit, or a negative code with *err filled (done is
 * then never called).  They take ownership of their jobs either way.
 */
#ifndef RUNNEL_SUBMIT_H
#define RUNNEL_SUBMIT_H

#include <stddef.h>

#include "core/result.h"

struct server;

int	submit_jobs(struct server *, struct job *jobs, size_t n, int batch,
	    core_done_cb done, void *arg, struct core_error *err);
/*
 * Submits with an Idempotency-Key: a key seen in the last 24 hours with
 * the same body (body_sha) completes with the jobs it made (created 0);
 * with another body -EEXIST; a new key submits and remembers.
 */
int	submit_idem(struct server *, const char *key, const char *body_sha,
	    struct job *jobs, size_t n, int batch, core_done_cb done,
	    void *arg, struct core_error *err);
/*
 * Submits an upload job (file_name, file_size and file_sha256 set) whose
 * complete file is at tmp_path: the job is inserted and the file moved
 * to data/files/<id>/ in the turn's transaction, committed together.
 * With a key (NULL: none) it goes as submit_idem, request_sha
 * standing for the body.  On failure tmp_path is left for the caller.
 */
int	submit_upload(struct server *, struct job *job, const char *tmp_path,
	    const char *key, const char *request_sha, core_done_cb done,
	    void *arg, struct core_error *err);

/*
 * A job made without a request (a schedule's): planned, counted against
 * --max-queued and stored in the turn's transaction now; j->id is set.
 * The caller keeps j.  Returns 0 or a code with *err filled.
 */
int	submit_made(struct server *, struct job *j, struct core_error *err);
/*
 * Completes done after the commit with j (one job, heap, as made by
 * submit_made): the pending operation takes and frees it.
 */
void	submit_pending(struct server *, struct job *j, core_done_cb done,
	    void *arg);

#endif
