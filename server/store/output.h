/*
 * Job output files: data/output/<id>.<attempt>.out and .err, appended as
 * OUTPUT frames arrive and created only when there is output.
 */
#ifndef RUNNEL_OUTPUT_H
#define RUNNEL_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

struct pgwork_out;

enum output_stream {
	OUTPUT_STDOUT,
	OUTPUT_STDERR
};

/* The open files of one running attempt. */
struct output {
	uint64_t	 job_id;
	int		 attempt;
	int		 fd[2];		/* -1 until the first byte */
	int64_t		 bytes[2];
	int		 error;		/* errno that stopped storing it, or 0 */
	struct pgwork_out *shared;	/* cluster mode: its copy in the
					 * database (store/pgwork.h); NULL */
};

void	output_init(struct output *, uint64_t job_id, int attempt);
/*
 * Appends len bytes to the stream's file.  Returns 0 or a negative errno
 * (not logged: the caller says what it means once per attempt).
 */
int	output_append(const char *dir, struct output *, enum output_stream,
	    const void *data, size_t len);
void	output_close(struct output *);
/* "output not stored: no space left on device" for errno err, into buf. */
void	output_error(int err, char *buf, size_t size);
/* Writes the file's path into buf. */
void	output_path(const char *dir, uint64_t job_id, int attempt,
	    enum output_stream, char *buf, size_t size);
/* Removes every attempt's files of a job. */
void	output_remove(const char *dir, uint64_t job_id, int attempts);

#endif
