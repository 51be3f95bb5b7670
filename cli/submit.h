/*
 * Submitting a job: POST /api/v1/jobs with the spec, once.  Every submit
 * carries an Idempotency-Key (the user's, or a random one), so that a
 * connection lost after the request went out is retried without making
 * a second job.
 */
#ifndef RUNNEL_CLI_SUBMIT_H
#define RUNNEL_CLI_SUBMIT_H

#include "cli.h"
#include "spec.h"

/* Submits s; *job is the job the server answered (the caller deletes it).
 * 0, or an exit status after saying why. */
int	submit_job(struct cli *, struct spec *s, cJSON **job);

/* A fresh random Idempotency-Key in buf (at least 40 bytes). */
void	submit_key(char *buf, size_t size);

/* The job's numeric field name, or -1 when it is absent or null. */
long long	job_int(const cJSON *job, const char *name);
/* The job's string field name, or NULL. */
const char	*job_str(const cJSON *job, const char *name);

/* The exit status that reports a finished job: 0 when it succeeded, its
 * exit code, 128+signal, else 1. */
int	job_status(const cJSON *job);

#endif
