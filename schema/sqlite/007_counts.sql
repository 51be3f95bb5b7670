-- Jobs per queue and state, kept by triggers in the transaction that
-- changes a job: runneld loads its counts from these few rows at start-up
-- instead of counting the jobs table (seconds at 10 000 000 jobs).
CREATE TABLE job_counts (
	queue TEXT    NOT NULL,
	state TEXT    NOT NULL,
	n     INTEGER NOT NULL,
	PRIMARY KEY (queue, state)
) WITHOUT ROWID;

INSERT INTO job_counts (queue, state, n)
	SELECT queue, state, count(*) FROM jobs GROUP BY queue, state;

CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN
	INSERT INTO job_counts (queue, state, n) VALUES (new.queue, new.state, 1)
	    ON CONFLICT (queue, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN
	UPDATE job_counts SET n = n - 1
	    WHERE queue = old.queue AND state = old.state;
END;

CREATE TRIGGER jobs_count_update AFTER UPDATE OF queue, state ON jobs
    WHEN old.queue IS NOT new.queue OR old.state IS NOT new.state BEGIN
	UPDATE job_counts SET n = n - 1
	    WHERE queue = old.queue AND state = old.state;
	INSERT INTO job_counts (queue, state, n) VALUES (new.queue, new.state, 1)
	    ON CONFLICT (queue, state) DO UPDATE SET n = n + 1;
END;
