-- runnel schema for PostgreSQL, version 3: job output and uploaded files,
-- so that every node of a cluster reads them without a shared filesystem
-- (docs/cluster.md, "Output and files").

-- A job's stdout/stderr, per attempt, as the running node wrote it to its
-- local file: one row per flush (at most 1 MiB), keyed by the offset of
-- its first byte.  Rows go with their job.
CREATE TABLE job_output (
	job_id  bigint   NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
	attempt integer  NOT NULL,
	stream  smallint NOT NULL,	-- 0 stdout, 1 stderr
	off     bigint   NOT NULL,	-- offset of data's first byte in the stream
	data    bytea    NOT NULL,
	PRIMARY KEY (job_id, attempt, stream, off)
);

-- Uploaded files, content-addressed: a blob is named by its SHA-256 (the
-- jobs' file_sha256), stored once however many jobs carry it, in chunks
-- of 1 MiB.  A blob is written whole in one transaction, so one that
-- exists is complete.
CREATE TABLE blobs (
	sha256     text        PRIMARY KEY,	-- 64 lowercase hex digits
	size       bigint      NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE blob_chunks (
	sha256 text   NOT NULL REFERENCES blobs ON DELETE CASCADE,
	off    bigint NOT NULL,
	data   bytea  NOT NULL,
	PRIMARY KEY (sha256, off)
);
-- Out of line and not compressed: uploads are mostly compressed already,
-- and substring() of an uncompressed value reads only the TOAST pages a
-- Range asks for.
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- A pin holds a blob between its upload and the commit of its job (the
-- job's row is then what holds it).  NO ACTION: a pinned blob cannot be
-- deleted.  Pins older than an hour are left by a node that died.
CREATE TABLE blob_pins (
	id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sha256 text        NOT NULL REFERENCES blobs,
	at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX blob_pins_sha ON blob_pins (sha256);

-- The collector asks, per blob, whether a job still carries it.
CREATE INDEX jobs_file ON jobs (file_sha256) WHERE file_sha256 IS NOT NULL;
