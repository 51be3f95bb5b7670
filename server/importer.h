/*
 * runneld --import DIR --database URL: a single node's data directory
 * moved into a cluster's PostgreSQL database (docs/cluster.md, "Moving
 * from one node to a cluster").
 */
#ifndef RUNNEL_IMPORTER_H
#define RUNNEL_IMPORTER_H

struct config;

/*
 * Runs the import that cfg asks for (cfg->import_dir into
 * cfg->database) and returns runneld's exit status: 0 once it is
 * committed, 1 with one error line that says why when nothing was
 * imported.  Progress and the summary are log lines.
 */
int	importer_run(const struct config *cfg);

#endif
