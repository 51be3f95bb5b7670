-- runnel schema, version 5: the dashboard's search and overview.

-- GET /api/v1/jobs?name=: a name's jobs newest first, without a scan.
CREATE INDEX jobs_name ON jobs (name, id) WHERE name IS NOT NULL;
-- GET /api/v1/stats: failures per minute over the last hour, reading
-- only the failures of that hour (failures are the few).
CREATE INDEX jobs_failed_at ON jobs (finished_at) WHERE state = 'failed';
