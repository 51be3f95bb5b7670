/* Stored file names: what a client's name is reduced to. */
#include "store/files.h"
#include "test.h"

static void
safe(const char *in, const char *want)
{
	char out[FILES_NAME_MAX + 1];

	files_safe_name(in, out, sizeof(out));
	if (strcmp(out, want) != 0)
		FAIL("\"%s\" -> \"%s\", want \"%s\"", in ? in : "(null)", out, want);
}

TEST(directories_are_dropped)
{
	safe("../../etc/passwd", "passwd");
	safe("a/b", "b");
	safe("C:\\Users\\me\\report.pdf", "report.pdf");
	safe("dir/", "upload");
	safe("/", "upload");
}

TEST(dot_names_and_empty_names_become_upload)
{
	safe(NULL, "upload");
	safe("", "upload");
	safe(".", "upload");
	safe("..", "upload");
	safe("...", "upload");
	safe("   ", "upload");
	safe("a/..", "upload");
}

TEST(control_characters_and_bad_utf8_are_cleaned)
{
	safe("a\x01" "b\x7f" "c\td.txt", "abcd.txt");
	safe("caf\xe9.txt", "caf_.txt");		/* Latin-1, not UTF-8 */
	safe("x\xc0\xaf" "y", "x__y");		/* overlong '/' */
	safe("name. ", "name");
	safe(".bashrc", ".bashrc");
}

TEST(utf8_names_are_kept)
{
	safe("\xe8\xa7\x86\xe9\xa2\x91 2026.mp4", "\xe8\xa7\x86\xe9\xa2\x91 2026.mp4");
	safe("\xf0\x9f\x8e\xac film.mkv", "\xf0\x9f\x8e\xac film.mkv");
}

TEST(long_names_are_cut_keeping_the_extension)
{
	char	 in[400], out[FILES_NAME_MAX + 1];

	memset(in, 'a', 300);
	strcpy(in + 300, ".tar.gz");
	files_safe_name(in, out, sizeof(out));
	ASSERT_INT(strlen(out), ==, FILES_NAME_MAX);
	ASSERT(strcmp(out + strlen(out) - 3, ".gz") == 0);
	/* Never in the middle of a character. */
	for (int i = 0; i < 100; i++)
		memcpy(in + 3 * i, "\xe8\xa7\x86", 3);
	strcpy(in + 300, ".mp4");
	files_safe_name(in, out, sizeof(out));
	ASSERT(strlen(out) <= FILES_NAME_MAX);
	ASSERT(strcmp(out + strlen(out) - 4, ".mp4") == 0);
	ASSERT_INT((strlen(out) - 4) % 3, ==, 0);
}

TEST_MAIN_BEGIN
	RUN(directories_are_dropped);
	RUN(dot_names_and_empty_names_become_upload);
	RUN(control_characters_and_bad_utf8_are_cleaned);
	RUN(utf8_names_are_kept);
	RUN(long_names_are_cut_keeping_the_extension);
TEST_MAIN_END
