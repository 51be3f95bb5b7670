/* Job spec validation: what is accepted, and the field each refusal names. */
#include "api/spec.h"
#include "test.h"

static int
parse(const char *body, struct job **jobs, size_t *n, struct api_error *e)
{
	int batch;

	return spec_parse_body(body, strlen(body), jobs, n, &batch, e);
}

/* Asserts that body is refused with status, code and field. */
static void
refused(const char *body, int status, const char *code, const char *field)
{
	struct api_error	 e;
	struct job		*jobs = NULL;
	size_t			 n = 0;

	if (parse(body, &jobs, &n, &e) == 0)
		FAIL("accepted: %s", body);
	if (e.status != status || strcmp(e.code, code) != 0 ||
	    strcmp(e.field, field) != 0)
		FAIL("%s: got %d %s field=\"%s\" (%s); want %d %s field=\"%s\"",
		    body, e.status, e.code, e.field, e.message, status, code,
		    field);
	ASSERT(jobs == NULL);
}

TEST(minimal_spec_gets_defaults)
{
	struct api_error	 e;
	struct job		*j;
	size_t			 n;

	ASSERT_INT(parse("{\"command\":\"echo hi\"}", &j, &n, &e), ==, 0);
	ASSERT_INT(n, ==, 1);
	ASSERT_STR(j->command, "echo hi");
	ASSERT_STR(j->queue, "default");
	ASSERT_INT(j->priority, ==, 0);
	ASSERT_INT(j->max_attempts, ==, 1);
	ASSERT_INT(j->timeout_ms, ==, 0);
	ASSERT(j->argv_json == NULL && j->env_json == NULL && !j->has_stdin);
	job_free_all(j, n);
}

TEST(full_spec_is_kept)
{
	struct api_error	 e;
	struct job		*j;
	size_t			 n;
	const char		*body = "{\"argv\":[\"ls\",\"-l\"],\"name\":\"x\","
	    "\"queue\":\"media.v2\",\"priority\":-5,\"timeout\":1.5,"
	    "\"env\":{\"A_1\":\"b\"},\"cwd\":\"/tmp\",\"stdin\":\"in\","
	    "\"max_attempts\":1}";

	ASSERT_INT(parse(body, &j, &n, &e), ==, 0);
	ASSERT_STR(j->argv_json, "[\"ls\",\"-l\"]");
	ASSERT_STR(j->name, "x");
	ASSERT_STR(j->queue, "media.v2");
	ASSERT_INT(j->priority, ==, -5);
	ASSERT_INT(j->timeout_ms, ==, 1500);
	ASSERT_STR(j->env_json, "{\"A_1\":\"b\"}");
	ASSERT_STR(j->cwd, "/tmp");
	ASSERT_STR(j->stdin_data, "in");
	job_free_all(j, n);
}

TEST(batch_keeps_order)
{
	struct api_error	 e;
	struct job		*j;
	size_t			 n;

	ASSERT_INT(parse("[{\"command\":\"a\"},{\"command\":\"b\",\"priority\":3}]",
	    &j, &n, &e), ==, 0);
	ASSERT_INT(n, ==, 2);
	ASSERT_STR(j[0].command, "a");
	ASSERT_STR(j[1].command, "b");
	ASSERT_INT(j[1].priority, ==, 3);
	job_free_all(j, n);
}

TEST(malformed_json_is_refused)
{
	refused("", 400, "invalid_json", "");
	refused("{", 400, "invalid_json", "");
	refused("{\"command\":\"x\"", 400, "invalid_json", "");
	refused("{\"command\":\"x\"} x", 400, "invalid_json", "");
	refused("{\"command\":\"\xff\"}", 400, "invalid_json", "");
	refused("{\"command\":\"\xc0\xaf\"}", 400, "invalid_json", "");
	refused("{\"command\":\"x\",\"command\":\"y\"}", 400, "invalid_json",
	    "command");
	refused("{\"command\":\"x\",\"env\":{\"A\":\"1\",\"A\":\"2\"}}", 400,
	    "invalid_json", "env");
}

TEST(a_nul_is_refused_in_the_field_that_holds_it)
{
	refused("{\"command\":\"a\\u0000b\"}", 400, "invalid_field", "command");
	refused("{\"command\":\"a\",\"env\":{\"A\\u0000B\":\"x\"}}", 400,
	    "invalid_field", "env");
	refused("{\"command\":\"a\",\"env\":{\"A\":{\"b\":\"\\u0000\"}}}", 400,
	    "invalid_field", "env");
	refused("[{\"command\":\"a\"},{\"command\":\"b\",\"name\":\"\\u0000\"}]",
	    400, "invalid_field", "[1].name");
	refused("[{\"command\":\"a\"},{\"comm\\u0000and\":\"b\"}]", 400,
	    "invalid_field", "");
	/* before it, a malformed body is still malformed */
	refused("{\"command\":\"a\\u0000b\" x}", 400, "invalid_json", "");
}

TEST(only_strict_json_is_accepted)
{
	/* What cJSON alone would let through. */
	refused("{\"command\":\"x\",\"priority\":01}", 400, "invalid_json", "");
	refused("{\"command\":\"x\",\"priority\":1.}", 400, "invalid_json", "");
	refused("{\"command\":\"x\",\"priority\":.5}", 400, "invalid_json", "");
	refused("{\"command\":\"x\",\"priority\":-}", 400, "invalid_json", "");
	refused("{\"command\":\"a\tb\"}", 400, "invalid_json", "");
	refused("{\"command\":\"a\nb\"}", 400, "invalid_json", "");
	refused("{\"command\":\"\\ud800\"}", 400, "invalid_json", "");
	refused("{\"command\":\"\\udc00x\"}", 400, "invalid_json", "");
	refused("{\"command\":\"\\x\"}", 400, "invalid_json", "");
	refused("{\"command\":\"x\",}", 400, "invalid_json", "");
	refused("[{\"command\":\"x\"},]", 400, "invalid_json", "");
	refused("{'command':'x'}", 400, "invalid_json", "");
	refused("{\"command\":\"x\"}{}", 400, "invalid_json", "");
	refused("{\"command\":tru}", 400, "invalid_json", "");
	refused("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	    400, "invalid_json", "");
}

TEST(strict_json_that_is_valid_is_accepted)
{
	struct api_error	 e;
	struct job		*j;
	size_t			 n;

	ASSERT_INT(parse(" {\"command\" : \"a\\u00e9\\ud83d\\ude00\\/\" ,"
	    "\"priority\":-0, \"timeout\":1.5e1}\n", &j, &n, &e), ==, 0);
	ASSERT_STR(j->command, "a\xc3\xa9\xf0\x9f\x98\x80/");
	ASSERT_INT(j->timeout_ms, ==, 15000);
	job_free_all(j, n);
}

TEST(wrong_types_name_their_field)
{
	refused("42", 400, "invalid_field", "");
	refused("{\"command\":5}", 400, "invalid_field", "command");
	refused("{\"command\":\"\"}", 400, "invalid_field", "command");
	refused("{\"command\":\"  \\n\"}", 400, "invalid_field", "command");
	refused("{}", 400, "invalid_field", "command");
	refused("{\"command\":\"x\",\"argv\":[\"y\"]}", 400, "invalid_field", "argv");
	refused("{\"argv\":[]}", 400, "invalid_field", "argv");
	refused("{\"argv\":[1]}", 400, "invalid_field", "argv");
	refused("{\"argv\":\"ls\"}", 400, "invalid_field", "argv");
	refused("{\"argv\":[\"\"]}", 400, "invalid_field", "argv");
	refused("{\"command\":\"x\",\"priority\":\"high\"}", 400, "invalid_field",
	    "priority");
	refused("{\"command\":\"x\",\"priority\":1.5}", 400, "invalid_field",
	    "priority");
	refused("{\"command\":\"x\",\"priority\":1000001}", 400, "invalid_field",
	    "priority");
	refused("{\"command\":\"x\",\"queue\":\"bad queue\"}", 400,
	    "invalid_field", "queue");
	refused("{\"command\":\"x\",\"queue\":\"\"}", 400, "invalid_field", "queue");
	refused("{\"command\":\"x\",\"timeout\":0}", 400, "invalid_field", "timeout");
	refused("{\"command\":\"x\",\"timeout\":-1}", 400, "invalid_field", "timeout");
	refused("{\"command\":\"x\",\"timeout\":\"1\"}", 400, "invalid_field",
	    "timeout");
	refused("{\"command\":\"x\",\"env\":{\"A=B\":\"x\"}}", 400,
	    "invalid_field", "env");
	refused("{\"command\":\"x\",\"env\":{\"1A\":\"x\"}}", 400,
	    "invalid_field", "env");
	refused("{\"command\":\"x\",\"env\":{\"A\":1}}", 400, "invalid_field", "env");
	refused("{\"command\":\"x\",\"env\":[]}", 400, "invalid_field", "env");
	refused("{\"command\":\"x\",\"cwd\":\"tmp\"}", 400, "invalid_field", "cwd");
	refused("{\"command\":\"x\",\"cwd\":\"/no/such/dir\"}", 400,
	    "invalid_field", "cwd");
	refused("{\"command\":\"x\",\"stdin\":3}", 400, "invalid_field", "stdin");
	refused("{\"command\":\"x\",\"name\":[]}", 400, "invalid_field", "name");
	refused("{\"command\":\"x\",\"max_attempts\":0}", 400, "invalid_field",
	    "max_attempts");
}

TEST(unknown_fields_are_refused)
{
	refused("{\"command\":\"x\",\"colour\":1}", 400, "unknown_field", "colour");
	refused("{\"command\":\"x\",\"limits\":{\"gpus\":1}}", 400,
	    "unknown_field", "limits.gpus");
}

TEST(flow_control_fields_are_checked)
{
	refused("{\"command\":\"x\",\"max_attempts\":101}", 400,
	    "invalid_field", "max_attempts");
	refused("{\"command\":\"x\",\"delay\":-1}", 400, "invalid_field", "delay");
	refused("{\"command\":\"x\",\"delay\":\"1\"}", 400, "invalid_field",
	    "delay");
	refused("{\"command\":\"x\",\"delay\":1,\"run_at\":\"2030-01-01T00:00:00Z\"}",
	    400, "invalid_field", "run_at");
	refused("{\"command\":\"x\",\"run_at\":\"tomorrow\"}", 400,
	    "invalid_field", "run_at");
	refused("{\"command\":\"x\",\"after\":3}", 400, "invalid_field", "after");
	refused("{\"command\":\"x\",\"after\":[0]}", 400, "invalid_field", "after");
	refused("{\"command\":\"x\",\"after\":[1.5]}", 400, "invalid_field", "after");
	refused("{\"command\":\"x\",\"after\":[\"1\"]}", 400, "invalid_field",
	    "after");
	refused("{\"command\":\"x\",\"limits\":[]}", 400, "invalid_field", "limits");
	refused("{\"command\":\"x\",\"limits\":{\"memory_mb\":0}}", 400,
	    "invalid_field", "limits.memory_mb");
	refused("{\"command\":\"x\",\"limits\":{\"output_mb\":\"1\"}}", 400,
	    "invalid_field", "limits.output_mb");
}

TEST(flow_control_fields_are_kept)
{
	struct api_error	 e;
	struct job		*j;
	size_t			 n;

	ASSERT_INT(parse("{\"command\":\"x\",\"max_attempts\":5,\"delay\":2.5,"
	    "\"after\":[3,4,3],\"limits\":{\"memory_mb\":64,\"output_mb\":1}}",
	    &j, &n, &e), ==, 0);
	ASSERT_INT(j->max_attempts, ==, 5);
	ASSERT(j->run_at > 0);
	ASSERT_INT(j->nafter, ==, 2);
	ASSERT_INT(j->after[0], ==, 3);
	ASSERT_INT(j->after[1], ==, 4);
	ASSERT_STR(j->limits_json, "{\"memory_mb\":64,\"output_mb\":1}");
	job_free_all(j, n);
	/* A time in the past means now. */
	ASSERT_INT(parse("{\"command\":\"x\",\"run_at\":\"2001-01-01T00:00:00Z\"}",
	    &j, &n, &e), ==, 0);
	ASSERT(j->run_at > 1700000000000LL);
	job_free_all(j, n);
}

TEST(batch_refusal_names_the_item)
{
	refused("[{\"command\":\"a\"},{\"command\":\"b\",\"priority\":\"x\"}]",
	    400, "invalid_field", "[1].priority");
	refused("[]", 400, "invalid_field", "");
	refused("[{\"command\":\"a\"},7]", 400, "invalid_field", "[1]");
}

TEST(batch_over_the_limit_is_too_large)
{
	size_t	 n = SPEC_BATCH_MAX + 1, len = 0;
	char	*body = malloc(n * 20 + 8);

	body[len++] = '[';
	for (size_t i = 0; i < n; i++)
		len += sprintf(body + len, "%s{\"command\":\"x\"}", i ? "," : "");
	body[len++] = ']';
	body[len] = '\0';
	refused(body, 413, "too_large", "");
	free(body);
}

TEST(over_long_command_is_refused)
{
	size_t	 n = JOB_COMMAND_MAX + 1;
	char	*body = malloc(n + 32);

	strcpy(body, "{\"command\":\"");
	memset(body + 12, 'a', n);
	strcpy(body + 12 + n, "\"}");
	refused(body, 400, "invalid_field", "command");
	body[12 + n - 1] = '\0';
	strcat(body, "\"}");
	{
		struct api_error e;
		struct job *j;
		size_t cnt;

		ASSERT_INT(parse(body, &j, &cnt, &e), ==, 0);
		job_free_all(j, cnt);
	}
	free(body);
}

TEST(utf8_names_are_kept)
{
	struct api_error	 e;
	struct job		*j;
	size_t			 n;

	ASSERT_INT(parse("{\"command\":\"echo \xe8\xa7\x86\xe9\xa2\x91\","
	    "\"name\":\"\\u00e9t\\u00e9\"}", &j, &n, &e), ==, 0);
	ASSERT_STR(j->command, "echo \xe8\xa7\x86\xe9\xa2\x91");
	ASSERT_STR(j->name, "\xc3\xa9t\xc3\xa9");
	job_free_all(j, n);
}

TEST_MAIN_BEGIN
	RUN(minimal_spec_gets_defaults);
	RUN(full_spec_is_kept);
	RUN(batch_keeps_order);
	RUN(malformed_json_is_refused);
	RUN(a_nul_is_refused_in_the_field_that_holds_it);
	RUN(only_strict_json_is_accepted);
	RUN(strict_json_that_is_valid_is_accepted);
	RUN(wrong_types_name_their_field);
	RUN(unknown_fields_are_refused);
	RUN(flow_control_fields_are_checked);
	RUN(flow_control_fields_are_kept);
	RUN(batch_refusal_names_the_item);
	RUN(batch_over_the_limit_is_too_large);
	RUN(over_long_command_is_refused);
	RUN(utf8_names_are_kept);
TEST_MAIN_END
