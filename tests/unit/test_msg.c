/*
 * The message codec: every message round-trips through its encoder and
 * decoder; absent members take their defaults; out-of-range, wrong-type,
 * missing, oversized and garbage bodies are refused by the decoder, and
 * the encoder refuses what the decoder would.
 */
#include <limits.h>
#include <stdint.h>

#include "msg.h"
#include "test.h"

static struct frame
frame_text(uint16_t type, uint16_t flags, uint64_t job_id, const char *body)
{
	struct frame f;

	memset(&f, 0, sizeof(f));
	f.type = type;
	f.flags = flags;
	f.job_id = job_id;
	f.length = (uint32_t)strlen(body);
	f.body = (const uint8_t *)body;
	return f;
}

/* Decodes body as a frame of type; returns what the decoder says. */
static int
decode_text(uint16_t type, uint64_t job_id, const char *body)
{
	uint16_t	 flags = type == FRAME_OUTPUT ? FRAME_STDOUT : 0;
	struct frame	 f = frame_text(type, flags, job_id, body);
	union {
		struct msg_hello	 hello;
		struct msg_run		 run;
		struct msg_cancel	 cancel;
		struct msg_started	 started;
		struct msg_output	 output;
		struct msg_exit		 exit;
	} m;
	const char	*why = NULL;
	int		 rc = -1;

	switch (type) {
	case FRAME_HELLO:
		rc = msg_hello_decode(&f, &m.hello, &why);
		break;
	case FRAME_READY:
		rc = msg_ready_decode(&f, &why);
		break;
	case FRAME_RUN:
		rc = msg_run_decode(&f, &m.run, &why);
		msg_run_free(&m.run);
		break;
	case FRAME_CANCEL:
		rc = msg_cancel_decode(&f, &m.cancel, &why);
		break;
	case FRAME_SHUTDOWN:
		rc = msg_shutdown_decode(&f, &why);
		break;
	case FRAME_STARTED:
		rc = msg_started_decode(&f, &m.started, &why);
		break;
	case FRAME_OUTPUT:
		rc = msg_output_decode(&f, &m.output, &why);
		break;
	case FRAME_EXIT:
		rc = msg_exit_decode(&f, &m.exit, &why);
		break;
	}
	if (rc < 0 && why == NULL)
		FAIL("%s refused without saying why", frame_type_name(type));
	return rc;
}

static void
refused(uint16_t type, uint64_t job_id, const char *body)
{
	int rc = decode_text(type, job_id, body);

	if (rc != -EPROTO)
		FAIL("%s %s: %d, not -EPROTO", frame_type_name(type), body, rc);
}

static void
accepted(uint16_t type, uint64_t job_id, const char *body)
{
	int rc = decode_text(type, job_id, body);

	if (rc != 0)
		FAIL("%s %s: refused (%d)", frame_type_name(type), body, rc);
}

#define EXIT_OK	"\"cpu_ms\":1,\"max_rss_kb\":2,\"reason\":null,\"error\":null," \
		"\"finished_at\":1700000000000"

TEST(hello_roundtrips)
{
	struct msg_hello	 in = {.version = FRAME_VERSION, .pid = 4321}, out;
	struct msg_body		 b;
	struct frame		 f;

	ASSERT_INT(msg_hello_encode(&b, &in, NULL), ==, 0);
	ASSERT_INT(b.type, ==, FRAME_HELLO);
	ASSERT_INT(b.flags, ==, 0);
	f = msg_body_frame(&b, 0);
	ASSERT_INT(msg_hello_decode(&f, &out, NULL), ==, 0);
	ASSERT_INT(out.version, ==, FRAME_VERSION);
	ASSERT_INT(out.pid, ==, 4321);
	msg_body_free(&b);
	/* Another version decodes, so that runneld can say what is wrong. */
	in.version = 7;
	ASSERT_INT(msg_hello_encode(&b, &in, NULL), ==, 0);
	f = msg_body_frame(&b, 0);
	ASSERT_INT(msg_hello_decode(&f, &out, NULL), ==, 0);
	ASSERT_INT(out.version, ==, 7);
	msg_body_free(&b);
}

TEST(ready_and_shutdown_are_empty)
{
	struct msg_body	 b;
	struct frame	 f;
	const char	*why;

	ASSERT_INT(msg_ready_encode(&b), ==, 0);
	ASSERT_INT(b.type, ==, FRAME_READY);
	ASSERT_INT(b.length, ==, 0);
	f = msg_body_frame(&b, 0);
	ASSERT_INT(msg_ready_decode(&f, NULL), ==, 0);
	msg_body_free(&b);
	ASSERT_INT(msg_shutdown_encode(&b), ==, 0);
	ASSERT_INT(b.type, ==, FRAME_SHUTDOWN);
	f = msg_body_frame(&b, 0);
	ASSERT_INT(msg_shutdown_decode(&f, NULL), ==, 0);
	msg_body_free(&b);
	refused(FRAME_READY, 0, "{}");
	refused(FRAME_SHUTDOWN, 0, " ");
	refused(FRAME_READY, 3, "");
	f = frame_text(FRAME_SHUTDOWN, 1, 0, "");
	ASSERT_INT(msg_shutdown_decode(&f, &why), ==, -EPROTO);
	ASSERT_STR(why, "flags");
	/* A frame of another type is not this message. */
	f = frame_text(FRAME_READY, 0, 0, "");
	ASSERT_INT(msg_shutdown_decode(&f, &why), ==, -EPROTO);
}

TEST(run_roundtrips_every_member)
{
	const char	*argv[] = {"ls", "-l", "", "\xc3\xa9\"\\\n"};
	struct member_env	 env[] = {{"K", "V"}, {"EMPTY", ""}, {"Q", "\"x\"\t"}};
	const char	*sha = "0123456789abcdef0123456789abcdef"
			    "0123456789abcdef0123456789abcdef";
	struct msg_run	 in, out;
	struct msg_body	 b;
	struct frame	 f;

	memset(&in, 0, sizeof(in));
	in.attempt = 3;
	in.argv = argv;
	in.argc = 4;
	in.env = env;
	in.nenv = 3;
	in.cwd = "/tmp/x";
	in.stdin_data = "line\n\x01";
	in.stdin_len = 6;
	in.timeout_ms = MSG_INT_MAX;
	in.kill_grace_ms = 0;
	in.limits.memory_mb = 64;
	in.limits.cpu_seconds = MSG_CPU_SECONDS_MAX;
	in.limits.open_files = 1;
	in.limits.processes = 32;
	in.limits.output_mb = MSG_LIMIT_MAX;
	in.file.path = "/data/files/9/a b.mp4";
	in.file.name = "a b.mp4";
	in.file.size = 12;
	in.file.sha256 = sha;
	ASSERT_INT(msg_run_encode(&b, &in, NULL), ==, 0);
	f = msg_body_frame(&b, 9);
	ASSERT_INT(msg_run_decode(&f, &out, NULL), ==, 0);
	msg_body_free(&b);	/* nothing decoded points in the frame */
	ASSERT_INT(out.attempt, ==, 3);
	ASSERT(out.command == NULL);
	ASSERT_INT(out.argc, ==, 4);
	for (size_t i = 0; i < 4; i++)
		ASSERT_STR(out.argv[i], argv[i]);
	ASSERT_INT(out.nenv, ==, 3);
	for (size_t i = 0; i < 3; i++) {
		ASSERT_STR(out.env[i].name, env[i].name);
		ASSERT_STR(out.env[i].value, env[i].value);
	}
	ASSERT_STR(out.cwd, "/tmp/x");
	ASSERT_STR(out.stdin_data, "line\n\x01");
	ASSERT_INT(out.stdin_len, ==, 6);
	ASSERT_INT(out.timeout_ms, ==, MSG_INT_MAX);
	ASSERT_INT(out.kill_grace_ms, ==, 0);
	ASSERT(memcmp(&out.limits, &in.limits, sizeof(in.limits)) == 0);
	ASSERT_STR(out.file.path, in.file.path);
	ASSERT_STR(out.file.name, in.file.name);
	ASSERT_INT(out.file.size, ==, 12);
	ASSERT_STR(out.file.sha256, sha);
	msg_run_free(&out);
	ASSERT(out.argv == NULL && out.json == NULL);
}

TEST(run_absent_members_take_their_defaults)
{
	struct msg_run	 in, out;
	struct msg_body	 b;
	struct frame	 f;

	f = frame_text(FRAME_RUN, 0, 5, "{\"command\":\"x\",\"cwd\":null,"
	    "\"stdin\":null,\"argv\":null,\"env\":{},\"limits\":null,"
	    "\"future\":{\"a\":[1]}}");
	ASSERT_INT(msg_run_decode(&f, &out, NULL), ==, 0);
	ASSERT_STR(out.command, "x");
	ASSERT(out.argv == NULL && out.argc == 0);
	ASSERT(out.env == NULL && out.nenv == 0);
	ASSERT(out.cwd == NULL && out.stdin_data == NULL);
	ASSERT_INT(out.stdin_len, ==, 0);
	ASSERT_INT(out.attempt, ==, 1);
	ASSERT_INT(out.timeout_ms, ==, 0);
	ASSERT_INT(out.kill_grace_ms, ==, MSG_KILL_GRACE_MS);
	ASSERT_INT(out.limits.memory_mb, ==, 0);
	ASSERT(out.file.path == NULL);
	msg_run_free(&out);
	/* The encoder leaves defaults out, and they come back. */
	memset(&in, 0, sizeof(in));
	in.attempt = 1;
	in.command = "echo hi";
	in.kill_grace_ms = MSG_KILL_GRACE_MS;
	ASSERT_INT(msg_run_encode(&b, &in, NULL), ==, 0);
	ASSERT_INT(b.length, ==, strlen("{\"command\":\"echo hi\"}"));
	ASSERT(memcmp(b.data, "{\"command\":\"echo hi\"}", b.length) == 0);
	f = msg_body_frame(&b, 1);
	ASSERT_INT(msg_run_decode(&f, &out, NULL), ==, 0);
	ASSERT_INT(out.attempt, ==, 1);
	ASSERT_INT(out.kill_grace_ms, ==, MSG_KILL_GRACE_MS);
	msg_run_free(&out);
	msg_body_free(&b);
	/* An empty stdin is still a stdin. */
	in.stdin_data = "";
	ASSERT_INT(msg_run_encode(&b, &in, NULL), ==, 0);
	f = msg_body_frame(&b, 1);
	ASSERT_INT(msg_run_decode(&f, &out, NULL), ==, 0);
	ASSERT_STR(out.stdin_data, "");
	msg_run_free(&out);
	msg_body_free(&b);
}

TEST(upload_run_may_have_no_command)
{
	struct msg_run	 out;
	struct frame	 f;

	f = frame_text(FRAME_RUN, 0, 5, "{\"file\":{\"path\":\"/f\",\"name\":\"f\","
	    "\"size\":0,\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4"
	    "649b934ca495991b7852b855\"}}");
	ASSERT_INT(msg_run_decode(&f, &out, NULL), ==, 0);
	ASSERT_STR(out.file.path, "/f");
	ASSERT(out.command == NULL && out.argv == NULL);
	msg_run_free(&out);
}

TEST(run_refusals)
{
	static const char *bad[] = {
		"", "null", "[]", "{}", "{\"command\":1}", "{\"argv\":[]}",
		"{\"argv\":[\"a\",2]}", "{\"argv\":\"ls\"}",
		"{\"command\":\"a\",\"argv\":[\"a\"]}",
		"{\"command\":\"a\",\"attempt\":0}",
		"{\"command\":\"a\",\"attempt\":1.5}",
		"{\"command\":\"a\",\"attempt\":1000001}",
		"{\"command\":\"a\",\"attempt\":\"1\"}",
		"{\"command\":\"a\",\"timeout_ms\":-1}",
		"{\"command\":\"a\",\"timeout_ms\":9007199254740994}",
		"{\"command\":\"a\",\"timeout_ms\":1e300}",
		"{\"command\":\"a\",\"kill_grace_ms\":\"5\"}",
		"{\"command\":\"a\",\"env\":[]}",
		"{\"command\":\"a\",\"env\":{\"A\":1}}",
		"{\"command\":\"a\",\"env\":{\"A=B\":\"c\"}}",
		"{\"command\":\"a\",\"env\":{\"\":\"c\"}}",
		"{\"command\":\"a\",\"env\":{\"A\":null}}",
		"{\"command\":\"a\",\"cwd\":\"relative\"}",
		"{\"command\":\"a\",\"cwd\":\"\"}",
		"{\"command\":\"a\",\"stdin\":5}",
		"{\"command\":\"a\",\"limits\":[]}",
		"{\"command\":\"a\",\"limits\":{\"memory_mb\":0}}",
		"{\"command\":\"a\",\"limits\":{\"memory_mb\":1048577}}",
		"{\"command\":\"a\",\"limits\":{\"cpu_seconds\":31622401}}",
		"{\"command\":\"a\",\"limits\":{\"output_mb\":-1}}",
		"{\"command\":\"a\",\"limits\":{\"processes\":true}}",
		"{\"command\":\"a\",\"file\":{}}",
		"{\"command\":\"a\",\"file\":\"/f\"}",
		"{\"file\":{\"path\":\"f\",\"name\":\"f\",\"size\":0,\"sha256\":"
		    "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}}",
		"{\"file\":{\"path\":\"/f\",\"name\":\"\",\"size\":0,\"sha256\":"
		    "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}}",
		"{\"file\":{\"path\":\"/f\",\"name\":\"f\",\"size\":-1,\"sha256\":"
		    "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}}",
		"{\"file\":{\"path\":\"/f\",\"name\":\"f\",\"size\":0,\"sha256\":"
		    "\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\"}}",
		"{\"file\":{\"path\":\"/f\",\"name\":\"f\",\"size\":0,\"sha256\":"
		    "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8\"}}",
		"{\"file\":{\"path\":\"/f\",\"name\":\"f\",\"sha256\":"
		    "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(FRAME_RUN, 5, bad[i]);
	/* The job id is the frame's, and never 0. */
	refused(FRAME_RUN, 0, "{\"command\":\"true\"}");
	accepted(FRAME_RUN, 5, "{\"command\":\"true\"}");
	accepted(FRAME_RUN, 5, "{\"command\":\"a\",\"limits\":{\"memory_mb\":null}}");
}

TEST(cancel_roundtrips_with_the_codecs_own_reason)
{
	char			 reason[] = "shutdown";
	struct msg_cancel	 in = {.reason = reason}, out;
	struct msg_body		 b;
	struct frame		 f;

	ASSERT_INT(msg_cancel_encode(&b, &in, NULL), ==, 0);
	f = msg_body_frame(&b, 8);
	ASSERT_INT(msg_cancel_decode(&f, &out, NULL), ==, 0);
	ASSERT_STR(out.reason, "shutdown");
	ASSERT(out.reason != reason);	/* outlives any buffer */
	msg_body_free(&b);
	accepted(FRAME_CANCEL, 8, "{\"reason\":\"canceled\"}");
	refused(FRAME_CANCEL, 8, "{\"reason\":\"bored\"}");
	refused(FRAME_CANCEL, 8, "{\"reason\":null}");
	refused(FRAME_CANCEL, 8, "{}");
	refused(FRAME_CANCEL, 0, "{\"reason\":\"canceled\"}");
	in.reason = "bored";
	ASSERT_INT(msg_cancel_encode(&b, &in, NULL), ==, -EINVAL);
	in.reason = NULL;
	ASSERT_INT(msg_cancel_encode(&b, &in, NULL), ==, -EINVAL);
}

TEST(started_roundtrips)
{
	struct msg_started	 in = {.pid = INT_MAX, .started_at = MSG_INT_MAX};
	struct msg_started	 out;
	struct msg_body		 b;
	struct frame		 f;

	ASSERT_INT(msg_started_encode(&b, &in, NULL), ==, 0);
	f = msg_body_frame(&b, 2);
	ASSERT_INT(msg_started_decode(&f, &out, NULL), ==, 0);
	ASSERT_INT(out.pid, ==, INT_MAX);
	ASSERT_INT(out.started_at, ==, MSG_INT_MAX);
	msg_body_free(&b);
	refused(FRAME_STARTED, 2, "{\"pid\":0,\"started_at\":1}");
	refused(FRAME_STARTED, 2, "{\"pid\":2147483648,\"started_at\":1}");
	refused(FRAME_STARTED, 2, "{\"pid\":-4,\"started_at\":1}");
	refused(FRAME_STARTED, 2, "{\"pid\":4,\"started_at\":0}");
	refused(FRAME_STARTED, 2, "{\"pid\":4}");
	refused(FRAME_STARTED, 2, "{\"pid\":4,\"started_at\":null}");
	refused(FRAME_STARTED, 2, "{\"pid\":\"4\",\"started_at\":1}");
	in.pid = 0;
	ASSERT_INT(msg_started_encode(&b, &in, NULL), ==, -EINVAL);
}

TEST(output_roundtrips_without_a_copy)
{
	static const uint8_t	 bytes[] = {0, 1, 2, 0xff, '\n'};
	static uint8_t		 big[FRAME_OUTPUT_CHUNK + 1];
	struct msg_output	 in = {FRAME_STDERR, bytes, sizeof(bytes)}, out;
	struct msg_body		 b;
	struct frame		 f;
	const char		*why;

	ASSERT_INT(msg_output_encode(&b, &in, NULL), ==, 0);
	ASSERT_INT(b.flags, ==, FRAME_STDERR);
	ASSERT(b.data == bytes && b.buf == NULL);
	f = msg_body_frame(&b, 3);
	ASSERT_INT(msg_output_decode(&f, &out, NULL), ==, 0);
	ASSERT_INT(out.stream, ==, FRAME_STDERR);
	ASSERT(out.data == bytes);
	ASSERT_INT(out.length, ==, sizeof(bytes));
	msg_body_free(&b);
	/* Flags name one stream; the body is 1 byte to one chunk. */
	for (uint16_t flags = 0; flags < 8; flags++) {
		f = frame_text(FRAME_OUTPUT, flags, 3, "x");
		ASSERT_INT(msg_output_decode(&f, &out, NULL), ==,
		    flags == FRAME_STDOUT || flags == FRAME_STDERR ? 0 : -EPROTO);
	}
	f = frame_text(FRAME_OUTPUT, FRAME_STDOUT, 3, "");
	ASSERT_INT(msg_output_decode(&f, &out, &why), ==, -EPROTO);
	f.body = big;
	f.length = sizeof(big);
	ASSERT_INT(msg_output_decode(&f, &out, &why), ==, -EPROTO);
	ASSERT_STR(why, "body length");
	f.length--;
	ASSERT_INT(msg_output_decode(&f, &out, NULL), ==, 0);
	f = frame_text(FRAME_OUTPUT, FRAME_STDOUT, 0, "x");
	ASSERT_INT(msg_output_decode(&f, &out, NULL), ==, -EPROTO);
	in.stream = 3;
	ASSERT_INT(msg_output_encode(&b, &in, NULL), ==, -EINVAL);
	in.stream = FRAME_STDOUT;
	in.length = 0;
	ASSERT_INT(msg_output_encode(&b, &in, NULL), ==, -EINVAL);
	in.data = big;
	in.length = sizeof(big);
	ASSERT_INT(msg_output_encode(&b, &in, NULL), ==, -EINVAL);
}

TEST(exit_roundtrips)
{
	struct msg_exit	 in, out;
	struct msg_body	 b;
	struct frame	 f;

	memset(&in, 0, sizeof(in));
	in.exit_code = 127;
	in.signal = -1;
	in.cpu_ms = 12;
	in.max_rss_kb = 3400;
	in.reason = "spawn";
	snprintf(in.error, sizeof(in.error), "exec failed: \"No such file\"");
	in.finished_at = 1700000000123;
	ASSERT_INT(msg_exit_encode(&b, &in, NULL), ==, 0);
	f = msg_body_frame(&b, 4);
	ASSERT_INT(msg_exit_decode(&f, &out, NULL), ==, 0);
	msg_body_free(&b);
	ASSERT_INT(out.exit_code, ==, 127);
	ASSERT_INT(out.signal, ==, -1);
	ASSERT_INT(out.cpu_ms, ==, 12);
	ASSERT_INT(out.max_rss_kb, ==, 3400);
	ASSERT_STR(out.reason, "spawn");
	ASSERT_STR(out.error, in.error);
	ASSERT_INT(out.finished_at, ==, 1700000000123);
	/* Every reason, a signal, and the nulls. */
	for (size_t i = 0; msg_exit_reasons[i] != NULL; i++) {
		in.reason = msg_exit_reasons[i];
		in.exit_code = -1;
		in.signal = MSG_SIGNAL_MAX;
		in.error[0] = '\0';
		ASSERT_INT(msg_exit_encode(&b, &in, NULL), ==, 0);
		f = msg_body_frame(&b, 4);
		ASSERT_INT(msg_exit_decode(&f, &out, NULL), ==, 0);
		ASSERT_STR(out.reason, msg_exit_reasons[i]);
		ASSERT_INT(out.exit_code, ==, -1);
		ASSERT_INT(out.signal, ==, MSG_SIGNAL_MAX);
		ASSERT_STR(out.error, "");
		msg_body_free(&b);
	}
	in.reason = NULL;
	ASSERT_INT(msg_exit_encode(&b, &in, NULL), ==, 0);
	f = msg_body_frame(&b, 4);
	ASSERT_INT(msg_exit_decode(&f, &out, NULL), ==, 0);
	ASSERT(out.reason == NULL);
	msg_body_free(&b);
	/* The longest error there is. */
	memset(in.error, 'e', MSG_ERROR_MAX);
	in.error[MSG_ERROR_MAX] = '\0';
	ASSERT_INT(msg_exit_encode(&b, &in, NULL), ==, 0);
	f = msg_body_frame(&b, 4);
	ASSERT_INT(msg_exit_decode(&f, &out, NULL), ==, 0);
	ASSERT_INT(strlen(out.error), ==, MSG_ERROR_MAX);
	msg_body_free(&b);
}

TEST(exit_refusals)
{
	static const char *bad[] = {
		"{\"exit_code\":256,\"signal\":null," EXIT_OK "}",
		"{\"exit_code\":-1,\"signal\":null," EXIT_OK "}",
		"{\"exit_code\":0.5,\"signal\":null," EXIT_OK "}",
		"{\"exit_code\":\"0\",\"signal\":null," EXIT_OK "}",
		"{\"exit_code\":0,\"signal\":0," EXIT_OK "}",
		"{\"exit_code\":0,\"signal\":65," EXIT_OK "}",
		"{\"signal\":null," EXIT_OK "}",
		"{\"exit_code\":0," EXIT_OK "}",
		"{\"exit_code\":0,\"signal\":null,\"cpu_ms\":-1,\"max_rss_kb\":2,"
		    "\"reason\":null,\"error\":null,\"finished_at\":1}",
		"{\"exit_code\":0,\"signal\":null,\"cpu_ms\":null,\"max_rss_kb\":2,"
		    "\"reason\":null,\"error\":null,\"finished_at\":1}",
		"{\"exit_code\":0,\"signal\":null,\"cpu_ms\":1,\"max_rss_kb\":1e16,"
		    "\"reason\":null,\"error\":null,\"finished_at\":1}",
		"{\"exit_code\":0,\"signal\":null,\"cpu_ms\":1,\"max_rss_kb\":2,"
		    "\"reason\":\"bored\",\"error\":null,\"finished_at\":1}",
		"{\"exit_code\":0,\"signal\":null,\"cpu_ms\":1,\"max_rss_kb\":2,"
		    "\"reason\":5,\"error\":null,\"finished_at\":1}",
		"{\"exit_code\":0,\"signal\":null,\"cpu_ms\":1,\"max_rss_kb\":2,"
		    "\"reason\":null,\"error\":\"\",\"finished_at\":1}",
		"{\"exit_code\":0,\"signal\":null,\"cpu_ms\":1,\"max_rss_kb\":2,"
		    "\"reason\":null,\"error\":[],\"finished_at\":1}",
		"{\"exit_code\":0,\"signal\":null,\"cpu_ms\":1,\"max_rss_kb\":2,"
		    "\"reason\":null,\"error\":null,\"finished_at\":0}",
		"{\"exit_code\":0,\"signal\":null,\"cpu_ms\":1,\"max_rss_kb\":2,"
		    "\"reason\":null,\"error\":null}",
	};
	char	 body[1024];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(FRAME_EXIT, 4, bad[i]);
	accepted(FRAME_EXIT, 4, "{\"exit_code\":0,\"signal\":null," EXIT_OK "}");
	refused(FRAME_EXIT, 0, "{\"exit_code\":0,\"signal\":null," EXIT_OK "}");
	/* An error one byte too long. */
	snprintf(body, sizeof(body), "{\"exit_code\":0,\"signal\":null,"
	    "\"cpu_ms\":1,\"max_rss_kb\":2,\"reason\":\"spawn\",\"error\":"
	    "\"%0*d\",\"finished_at\":1}", MSG_ERROR_MAX + 1, 0);
	refused(FRAME_EXIT, 4, body);
}

TEST(encoders_refuse_what_decoders_would)
{
	const char	*argv[] = {"a", NULL};
	struct member_env	 env[] = {{"A=B", "c"}};
	struct msg_hello h = {.version = -1, .pid = 1};
	struct msg_exit	 ex;
	struct msg_run	 run;
	struct msg_body	 b;
	const char	*why = NULL;

	ASSERT_INT(msg_hello_encode(&b, &h, &why), ==, -EINVAL);
	ASSERT_STR(why, "version");
	ASSERT(b.buf == NULL && b.length == 0);
	memset(&ex, 0, sizeof(ex));
	ex.exit_code = 256;
	ex.signal = -1;
	ex.finished_at = 1;
	ASSERT_INT(msg_exit_encode(&b, &ex, &why), ==, -EINVAL);
	ASSERT_STR(why, "exit_code");
	ex.exit_code = 0;
	ex.signal = 0;
	ASSERT_INT(msg_exit_encode(&b, &ex, &why), ==, -EINVAL);
	ASSERT_STR(why, "signal");
	ex.signal = -1;
	ex.reason = "bored";
	ASSERT_INT(msg_exit_encode(&b, &ex, &why), ==, -EINVAL);
	ASSERT_STR(why, "reason");
	ex.reason = NULL;
	memset(ex.error, 'x', sizeof(ex.error));	/* no NUL in it */
	ASSERT_INT(msg_exit_encode(&b, &ex, &why), ==, -EINVAL);
	ASSERT_STR(why, "error");
	ex.error[0] = '\0';
	ex.finished_at = 0;
	ASSERT_INT(msg_exit_encode(&b, &ex, &why), ==, -EINVAL);
	ASSERT_STR(why, "finished_at");

	memset(&run, 0, sizeof(run));
	run.attempt = 1;
	run.kill_grace_ms = 1;
	ASSERT_INT(msg_run_encode(&b, &run, &why), ==, -EINVAL);
	ASSERT_STR(why, "neither command nor argv");
	run.command = "a";
	run.argv = argv;
	run.argc = 1;
	ASSERT_INT(msg_run_encode(&b, &run, &why), ==, -EINVAL);
	ASSERT_STR(why, "both command and argv");
	run.command = NULL;
	run.argc = 2;		/* a NULL string */
	ASSERT_INT(msg_run_encode(&b, &run, &why), ==, -EINVAL);
	ASSERT_STR(why, "argv");
	run.argc = 1;
	run.env = env;
	run.nenv = 1;
	ASSERT_INT(msg_run_encode(&b, &run, &why), ==, -EINVAL);
	ASSERT_STR(why, "env");
	run.nenv = 0;
	run.cwd = "rel";
	ASSERT_INT(msg_run_encode(&b, &run, &why), ==, -EINVAL);
	ASSERT_STR(why, "cwd");
	run.cwd = NULL;
	run.attempt = 0;
	ASSERT_INT(msg_run_encode(&b, &run, &why), ==, -EINVAL);
	ASSERT_STR(why, "attempt");
	run.attempt = 1;
	run.limits.memory_mb = MSG_LIMIT_MAX + 1;
	ASSERT_INT(msg_run_encode(&b, &run, &why), ==, -EINVAL);
	ASSERT_STR(why, "limits");
	run.limits.memory_mb = 0;
	run.file.size = 3;	/* a file without a path */
	ASSERT_INT(msg_run_encode(&b, &run, &why), ==, -EINVAL);
	ASSERT_STR(why, "file");
	run.file.size = 0;
	run.stdin_data = "ab";
	run.stdin_len = 3;	/* a NUL cannot travel */
	ASSERT_INT(msg_run_encode(&b, &run, &why), ==, -EINVAL);
	ASSERT_STR(why, "stdin");
	run.stdin_len = 2;
	ASSERT_INT(msg_run_encode(&b, &run, NULL), ==, 0);
	msg_body_free(&b);
}

TEST(oversized_bodies_are_refused)
{
	struct msg_run	 run;
	struct msg_body	 b;
	struct frame	 f;
	const char	*why;
	char		*big;
	size_t		 n = FRAME_MAX_BODY;

	/* Lengths are checked before anything is parsed. */
	ASSERT((big = malloc(n + 1)) != NULL);
	memset(big, ' ', n);
	big[n] = '\0';
	memcpy(big, "{\"version\":1,\"pid\":2}", 21);
	f = frame_text(FRAME_HELLO, 0, 0, big);
	f.length = MSG_SMALL_BODY_MAX;
	ASSERT_INT(msg_hello_decode(&f, &(struct msg_hello){0}, NULL), ==, 0);
	f.length++;
	ASSERT_INT(msg_hello_decode(&f, &(struct msg_hello){0}, &why), ==,
	    -EPROTO);
	ASSERT_STR(why, "body length");
	f.type = FRAME_EXIT;
	f.job_id = 1;
	f.length = MSG_EXIT_BODY_MAX + 1;
	ASSERT_INT(msg_exit_decode(&f, &(struct msg_exit){0}, &why), ==,
	    -EPROTO);
	ASSERT_STR(why, "body length");
	/* A RUN that would not fit in a frame is not made. */
	memset(&run, 0, sizeof(run));
	run.attempt = 1;
	run.kill_grace_ms = 1;
	run.command = "cat";
	memset(big, '\x01', n);		/* escaped as \u0001: six bytes each */
	big[n / 4] = '\0';
	run.stdin_data = big;
	run.stdin_len = n / 4;
	ASSERT_INT(msg_run_encode(&b, &run, &why), ==, -EMSGSIZE);
	ASSERT_STR(why, "body length");
	ASSERT(b.buf == NULL);
	big[n / 4] = '\x01';
	run.stdin_len = n / 8;
	big[n / 8] = '\0';
	ASSERT_INT(msg_run_encode(&b, &run, NULL), ==, 0);
	f = msg_body_frame(&b, 1);
	ASSERT_INT(msg_run_decode(&f, &run, NULL), ==, 0);
	ASSERT_INT(run.stdin_len, ==, n / 8);
	msg_run_free(&run);
	msg_body_free(&b);
	/* argv: more than MSG_ARGV_MAX strings. */
	{
		size_t	 len = 2 + 4 * (MSG_ARGV_MAX + 1) + 16, off;
		char	*s;

		ASSERT((s = malloc(len)) != NULL);
		off = (size_t)sprintf(s, "{\"argv\":[");
		for (int i = 0; i <= MSG_ARGV_MAX; i++)
			off += (size_t)sprintf(s + off, "%s\"a\"", i ? "," : "");
		sprintf(s + off, "]}");
		refused(FRAME_RUN, 1, s);
		/* one fewer is fine */
		memmove(s + 9, s + 13, strlen(s + 13) + 1);
		accepted(FRAME_RUN, 1, s);
		free(s);
	}
	free(big);
}

TEST(garbage_is_refused)
{
	static const char *garbage[] = {
		"", " ", "{", "}", "null", "true", "1", "\"s\"", "[]",
		"{\"version\":1,\"pid\":2}x", "{\"version\":1,\"pid\":2}{}",
		"{\"version\":1,\"pid\":2,}", "{'version':1}", "\xff\xfe",
		"{\"version\":1 \"pid\":2}",
	};
	static const uint16_t json_types[] = {
		FRAME_HELLO, FRAME_RUN, FRAME_CANCEL, FRAME_STARTED, FRAME_EXIT
	};
	struct frame	 f;
	uint8_t		 nul_body[] = "{\"version\":1,\"pid\":2}\0";

	for (size_t t = 0; t < sizeof(json_types) / sizeof(json_types[0]); t++)
		for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
			refused(json_types[t], json_types[t] == FRAME_HELLO ? 0 : 1,
			    garbage[i]);
	/* Space after the object is fine; a NUL is not. */
	accepted(FRAME_HELLO, 0, " {\"version\":1,\"pid\":2}\n\t ");
	f = frame_text(FRAME_HELLO, 0, 0, "");
	f.body = nul_body;
	f.length = sizeof(nul_body) - 1;
	ASSERT_INT(msg_hello_decode(&f, &(struct msg_hello){0}, NULL), ==,
	    -EPROTO);
	/* Wrong types and missing members. */
	refused(FRAME_HELLO, 0, "{\"version\":\"1\",\"pid\":2}");
	refused(FRAME_HELLO, 0, "{\"version\":1,\"pid\":true}");
	refused(FRAME_HELLO, 0, "{\"version\":1}");
	refused(FRAME_HELLO, 0, "{\"pid\":2}");
	refused(FRAME_HELLO, 0, "{\"version\":null,\"pid\":2}");
	refused(FRAME_HELLO, 0, "{\"version\":1,\"pid\":0}");
	refused(FRAME_HELLO, 0, "{\"version\":2147483648,\"pid\":2}");
	refused(FRAME_HELLO, 0, "{\"version\":1,\"pid\":NaN}");
	refused(FRAME_HELLO, 1, "{\"version\":1,\"pid\":2}");
	accepted(FRAME_HELLO, 0, "{\"pid\":2,\"version\":1,\"extra\":[1,{}]}");
}

/* Every prefix of a valid body is refused or decoded, never a crash. */
TEST(truncated_bodies_never_crash)
{
	static const struct {
		uint16_t	 type;
		uint64_t	 job;
		const char	*body;
	} valid[] = {
		{FRAME_HELLO, 0, "{\"version\":1,\"pid\":2}"},
		{FRAME_RUN, 1, "{\"attempt\":2,\"argv\":[\"ls\",\"-l\"],\"env\":"
		    "{\"A\":\"b\"},\"cwd\":\"/\",\"stdin\":\"x\\u0001\",\"limits\":"
		    "{\"memory_mb\":2},\"file\":{\"path\":\"/f\",\"name\":\"f\","
		    "\"size\":0,\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae"
		    "41e4649b934ca495991b7852b855\"}}"},
		{FRAME_CANCEL, 1, "{\"reason\":\"canceled\"}"},
		{FRAME_STARTED, 1, "{\"pid\":2,\"started_at\":3}"},
		{FRAME_EXIT, 1, "{\"exit_code\":null,\"signal\":9,\"cpu_ms\":1,"
		    "\"max_rss_kb\":2,\"reason\":\"timeout\",\"error\":\"e\","
		    "\"finished_at\":3}"},
	};

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		size_t	 n = strlen(valid[i].body);

		accepted(valid[i].type, valid[i].job, valid[i].body);
		for (size_t k = 0; k < n; k++) {
			char	*cut = malloc(k + 1);

			ASSERT(cut != NULL);
			memcpy(cut, valid[i].body, k);
			cut[k] = '\0';
			refused(valid[i].type, valid[i].job, cut);
			free(cut);
		}
	}
}

TEST_MAIN_BEGIN
	RUN(hello_roundtrips);
	RUN(ready_and_shutdown_are_empty);
	RUN(run_roundtrips_every_member);
	RUN(run_absent_members_take_their_defaults);
	RUN(upload_run_may_have_no_command);
	RUN(run_refusals);
	RUN(cancel_roundtrips_with_the_codecs_own_reason);
	RUN(started_roundtrips);
	RUN(output_roundtrips_without_a_copy);
	RUN(exit_roundtrips);
	RUN(exit_refusals);
	RUN(encoders_refuse_what_decoders_would);
	RUN(oversized_bodies_are_refused);
	RUN(garbage_is_refused);
	RUN(truncated_bodies_never_crash);
TEST_MAIN_END
