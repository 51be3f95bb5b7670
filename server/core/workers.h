/* The core's side of the worker pool: what it does with the pool's reports. */
#ifndef RUNNEL_CORE_WORKERS_H
#define RUNNEL_CORE_WORKERS_H

#include "pool/pool.h"

/* The table runneld gives pool_start; its arg is the struct server. */
extern const struct pool_cb core_pool_cb;

#endif
