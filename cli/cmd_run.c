/*
 * runnel run: submit a job, copy its stdout and stderr to ours as they
 * come, exit with its status.  Ctrl-C on a terminal asks whether to
 * cancel the job or leave it running; without a terminal, SIGINT and
 * SIGTERM cancel it, as they would end a command run here.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "follow.h"
#include "submit.h"
#include "term.h"

#define RUN_RETRY_S	300	/* how long a server may be gone */

static void
job_cancel(struct follow *f)
{
	struct reply	r;
	char		path[128];

	snprintf(path, sizeof(path), "/api/v1/jobs/%llu/cancel", f->id);
	if (client_call(&f->cli->client, "POST", path, NULL, NULL, &r) != 0)
		return;
	/* 409: it finished meanwhile, and the follow will say how */
	if (r.status != 200 && r.status != 409)
		client_fail(&r, "cancel");
	reply_clear(&r);
}

/* Asks on the terminal; 'c', 'd' or 0 (keep following). */
static int
ask(int tty, unsigned long long id)
{
	char	line[64];
	ssize_t	n;

	dprintf(tty, "\nrunnel: job %llu goes on running on the server.\n"
	    "  c: cancel it   d: detach (it keeps running)   Enter: keep "
	    "following\n? ", id);
	n = read(tty, line, sizeof(line) - 1);
	if (n < 0)
		return 'd';	/* a second Ctrl-C: leave, the job runs on */
	line[n > 0 ? n : 0] = '\0';
	if (line[0] == 'c' || line[0] == 'C' || line[0] == 'y')
		return 'c';
	if (line[0] == 'd' || line[0] == 'D' || n == 0)
		return 'd';
	return 0;
}

static enum follow_action
on_signal(struct follow *f, int sig)
{
	int tty = -1, choice;

	if (sig == SIGINT && isatty(0) && isatty(2))
		tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (tty < 0) {
		job_cancel(f);
		f->stop_status = 128 + sig;
		return FOLLOW_STOP;
	}
	choice = ask(tty, f->id);
	term_interrupt_clear();
	close(tty);
	if (choice == 'c') {
		job_cancel(f);
		return FOLLOW_GO_ON;	/* to its end, and its status */
	}
	if (choice == 'd') {
		cli_warnx("detached: job %llu runs on (runnel log -f %llu "
		    "follows it, runnel wait %llu waits for it)", f->id, f->id,
		    f->id);
		f->stop_status = EXIT_OK;
		return FOLLOW_STOP;
	}
	return FOLLOW_GO_ON;
}

int
cmd_run(struct cli *cli, int argc, char **argv)
{
	struct follow	 f;
	struct spec	 s;
	cJSON		*job = NULL, *end = NULL;
	int		 rc;

	if (spec_init(&s) < 0)
		return EXIT_FAIL;
	if ((rc = spec_from_args(&s, cli, argc, argv, "run", NULL)) != 0 ||
	    (rc = submit_job(cli, &s, &job)) != 0)
		goto out;
	memset(&f, 0, sizeof(f));
	f.cli = cli;
	f.id = (unsigned long long)job_int(job, "id");
	f.attempt = 1;
	f.fds[0] = 1;
	f.fds[1] = 2;
	f.all_attempts = 1;
	f.notes = isatty(2);
	f.retry_s = RUN_RETRY_S;
	f.on_signal = on_signal;
	if ((rc = follow_run(&f, &end)) != 0 || f.stopped)
		goto out;
	rc = job_status(end);
	if (rc == EXIT_FAIL || (f.notes && rc != 0))
		cli_warnx("job %llu %s: %s", f.id, job_str(end, "state") ?
		    job_str(end, "state") : "ended", job_str(end, "error") ?
		    job_str(end, "error") : "no exit status");
out:
	cJSON_Delete(end);
	cJSON_Delete(job);
	spec_clear(&s);
	return rc;
}
