/*
 * The command table: each command's name, function and help.  The help
 * here is what `runnel help CMD` and `runnel CMD --help` print; the man
 * page (docs/runnel.1) says the same at more length.
 */
#include <stddef.h>

#include "cli.h"

#define SPEC_HELP \
"Job options:\n" \
"  -q, --queue Q           queue (default \"default\")\n" \
"  -p, --priority N        smaller runs sooner (-1000000 ... 1000000)\n" \
"  -n, --name TEXT         a label shown in lists\n" \
"  -e, --env K=V           set a variable in the job's environment (repeat)\n" \
"      --cwd DIR           working directory (absolute, on the server)\n" \
"  -t, --timeout SECONDS   end the job after this long\n" \
"  -r, --retries N         retry a failed job up to N times\n" \
"  -a, --after ID          run once job ID has succeeded (repeat)\n" \
"  -d, --delay SECONDS     run no sooner than this from now\n" \
"      --at TIME           run no sooner than TIME (RFC 3339)\n" \
"  -l, --limit K=V         mem=512M, cpu=SECONDS, files=N, procs=N,\n" \
"                          output=SIZE (repeat)\n" \
"      --webhook URL       POST the finished job to URL (repeat)\n" \
"      --idempotency-key K send the job once however often this is run\n" \
"      --stdin FILE        feed FILE to the job's standard input (- for\n" \
"                          this command's own)\n" \
"      --argv              send CMD ARGS... as an argv (exec form); without\n" \
"                          it they are joined with spaces into one shell\n" \
"                          command, run by /bin/sh -c\n" \
"      --shell             through /bin/sh -c even when the command has no\n" \
"                          shell syntax (else it may be exec'd directly)\n" \
"      --url URL           the server (else RUNNEL_URL, the config file,\n" \
"                          http://127.0.0.1:8080)\n"

const struct command cli_commands[] = {
	{"run", cmd_run, "submit a job, stream its output, exit with its status",
	"run [options] -- CMD [ARGS...]",
	"Submits a job, writes its standard output and standard error to this\n"
	"command's as they are produced, and exits with the job's exit code\n"
	"(128+N when signal N ended it; 1 when it failed without an exit\n"
	"status).  A dropped connection is resumed from the last byte.  On a\n"
	"terminal, Ctrl-C asks whether to cancel the job or detach from it;\n"
	"elsewhere SIGINT and SIGTERM cancel the job.\n\n" SPEC_HELP},
	{"add", cmd_add, "submit a job and print its id",
	"add [options] [--json] -- CMD [ARGS...]",
	"Submits a job and prints its id (the job as JSON with --json).\n\n"
	SPEC_HELP},
	{"upload", cmd_upload, "upload a file as a job, print its id",
	"upload FILE [options] [--as NAME] [--json] [-- CMD [ARGS...]]",
	"Uploads FILE (streamed: memory stays flat whatever its size) with its\n"
	"SHA-256, which the server checks, and prints the job's id.  The\n"
	"command, if any, runs with the file on its standard input and its path\n"
	"in RUNNEL_FILE.  A progress bar is drawn on a terminal.\n"
	"  --as NAME      the file's name on the server (default: FILE's)\n"
	"  --no-progress  no progress bar\n\n" SPEC_HELP},
	{"ls", cmd_ls, "list jobs, newest first",
	"ls [--state S[,S...]] [--queue Q] [--type T] [--limit N] [--before ID] [--json]",
	"Lists jobs, newest first, as a table sized to the terminal.\n"
	"  -s, --state S   only these states (comma list: scheduled, queued,\n"
	"                  running, succeeded, failed, canceled)\n"
	"  -q, --queue Q   only this queue\n"
	"      --type T    command or upload\n"
	"  -n, --limit N   at most N jobs (default 50; 1 ... 1000)\n"
	"      --before ID only jobs older than ID (the next page)\n"
	"      --json      the server's answer, as JSON\n"},
	{"show", cmd_show, "show a job",
	"show ID [--json]",
	"Shows a job's fields.  --json prints the job object as the API has it.\n"},
	{"log", cmd_log, "print a job's output",
	"log ID [-f] [--attempt N] [--stderr]",
	"Writes a job's standard output, byte for byte.\n"
	"  -f, --follow    keep writing as the job writes, until it finishes\n"
	"                  (a dropped connection resumes where it stopped)\n"
	"      --attempt N the output of attempt N (default: the last)\n"
	"  -e, --stderr    standard error instead\n"},
	{"wait", cmd_wait, "wait until jobs finish, exit with their status",
	"wait ID...",
	"Waits until every job named has finished, however long that takes,\n"
	"and exits with the status of the first one that did not succeed\n"
	"(its exit code, 128+signal, or 1), or 0 when all succeeded.\n"},
	{"cancel", cmd_cancel, "cancel jobs",
	"cancel ID...",
	"Cancels each job: a waiting one at once, a running one by ending its\n"
	"process group.  Goes on past a job it cannot cancel, and exits\n"
	"non-zero if there was one.\n"},
	{"retry", cmd_retry, "queue failed or canceled jobs again",
	"retry ID...",
	"Queues each failed or canceled job again.\n"},
	{"rm", cmd_rm, "delete finished jobs",
	"rm ID...",
	"Deletes each finished job with its output and file.\n"},
	{"queue", cmd_queue, "list queues, pause, resume, set concurrency",
	"queue ls | pause Q | resume Q | set Q --concurrency N|none",
	"  queue ls [--json]          the queues with their counts\n"
	"  queue pause Q              stop starting Q's jobs\n"
	"  queue resume Q             start them again\n"
	"  queue set Q --concurrency N\n"
	"                             at most N of Q's jobs at once (none: no limit)\n"},
	{"schedule", cmd_schedule, "list, add, remove and trigger schedules",
	"schedule ls | add | rm ID | trigger ID",
	"  schedule ls [--json]\n"
	"  schedule add --cron EXPR [--tz ZONE] [--name TEXT]\n"
	"               [--overlap allow|skip|queue|cancel] [job options] -- CMD...\n"
	"  schedule rm ID\n"
	"  schedule trigger ID        make a job of it now\n"},
	{"stats", cmd_stats, "counts by state, throughput, uptime",
	"stats [--json]",
	"Shows the server's counts of jobs by state, jobs finished in the last\n"
	"minutes, its uptime and worker pool.\n"},
	{"workers", cmd_workers, "the worker pool (and nodes in a cluster)",
	"workers [--json]",
	"Lists the workers: state, the job each runs, jobs done.\n"},
	{NULL, NULL, NULL, NULL, NULL},
};
