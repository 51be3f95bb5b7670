/* The API's route table, given to the http wing at start-up. */
#ifndef RUNNEL_ROUTES_H
#define RUNNEL_ROUTES_H

#include <stddef.h>

#include "http/route.h"

extern const struct route	api_routes[];
extern const size_t		api_nroutes;

#endif
