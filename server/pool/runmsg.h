/*
 * A job as the RUN message a worker gets (msg.h): the stored job's
 * fields, with the argv, env and limits that the API stored as JSON
 * read back into the codec's types.
 */
#ifndef RUNNEL_RUNMSG_H
#define RUNNEL_RUNMSG_H

#include <stdint.h>

#include "msg.h"
#include "store/job.h"

struct runmsg {
	struct msg_run	 msg;
	void		*argv_json;	/* what msg's strings point into */
	void		*env_json;
};

/*
 * Fills rm->msg for job j, killed kill_grace_ms after its SIGTERM, with
 * the upload's stored file at file_path (NULL for a command job).  The
 * message points into j and file_path, which must outlive it.  Returns
 * 0, -EINVAL when the stored JSON is not what the API stores, or
 * -ENOMEM.  Clear with runmsg_clear whatever the result.
 */
int	runmsg_make(struct runmsg *rm, const struct job *j,
	    int64_t kill_grace_ms, const char *file_path);
void	runmsg_clear(struct runmsg *rm);

#endif
