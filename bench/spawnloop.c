/*
 * The baseline of bench/e2e.py: N processes started with posix_spawn, at
 * most P at once, each waited for; as bare as running many small commands
 * can be.  Prints the seconds it took.
 *
 *   spawnloop N P sh     each process is /bin/sh -c true
 *   spawnloop N P exec   each process is /bin/true
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int
main(int argc, char **argv)
{
	char		*sh_argv[] = {"/bin/sh", "-c", "true", NULL};
	char		*true_argv[] = {"/bin/true", NULL};
	char		**av;
	struct timespec	 t0, t1;
	long		 n, p, started = 0, running = 0;
	pid_t		 pid;
	int		 status;

	if (argc != 4 || (strcmp(argv[3], "sh") != 0 &&
	    strcmp(argv[3], "exec") != 0)) {
		fprintf(stderr, "usage: spawnloop N P sh|exec\n");
		return 2;
	}
	n = atol(argv[1]);
	p = atol(argv[2]);
	av = strcmp(argv[3], "sh") == 0 ? sh_argv : true_argv;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (started < n || running > 0) {
		if (started < n && running < p) {
			if (posix_spawn(&pid, av[0], NULL, NULL, av, environ) != 0) {
				perror("posix_spawn");
				return 1;
			}
			started++;
			running++;
			continue;
		}
		if (wait(&status) > 0)
			running--;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.4f\n", (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
