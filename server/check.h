/* runneld --check URL: the container health probe. */
#ifndef RUNNEL_CHECK_H
#define RUNNEL_CHECK_H

/* GETs an http:// URL: returns 0 (exit status) on a 2xx answer, else 1. */
int	check_url(const char *url);

#endif
