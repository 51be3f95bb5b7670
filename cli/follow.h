/*
 * Following a job's output: its stdout (and stderr) copied byte for byte
 * to local descriptors as the job writes them, attempt after attempt,
 * until the job is finished.  A connection that drops is resumed from the
 * last byte written (?offset=), so nothing is lost or written twice when
 * the server restarts.
 */
#ifndef RUNNEL_CLI_FOLLOW_H
#define RUNNEL_CLI_FOLLOW_H

#include <stdint.h>

#include "cli.h"

enum follow_action {
	FOLLOW_GO_ON,		/* keep following */
	FOLLOW_STOP,		/* stop now; follow_run returns stop_status */
};

struct follow {
	struct cli		*cli;
	unsigned long long	 id;
	int			 attempt;	/* the attempt followed; 0: the last */
	int			 fds[2];	/* stdout, stderr targets; -1: skip */
	int			 all_attempts;	/* go on to the next attempt */
	int			 notes;		/* attempt notes on stderr */
	int			 retry_s;	/* give up after this long down */
	int			 once;		/* the bytes there now, no follow */
	/* Called when SIGINT/SIGTERM arrives (term_interrupted()). */
	enum follow_action	(*on_signal)(struct follow *, int sig);
	void			*arg;
	int			 stop_status;
	int			 stopped;	/* on_signal said FOLLOW_STOP */
};

/* Follows f->id until it is finished (or, without all_attempts, until
 * attempt f->attempt is over).  0 with *job the job as it ended (the
 * caller deletes it), or an exit status after saying why.  When a signal
 * stopped it, f->stopped is set, *job is NULL and f->stop_status (or
 * 128+signal without on_signal) is returned. */
int	follow_run(struct follow *f, cJSON **job);

#endif
