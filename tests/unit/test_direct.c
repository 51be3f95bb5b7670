/*
 * Which shell-form commands skip /bin/sh (worker/direct.c): a table of
 * commands with the decision for each, and the words of those that skip.
 */
#include <string.h>

#include "direct.h"
#include "test.h"

static const struct {
	const char	*command;
	const char	*words;		/* '|'-joined; NULL: needs the shell */
} table[] = {
	/* plain programs and arguments: direct */
	{"ls", "ls"},
	{"ls -l /tmp", "ls|-l|/tmp"},
	{"  make\t-C  src   all  ", "make|-C|src|all"},
	{"/usr/bin/env", "/usr/bin/env"},
	{"./build.sh --jobs=4 a,b user@host:path +x 50%", "./build.sh|--jobs=4|a,b|user@host:path|+x|50%"},
	{"sleep 0.2", "sleep|0.2"},
	{"convert in.png -resize 50% out.jpg", "convert|in.png|-resize|50%|out.jpg"},
	{"true", "true"},
	{"false", "false"},
	{"env A=1 printenv A", "env|A=1|printenv|A"},
	/* builtins and reserved words: the shell */
	{"true 1", NULL},
	{"false --help", NULL},
	{"echo hi", NULL},
	{"printf x", NULL},
	{"cd /tmp", NULL},
	{"exec ls", NULL},
	{"exit 3", NULL},
	{"kill 1", NULL},
	{"test -f x", NULL},
	{"[ -f x ]", NULL},
	{". ./env.sh", NULL},
	{": nothing", NULL},
	{"if", NULL},
	{"time ls", NULL},
	{"source x", NULL},
	{"wait", NULL},
	{"pwd", NULL},
	{"read x", NULL},
	{"type ls", NULL},
	{"ulimit -n", NULL},
	/* assignments */
	{"A=1 env", NULL},
	{"PATH=/x ls", NULL},
	/* quoting, expansion, globs, redirection, operators, comments */
	{"echo 'a b'", NULL},
	{"ls \"a b\"", NULL},
	{"ls a\\ b", NULL},
	{"ls $HOME", NULL},
	{"ls ${HOME}", NULL},
	{"ls `pwd`", NULL},
	{"ls *.c", NULL},
	{"ls file?", NULL},
	{"ls [ab]", NULL},
	{"ls ~", NULL},
	{"ls ~/x", NULL},
	{"ls > out", NULL},
	{"ls < in", NULL},
	{"ls 2>&1", NULL},
	{"ls | wc", NULL},
	{"ls && ls", NULL},
	{"ls; ls", NULL},
	{"ls &", NULL},
	{"(ls)", NULL},
	{"{ ls; }", NULL},
	{"ls # comment", NULL},
	{"ls\nls", NULL},
	{"ls !x", NULL},
	{"ls {a,b}", NULL},
	{"ls ^x", NULL},
	{"ls caf\xc3\xa9", NULL},	/* bytes past ASCII: left to the shell */
	{"", NULL},
	{"   ", NULL},
	{"ls\r", NULL},
};

TEST(every_command_of_the_table_gets_its_decision)
{
	char	 buf[512], joined[512];
	char	*words[DIRECT_MAX_WORDS + 1];
	int	 n;

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		n = direct_split(table[i].command, buf, sizeof(buf), words);
		if (table[i].words == NULL) {
			if (n != 0)
				FAIL("\"%s\" skipped the "
				    "shell", table[i].command);
			continue;
		}
		joined[0] = '\0';
		for (int w = 0; w < n; w++) {
			if (w > 0)
				strcat(joined, "|");
			strcat(joined, words[w]);
		}
		ASSERT(words[n] == NULL);
		if (n == 0 || strcmp(joined, table[i].words) != 0)
			FAIL("\"%s\": got \"%s\" (%d "
			    "words), expected \"%s\"", table[i].command,
			    joined, n, table[i].words);
	}
}

TEST(too_many_words_or_too_long_needs_the_shell)
{
	char	 cmd[1024], buf[1024];
	char	*words[DIRECT_MAX_WORDS + 1];
	size_t	 len = 0;

	for (int i = 0; i < DIRECT_MAX_WORDS; i++)
		len += (size_t)sprintf(cmd + len, "%sa", i ? " " : "");
	ASSERT_INT(direct_split(cmd, buf, sizeof(buf), words), ==,
	    DIRECT_MAX_WORDS);
	strcat(cmd, " a");
	ASSERT_INT(direct_split(cmd, buf, sizeof(buf), words), ==, 0);
	ASSERT_INT(direct_split("ls -l", buf, 5, words), ==, 0);
	ASSERT_INT(direct_split("ls -l", buf, 6, words), ==, 2);
}

TEST_MAIN_BEGIN
	RUN(every_command_of_the_table_gets_its_decision);
	RUN(too_many_words_or_too_long_needs_the_shell);
TEST_MAIN_END
