/* Commands not written yet (this file goes once they are). */
#include "cli.h"

#define TODO(f) int f(struct cli *c, int argc, char **argv) \
	{ cli_warnx("%s: not yet", argv[0] + 7); return EXIT_FAIL; }
TODO(cmd_run)
TODO(cmd_upload)
TODO(cmd_log)
TODO(cmd_wait)
