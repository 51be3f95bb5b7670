/*
 * The config file: "key = value" lines, '#' starts a comment.  Keys:
 * url, token, token_file (a file holding the token; its trailing newline
 * is not part of it).  A file that holds a token and that others may read
 * gets a warning, as ssh does for keys.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "config.h"

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static int
config_path(char *buf, size_t size)
{
	const char *p;

	if ((p = env("RUNNEL_CONFIG")) != NULL)
		return snprintf(buf, size, "%s", p) < (int)size ? 0 : -1;
	if ((p = env("XDG_CONFIG_HOME")) != NULL)
		return snprintf(buf, size, "%s/runnel/config", p) < (int)size ?
		    0 : -1;
	if ((p = env("HOME")) != NULL)
		return snprintf(buf, size, "%s/.config/runnel/config", p) <
		    (int)size ? 0 : -1;
	return -1;
}

/* The first line of path, without its newline; NULL (said) on failure. */
static char *
read_token_file(const char *path)
{
	FILE	*f = fopen(path, "re");
	char	 line[4096];
	char	*t = NULL;

	if (f == NULL) {
		cli_warnx("token_file %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		t = strdup(line);
	} else
		cli_warnx("token_file %s: empty", path);
	fclose(f);
	return t;
}

static int
set(char **dst, const char *v)
{
	free(*dst);
	return (*dst = strdup(v)) == NULL ? -ENOMEM : 0;
}

/* Reads the config file, if there is one, into cfg's unset fields. */
static int
config_file(struct config *cfg, char **url)
{
	char		 path[4096], line[8192];
	char		*k, *v, *eq, *token = NULL;
	struct stat	 st;
	FILE		*f;
	int		 n = 0, rc = 0, explicit = env("RUNNEL_CONFIG") != NULL;

	if (config_path(path, sizeof(path)) < 0)
		return 0;
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !explicit)
			return 0;
		cli_warnx("config file %s: %s", path, strerror(errno));
		return EXIT_USAGE;
	}
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		n++;
		k = trim(line);
		if (*k == '#' || *k == '\0')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			cli_warnx("%s:%d: expected key = value", path, n);
			rc = EXIT_USAGE;
			break;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		if (strcmp(k, "url") == 0)
			rc = set(url, v) < 0 ? EXIT_FAIL : 0;
		else if (strcmp(k, "token") == 0)
			rc = set(&token, v) < 0 ? EXIT_FAIL : 0;
		else if (strcmp(k, "token_file") == 0) {
			free(token);
			if ((token = read_token_file(v)) == NULL)
				rc = EXIT_USAGE;
		} else {
			cli_warnx("%s:%d: unknown key %s (url, token, token_file)",
			    path, n, k);
			rc = EXIT_USAGE;
		}
	}
	if (rc == 0 && token != NULL && fstat(fileno(f), &st) == 0 &&
	    (st.st_mode & 077) != 0)
		cli_warnx("%s holds a token and others may read it "
		    "(chmod 600 %s)", path, path);
	fclose(f);
	if (rc == 0 && cfg->token == NULL) {
		cfg->token = token;
		token = NULL;
	}
	free(token);
	return rc;
}

int
config_load(struct config *cfg, const char *url_flag)
{
	char	*url = NULL;
	int	 rc;

	memset(cfg, 0, sizeof(*cfg));
	if (env("RUNNEL_TOKEN") != NULL &&
	    (cfg->token = strdup(env("RUNNEL_TOKEN"))) == NULL)
		return EXIT_FAIL;
	if ((rc = config_file(cfg, &url)) != 0) {
		free(url);
		config_clear(cfg);
		return rc;
	}
	if (url_flag != NULL)
		rc = set(&cfg->url, url_flag);
	else if (env("RUNNEL_URL") != NULL)
		rc = set(&cfg->url, env("RUNNEL_URL"));
	else if (url != NULL) {
		cfg->url = url;
		url = NULL;
	} else
		rc = set(&cfg->url, CONFIG_DEFAULT_URL);
	free(url);
	if (rc < 0) {
		config_clear(cfg);
		return EXIT_FAIL;
	}
	return 0;
}

void
config_clear(struct config *cfg)
{
	free(cfg->url);
	if (cfg->token != NULL) {
		memset(cfg->token, 0, strlen(cfg->token));
		free(cfg->token);
	}
	memset(cfg, 0, sizeof(*cfg));
}
