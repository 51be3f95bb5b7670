/*
 * Fuzz target for the message codec.  The input, after its first byte,
 * is a frame body; it is decoded as every type.  The first byte gives the
 * header: bit 0 a job id (7, or 0 when clear), bits 1-2 the flags.
 * Whatever decodes must encode again, and the new body decode to the same
 * message: the two sides hold one strictness.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

static volatile uint64_t fuzz_sink;

static struct frame
fuzz_frame(uint16_t type, const struct frame *in)
{
	struct frame f = *in;

	f.type = type;
	return f;
}

static void
check(int rc)
{
	if (rc != 0 && rc != -EPROTO && rc != -ENOMEM)
		abort();
}

static void
fuzz_hello(const struct frame *in)
{
	struct frame		 f = fuzz_frame(FRAME_HELLO, in), g;
	struct msg_hello	 m, again;
	struct msg_body		 b;
	int			 rc = msg_hello_decode(&f, &m, NULL);

	check(rc);
	if (rc != 0)
		return;
	if (msg_hello_encode(&b, &m, NULL) != 0)
		abort();
	g = msg_body_frame(&b, f.job_id);
	if (msg_hello_decode(&g, &again, NULL) != 0 ||
	    memcmp(&m, &again, sizeof(m)) != 0)
		abort();
	msg_body_free(&b);
}

static void
fuzz_empty(const struct frame *in)
{
	struct frame	 f = fuzz_frame(FRAME_READY, in);

	check(msg_ready_decode(&f, NULL));
	f.type = FRAME_SHUTDOWN;
	check(msg_shutdown_decode(&f, NULL));
}

static void
same_str(const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
		abort();
}

static void
same_run(const struct msg_run *a, const struct msg_run *b)
{
	if (a->attempt != b->attempt || a->argc != b->argc ||
	    a->nenv != b->nenv || a->stdin_len != b->stdin_len ||
	    a->timeout_ms != b->timeout_ms ||
	    a->kill_grace_ms != b->kill_grace_ms ||
	    memcmp(&a->limits, &b->limits, sizeof(a->limits)) != 0 ||
	    a->file.size != b->file.size)
		abort();
	same_str(a->command, b->command);
	same_str(a->cwd, b->cwd);
	same_str(a->stdin_data, b->stdin_data);
	same_str(a->file.path, b->file.path);
	same_str(a->file.name, b->file.name);
	same_str(a->file.sha256, b->file.sha256);
	for (size_t i = 0; i < a->argc; i++)
		same_str(a->argv[i], b->argv[i]);
	for (size_t i = 0; i < a->nenv; i++) {
		same_str(a->env[i].name, b->env[i].name);
		same_str(a->env[i].value, b->env[i].value);
	}
}

static void
fuzz_run(const struct frame *in)
{
	struct frame	 f = fuzz_frame(FRAME_RUN, in), g;
	struct msg_run	 m, again;
	struct msg_body	 b;
	int		 rc = msg_run_decode(&f, &m, NULL);

	check(rc);
	if (rc == 0) {
		/*
		 * Control characters sent raw come back escaped, 1e3 as
		 * 1000: a body near the limit may grow past it.
		 */
		if ((rc = msg_run_encode(&b, &m, NULL)) == -EMSGSIZE) {
			msg_run_free(&m);
			return;
		}
		if (rc != 0)
			abort();
		g = msg_body_frame(&b, f.job_id);
		if (msg_run_decode(&g, &again, NULL) != 0)
			abort();
		same_run(&m, &again);
		msg_run_free(&again);
		msg_body_free(&b);
	}
	msg_run_free(&m);
}

static void
fuzz_cancel(const struct frame *in)
{
	struct frame		 f = fuzz_frame(FRAME_CANCEL, in), g;
	struct msg_cancel	 m, again;
	struct msg_body		 b;
	int			 rc = msg_cancel_decode(&f, &m, NULL);

	check(rc);
	if (rc != 0)
		return;
	if (msg_cancel_encode(&b, &m, NULL) != 0)
		abort();
	g = msg_body_frame(&b, f.job_id);
	if (msg_cancel_decode(&g, &again, NULL) != 0 || m.reason != again.reason)
		abort();
	msg_body_free(&b);
}

static void
fuzz_started(const struct frame *in)
{
	struct frame		 f = fuzz_frame(FRAME_STARTED, in), g;
	struct msg_started	 m, again;
	struct msg_body		 b;
	int			 rc = msg_started_decode(&f, &m, NULL);

	check(rc);
	if (rc != 0)
		return;
	if (msg_started_encode(&b, &m, NULL) != 0)
		abort();
	g = msg_body_frame(&b, f.job_id);
	if (msg_started_decode(&g, &again, NULL) != 0 ||
	    m.pid != again.pid || m.started_at != again.started_at)
		abort();
	msg_body_free(&b);
}

static void
fuzz_output(const struct frame *in)
{
	struct frame		 f = fuzz_frame(FRAME_OUTPUT, in);
	struct msg_output	 m;
	struct msg_body		 b;
	uint64_t		 sum = 0;
	int			 rc = msg_output_decode(&f, &m, NULL);

	check(rc);
	if (rc != 0)
		return;
	for (size_t i = 0; i < m.length; i++)
		sum += m.data[i];
	fuzz_sink += sum;
	if (msg_output_encode(&b, &m, NULL) != 0 || b.data != f.body ||
	    b.flags != f.flags)
		abort();
	msg_body_free(&b);
}

static void
fuzz_exit(const struct frame *in)
{
	struct frame	 f = fuzz_frame(FRAME_EXIT, in), g;
	struct msg_exit	 m, again;
	struct msg_body	 b;
	int		 rc = msg_exit_decode(&f, &m, NULL);

	check(rc);
	if (rc != 0)
		return;
	if (msg_exit_encode(&b, &m, NULL) != 0)
		abort();
	g = msg_body_frame(&b, f.job_id);
	if (msg_exit_decode(&g, &again, NULL) != 0 ||
	    m.exit_code != again.exit_code || m.signal != again.signal ||
	    m.cpu_ms != again.cpu_ms || m.max_rss_kb != again.max_rss_kb ||
	    m.reason != again.reason || strcmp(m.error, again.error) != 0 ||
	    m.finished_at != again.finished_at)
		abort();
	msg_body_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame	 f;
	uint8_t		*body;

	if (size == 0 || size - 1 > FRAME_MAX_BODY)
		return 0;
	memset(&f, 0, sizeof(f));
	f.job_id = data[0] & 1 ? 7 : 0;
	f.flags = (data[0] >> 1) & 3;
	f.length = (uint32_t)(size - 1);
	/* A copy of just the body, so that ASan sees a read past its end. */
	if ((body = malloc(size - 1 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(body, data + 1, size - 1);
	f.body = body;
	fuzz_hello(&f);
	fuzz_empty(&f);
	fuzz_run(&f);
	fuzz_cancel(&f);
	fuzz_started(&f);
	fuzz_output(&f);
	fuzz_exit(&f);
	free(body);
	return 0;
}
