/*
 * A minimal unit-test harness: TEST(name) defines a case, RUN(name) runs it
 * in a forked child with a fresh temporary directory as its working
 * directory, so a crash or a failed assertion fails one case, not the run.
 */
#ifndef RUNNEL_TEST_H
#define RUNNEL_TEST_H

#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST(name) static void test_##name(void)

#define FAIL(...) do {							\
	fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);			\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	exit(1);							\
} while (0)

#define ASSERT(c) do {							\
	if (!(c))							\
		FAIL("assertion failed: %s", #c);			\
} while (0)

#define ASSERT_INT(a, op, b) do {					\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (!(_a op _b))						\
		FAIL("%s %s %s: %lld vs %lld", #a, #op, #b, _a, _b);	\
} while (0)

#define ASSERT_STR(a, b) do {						\
	const char *_a = (a), *_b = (b);				\
	if (_a == NULL || _b == NULL || strcmp(_a, _b) != 0)		\
		FAIL("%s == %s: \"%s\" vs \"%s\"", #a, #b,		\
		    _a ? _a : "(null)", _b ? _b : "(null)");		\
} while (0)

static int test_failed, test_ran;
static const char *test_only;

/* n bytes no text would be, from seed: NUL, invalid UTF-8, every value. */
static inline void
test_fill_bytes(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	if (n > 3) {
		p[0] = 0;
		p[1] = 0xff;
		p[2] = 0xc3;
		p[3] = 0x28;
	}
}

static inline void
test_run(const char *name, void (*fn)(void))
{
	char	 dir[] = "/tmp/runnel-test-XXXXXX";
	pid_t	 pid;
	int	 status;

	if (test_only && strcmp(test_only, name) != 0)
		return;
	test_ran++;
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		if (chdir(dir) != 0)
			_exit(2);
		fn();
		fflush(NULL);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok   %s\n", name);
	} else {
		test_failed++;
		printf("FAIL %s (%s %d)\n", name,
		    WIFSIGNALED(status) ? "signal" : "status",
		    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
}

/* The runnel-worker built beside the tests (RUNNEL_BIN is its directory). */
static inline const char *
test_worker_path(void)
{
	static char	 path[PATH_MAX];
	const char	*bin = getenv("RUNNEL_BIN");

	if (bin == NULL)
		FAIL("RUNNEL_BIN is not set (the directory of runnel-worker)");
	snprintf(path, sizeof(path), "%s/runnel-worker", bin);
	return path;
}

#define RUN(name) test_run(#name, test_##name)
#define TEST_MAIN_BEGIN int main(int argc, char **argv) {		\
	if (argc > 1) test_only = argv[1];
/* Ends main early (the cases left need what is missing here). */
#define TEST_MAIN_RETURN						\
	do {								\
		printf("%d/%d passed\n", test_ran - test_failed, test_ran); \
		return test_failed ? 1 : (test_ran ? 0 : 1);		\
	} while (0)
#define TEST_MAIN_END							\
	TEST_MAIN_RETURN; }

#endif
