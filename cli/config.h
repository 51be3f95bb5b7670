/*
 * Where the client finds its server and token: the --url flag, then the
 * environment (RUNNEL_URL, RUNNEL_TOKEN), then the config file
 * ($RUNNEL_CONFIG, else $XDG_CONFIG_HOME/runnel/config, else
 * ~/.config/runnel/config).  The token never comes from a flag, which
 * would show in ps.
 */
#ifndef RUNNEL_CLI_CONFIG_H
#define RUNNEL_CLI_CONFIG_H

#define CONFIG_DEFAULT_URL	"http://127.0.0.1:8080"

struct config {
	char	*url;		/* never NULL once loaded */
	char	*token;		/* NULL when none */
};

/* Fills *cfg; url_flag may be NULL.  0, or EXIT_USAGE after saying what is
 * wrong with the config file (the line), or EXIT_FAIL on no memory. */
int	config_load(struct config *, const char *url_flag);
void	config_clear(struct config *);

#endif
