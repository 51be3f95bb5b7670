-- "shell": true sends a command through /bin/sh -c even when it could be
-- exec'd directly (worker/direct.c).  Existing jobs keep the default.
ALTER TABLE jobs ADD COLUMN shell INTEGER NOT NULL DEFAULT 0;
