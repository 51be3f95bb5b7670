-- "shell": true sends a command through /bin/sh -c even when it could be
-- exec'd directly (worker/direct.c).  Adding a column with a constant
-- default rewrites nothing.
ALTER TABLE jobs ADD COLUMN shell integer NOT NULL DEFAULT 0;
