/*
 * The webhook sender: works through the deliveries the store records when
 * jobs finish (store/delivery.h), POSTing each job object signed
 * (hook/sign.h) with libcurl on the loop (hook/net.h), at least once:
 * a try leases its delivery for DELIVER_LEASE_MS, its answer is stored,
 * and a delivery not answered 2xx is tried again with back-off (from
 * --webhook-retry-base, doubling, at most an hour apart) for up to a day,
 * then failed.  One timer on the first delivery due; in a cluster only
 * the leader sends, and it looks for other nodes' deliveries every second.
 */
#ifndef RUNNEL_HOOK_DELIVER_H
#define RUNNEL_HOOK_DELIVER_H

#include <stdint.h>

struct server;

#define DELIVER_INFLIGHT_MAX	64		/* POSTs at once */
/* A try's hold on its delivery: three times the longest a try lasts
 * (HOOKNET_TOTAL_MS), so a live try is never sent twice at once. */
#define DELIVER_LEASE_MS	30000
#define DELIVER_GIVE_UP_MS	(24 * 3600 * 1000LL)	/* then failed */
#define DELIVER_RETRY_MAX_MS	(3600 * 1000LL)

/* Starts the sender (srv->deliver).  0, -ENOMEM or -EIO. */
int	deliver_start(struct server *);
/* Cancels what is in flight (their deliveries stay due) and stops. */
void	deliver_stop(struct server *);
/* A job finished: its deliveries, if any, are due now. */
void	deliver_kick(struct server *, uint64_t job_id);

#endif
