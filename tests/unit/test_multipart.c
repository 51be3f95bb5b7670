/* The streaming multipart parser: parts, names, and any cut of the input. */
#include "http/multipart.h"
#include "test.h"

struct got {
	char	 names[8][64];
	char	 files[8][64];
	int	 has_file[8];
	char	 data[8][512];
	size_t	 len[8];
	int	 n;
	int	 ended;
};

static int
begin(void *arg, const char *name, const char *filename, const char *type)
{
	struct got *g = arg;

	(void)type;
	ASSERT(g->n < 8);
	snprintf(g->names[g->n], 64, "%s", name);
	g->has_file[g->n] = filename != NULL;
	snprintf(g->files[g->n], 64, "%s", filename ? filename : "");
	g->len[g->n] = 0;
	return 0;
}

static int
data(void *arg, const char *p, size_t n)
{
	struct got *g = arg;

	ASSERT(g->len[g->n] + n < 512);
	memcpy(g->data[g->n] + g->len[g->n], p, n);
	g->len[g->n] += n;
	return 0;
}

static int
end(void *arg)
{
	struct got *g = arg;

	g->n++;
	return 0;
}

static const struct multipart_cb cb = {begin, data, end};

/* Parses body fed in pieces of `step` bytes (0: all at once). */
static int
parse(const char *boundary, const char *body, size_t len, size_t step,
    struct got *g)
{
	struct multipart	 m;
	int			 rc = 0;

	memset(g, 0, sizeof(*g));
	ASSERT_INT(multipart_init(&m, boundary, &cb, g), ==, 0);
	for (size_t off = 0; off < len && rc == 0;) {
		size_t n = step ? (len - off < step ? len - off : step) : len;

		rc = multipart_feed(&m, body + off, n);
		off += n;
	}
	if (rc == 0)
		rc = multipart_finish(&m);
	multipart_close(&m);
	return rc;
}

static const char body1[] =
    "preamble to ignore\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"job\"\r\n"
    "\r\n"
    "{\"command\":\"wc -c\"}\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a b.txt\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "line1\r\n--XyA not a delimiter\r\r\n\r\n--X\r\nend\r\n"
    "--XyZ--\r\n"
    "epilogue";

static void
check1(const struct got *g)
{
	static const char file[] = "line1\r\n--XyA not a delimiter\r\r\n\r\n--X\r\nend";

	ASSERT_INT(g->n, ==, 2);
	ASSERT_STR(g->names[0], "job");
	ASSERT(!g->has_file[0]);
	ASSERT_INT(g->len[0], ==, strlen("{\"command\":\"wc -c\"}"));
	ASSERT(memcmp(g->data[0], "{\"command\":\"wc -c\"}", g->len[0]) == 0);
	ASSERT_STR(g->names[1], "file");
	ASSERT_STR(g->files[1], "a b.txt");
	ASSERT_INT(g->len[1], ==, sizeof(file) - 1);
	ASSERT(memcmp(g->data[1], file, g->len[1]) == 0);
}

TEST(parts_and_data_come_out_whole)
{
	struct got g;

	ASSERT_INT(parse("XyZ", body1, sizeof(body1) - 1, 0, &g), ==, 0);
	check1(&g);
}

TEST(any_cut_of_the_input_gives_the_same_parts)
{
	struct got g;

	for (size_t step = 1; step <= sizeof(body1); step++) {
		ASSERT_INT(parse("XyZ", body1, sizeof(body1) - 1, step, &g), ==, 0);
		check1(&g);
	}
}

TEST(a_body_starting_with_the_delimiter_and_empty_parts)
{
	static const char b[] = "--b\r\nContent-Disposition: form-data; "
	    "name=\"file\"; filename=\"\"\r\n\r\n\r\n--b--";
	struct got g;

	ASSERT_INT(parse("b", b, sizeof(b) - 1, 0, &g), ==, 0);
	ASSERT_INT(g.n, ==, 1);
	ASSERT(g.has_file[0]);
	ASSERT_STR(g.files[0], "");
	ASSERT_INT(g.len[0], ==, 0);
}

TEST(utf8_and_ext_filenames)
{
	static const char b[] = "--b\r\nContent-Disposition: form-data; "
	    "name=\"file\"; filename=\"x.bin\"; filename*=UTF-8''%E8%A7%86%E9%A2%91%20a.mp4\r\n"
	    "\r\nz\r\n--b\r\nContent-Disposition: form-data; name=\"f2\"; "
	    "filename=\"\xe8\xa7\x86 \\\"q\\\".mp4\"\r\n\r\n\r\n--b--\r\n";
	struct got g;

	ASSERT_INT(parse("b", b, sizeof(b) - 1, 0, &g), ==, 0);
	ASSERT_INT(g.n, ==, 2);
	ASSERT_STR(g.files[0], "\xe8\xa7\x86\xe9\xa2\x91 a.mp4");
	ASSERT_STR(g.files[1], "\xe8\xa7\x86 \"q\".mp4");
}

TEST(browser_paths_keep_their_backslashes_and_nul_is_dropped)
{
	static const char b[] = "--b\r\nContent-Disposition: form-data; "
	    "name=\"file\"; filename=\"C:\\Users\\me\\r.pdf\"\r\n\r\nz\r\n"
	    "--b\r\nContent-Disposition: form-data; name=\"f2\"; "
	    "filename*=UTF-8''a%00b.txt\r\n\r\n\r\n--b--\r\n";
	struct got g;

	ASSERT_INT(parse("b", b, sizeof(b) - 1, 0, &g), ==, 0);
	ASSERT_INT(g.n, ==, 2);
	ASSERT_STR(g.files[0], "C:\\Users\\me\\r.pdf");
	ASSERT_STR(g.files[1], "ab.txt");
}

TEST(malformed_bodies_are_refused)
{
	static const char *bad[] = {
		"--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\ndata",
		"--b\r\nno colon here\r\n\r\nx\r\n--b--",
		"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",
		"--b\r\nContent-Disposition: attachment; name=\"f\"\r\n\r\nx\r\n--b--",
		"--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--bxx",
		"--bGARBAGE",
		"",
		"just text without any delimiter",
	};
	struct got g;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse("b", bad[i], strlen(bad[i]), 0, &g) == 0)
			FAIL("accepted: %s", bad[i]);
}

TEST(boundary_is_read_from_the_content_type)
{
	char b[80];

	ASSERT_INT(multipart_boundary("multipart/form-data; boundary=abc", b,
	    sizeof(b)), ==, 0);
	ASSERT_STR(b, "abc");
	ASSERT_INT(multipart_boundary("multipart/form-data;charset=utf-8; "
	    "boundary=\"a b;c\"", b, sizeof(b)), ==, 0);
	ASSERT_STR(b, "a b;c");
	ASSERT_INT(multipart_boundary("application/json", b, sizeof(b)), <, 0);
	ASSERT_INT(multipart_boundary("multipart/form-data", b, sizeof(b)), <, 0);
	ASSERT_INT(multipart_boundary("multipart/form-data; boundary=", b,
	    sizeof(b)), <, 0);
}

TEST_MAIN_BEGIN
	RUN(parts_and_data_come_out_whole);
	RUN(any_cut_of_the_input_gives_the_same_parts);
	RUN(a_body_starting_with_the_delimiter_and_empty_parts);
	RUN(utf8_and_ext_filenames);
	RUN(browser_paths_keep_their_backslashes_and_nul_is_dropped);
	RUN(malformed_bodies_are_refused);
	RUN(boundary_is_read_from_the_content_type);
TEST_MAIN_END
