/*
 * Event fan-out after each commit: long-poll waiters (GET ?wait=, cancel
 * of a running job), output followers (?follow=1) and Server-Sent Events
 * subscribers.  Everything is woken by the change itself; nothing polls.
 */
#ifndef RUNNEL_EVENTS_H
#define RUNNEL_EVENTS_H

#include <stdint.h>

#include "http/request.h"

struct server;

/* A streamed response that wants to hear of a job's output and end. */
struct follower {
	struct stream		 stream;
	uint64_t		 job_id;
	struct follower		*next;
	struct follower		*prev;
	int			 linked;
};

int	events_start(struct server *);
/* Answers every waiter, ends every stream: runneld is stopping. */
void	events_stop(struct server *);
void	events_free(struct server *);
/* 1 once events_stop ran. */
int	events_stopping(const struct server *);

/*
 * A committed state change of job id (to = -1: deleted); json is the job
 * as the change left it, or NULL when nobody subscribed at the time.
 */
void	events_job(struct server *, uint64_t id, int to, const char *json);
/* New output bytes of job id are in its file. */
void	events_output(struct server *, uint64_t id);

/*
 * Holds req until job id is finished (or deleted) or timeout_ms passes,
 * then answers the job as it is then.  Returns API_PENDING.
 */
int	events_wait(struct server *, uint64_t id, struct request *req,
	    int64_t timeout_ms);

/* 1 if a request waits for job id to finish. */
int	events_waiting(const struct server *, uint64_t id);

void	events_follow(struct server *, struct follower *);
void	events_unfollow(struct server *, struct follower *);

/* Turns req's response into the SSE stream.  Returns API_DONE. */
int	events_subscribe(struct server *, struct request *req);
/* Number of SSE subscribers (metrics). */
int	events_subscribers(const struct server *);

#endif
