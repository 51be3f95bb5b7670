/*
 * The worker as a process: its signals, its subreaper role, and the
 * children it must reap or kill so that no zombie and no orphan of a
 * job outlives the job.
 */
#ifndef RUNNEL_PROC_H
#define RUNNEL_PROC_H

#include <stddef.h>

/* Signals the worker ignores; a job's process gets them back at SIG_DFL. */
extern const int	proc_ignored[];
extern const size_t	proc_nignored;

/* What proc_signals() saw arrive. */
#define PROC_SIGCHLD	0x1
#define PROC_SIGTERM	0x2

/*
 * Sets the worker's signals up: dispositions inherited as ignored go
 * back to default, SIGPIPE, SIGINT and SIGHUP are ignored (runneld
 * manages its workers), SIGCHLD and SIGTERM are blocked and delivered
 * through a signalfd; and makes the worker a child subreaper, so that a
 * job's orphans become its children.  Returns the signalfd (close-on-
 * exec, non-blocking) or a negative errno code.
 */
int	proc_setup(void);

/* Reads what the signalfd holds.  Returns PROC_SIGCHLD / PROC_SIGTERM bits. */
int	proc_signals(int sigfd);

/* Reaps every child that has exited, without blocking. */
void	proc_reap(void);

/*
 * SIGKILLs every living child of the worker: orphans of a job that left
 * its process group.  Reads the kernel's list of our children, or scans
 * /proc where there is none.  Returns the number of processes signalled.
 */
int	proc_kill_children(void);

#endif
