-- Whether any job has webhooks of its own, asked once at start-up
-- (sqlite_hooks_load): through this index, not a scan of every job.  It
-- holds only the jobs that have some.
CREATE INDEX jobs_webhooks ON jobs (id) WHERE webhooks IS NOT NULL;
