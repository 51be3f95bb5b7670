/* runneld --check URL: the container health probe. */
#ifndef RUNNEL_PROBE_H
#define RUNNEL_PROBE_H

/* GETs an http:// URL: returns 0 (exit status) on a 2xx answer, else 1. */
int	probe_url(const char *url);

#endif
