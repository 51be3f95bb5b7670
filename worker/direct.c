/*
 * Which shell-form commands skip the shell.  The rule is a whitelist of
 * bytes, not a blacklist of syntax: a word may hold letters, digits and
 * _ - . / , : @ + % = only, words are separated by spaces or tabs, and the
 * first word is neither an assignment (it has no '=') nor a word the shell
 * treats itself (a reserved word or builtin of dash or bash).  With those
 * bytes the shell does no quoting, expansion, globbing, redirection or
 * field splitting beyond blanks, so its argv is ours.
 *
 * `true` and `false` are builtins whose programs behave the same when given
 * no argument (/bin/true --help prints help; the builtin does not), so they
 * skip the shell when they stand alone.
 */
#include <string.h>

#include "direct.h"

/* Reserved words and builtins of dash, and bash's, in case /bin/sh is bash. */
static const char *const shell_words[] = {
	"!", ".", ":", "[", "[[", "]]", "{", "}", "alias", "bg", "bind",
	"break", "builtin", "caller", "case", "cd", "chdir", "command",
	"compgen", "complete", "compopt", "continue", "coproc", "declare",
	"dirs", "disown", "do", "done", "echo", "elif", "else", "enable",
	"esac", "eval", "exec", "exit", "export", "false", "fc", "fg", "fi",
	"for", "function", "getopts", "hash", "help", "history", "if", "in",
	"jobs", "kill", "let", "local", "logout", "mapfile", "popd", "printf",
	"pushd", "pwd", "read", "readarray", "readonly", "return", "select",
	"set", "shift", "shopt", "source", "suspend", "test", "then", "time",
	"times", "trap", "true", "type", "typeset", "ulimit", "umask",
	"unalias", "unset", "until", "wait", "while",
};

static int
word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("_-./,:@+%=", c) != NULL;
}

static int
shell_word(const char *w)
{
	for (size_t i = 0; i < sizeof(shell_words) / sizeof(shell_words[0]); i++)
		if (strcmp(w, shell_words[i]) == 0)
			return 1;
	return 0;
}

int
direct_split(const char *command, char *buf, size_t size,
    char *words[DIRECT_MAX_WORDS + 1])
{
	size_t	len = strlen(command);
	int	n = 0;
	char	*p;

	if (len + 1 > size)
		return 0;
	memcpy(buf, command, len + 1);
	for (p = buf; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t')
			*p = '\0';
		else if (!word_byte((unsigned char)*p))
			return 0;	/* '\0' in a word is the C string's end */
	}
	for (p = buf; p < buf + len; p += strlen(p) + 1) {
		if (*p == '\0')
			continue;
		if (n == DIRECT_MAX_WORDS)
			return 0;
		words[n++] = p;
	}
	words[n] = NULL;
	if (n == 0 || strchr(words[0], '=') != NULL)
		return 0;
	if (shell_word(words[0]) && !(n == 1 && (strcmp(words[0], "true") == 0 ||
	    strcmp(words[0], "false") == 0)))
		return 0;
	return n;
}
