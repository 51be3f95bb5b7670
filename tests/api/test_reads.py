"""Reads see only what is committed.

A loop turn gathers its writes in one open transaction and commits at its
end.  A GET answered in between must not show those writes: a kill -9 or
a failed commit takes them back, and the reader would have seen a job, or
a state, that never was.  runneld holds such a read until the turn is over.

The test makes every commit that promotes its delayed jobs fail (a
deferred check in the database, installed behind runneld's back), then
reads those jobs as fast as it can while runneld keeps trying: no read
may show one of them queued.  Then the check goes, and every job runs:
the failed turns lost nothing.
"""
import os
import sqlite3
import threading
import time

from harness import POSTGRESQL, RunnelTestCase, wait_until

QUEUE = "doomed"
READERS = 4
FAILED_COMMITS = 100	# seen in the log before the readers stop

# A promotion of a job named "doomed" to queued fails at COMMIT.
PG_DOOM = """
CREATE FUNCTION doom() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'doomed by the test'; END $$;
CREATE CONSTRAINT TRIGGER doom AFTER UPDATE ON jobs
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (NEW.state = 'queued' AND NEW.name = 'doomed')
  EXECUTE FUNCTION doom();
"""
PG_UNDOOM = "DROP TRIGGER doom ON jobs; DROP FUNCTION doom();"
# SQLite has no deferred triggers, but a deferred foreign key that the
# trigger breaks fails the COMMIT alike.
SQLITE_DOOM = """
CREATE TABLE doom_parent (id INTEGER PRIMARY KEY);
CREATE TABLE doom (parent INTEGER REFERENCES doom_parent (id)
  DEFERRABLE INITIALLY DEFERRED);
CREATE TRIGGER doom AFTER UPDATE OF state ON jobs
  WHEN NEW.state = 'queued' AND NEW.name = 'doomed'
  BEGIN INSERT INTO doom VALUES (1); END;
"""
SQLITE_UNDOOM = "DROP TRIGGER doom; DROP TABLE doom; DROP TABLE doom_parent;"


class UncommittedTest(RunnelTestCase):
    WORKERS = 1

    def sql(self, script):
        if POSTGRESQL:
            self.server.sql(script)
            return
        db = sqlite3.connect(os.path.join(self.server.data, "runnel.db"),
                             timeout=30, isolation_level=None)
        try:
            db.executescript(script)
        finally:
            db.close()

    def failed_commits(self):
        return self.server.log().decode(errors="replace").count(
            "commit failed")

    def test_a_read_never_sees_a_turn_that_then_fails(self):
        self.sql(PG_DOOM if POSTGRESQL else SQLITE_DOOM)
        # One batch, one turn: stored before any of them is due (a submit
        # in a turn whose commit fails would be refused with it).
        ids = [j["id"] for j in self.batch(
            [{"command": "true", "name": "doomed", "queue": QUEUE,
              "delay": 1}] * 20)]
        before = self.failed_commits()
        seen, reads, errors = [], [0], []
        stop = threading.Event()

        def reader(n):
            try:
                while not stop.is_set():
                    if n % 2:
                        r = self.api("GET", "/api/v1/jobs?queue=%s&state=queued"
                                     % QUEUE)
                        self.assertEqual(r.status, 200, r.data)
                        seen.extend(j["id"] for j in r.data["jobs"])
                    else:
                        r = self.api("GET", "/api/v1/jobs/%d" % ids[reads[0] %
                                                                   len(ids)])
                        self.assertEqual(r.status, 200, r.data)
                        if r.data["state"] != "scheduled":
                            seen.append(r.data["id"])
                    reads[0] += 1
            except Exception as e:	# noqa: BLE001 - reported below
                errors.append(e)
                stop.set()

        threads = [threading.Thread(target=reader, args=(n,))
                   for n in range(READERS)]
        for t in threads:
            t.start()
        try:
            wait_until(lambda: stop.is_set() or
                       self.failed_commits() - before >= FAILED_COMMITS, 60,
                       "%d failed commits" % FAILED_COMMITS)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])
        print("reads: %d reads over %d failed commits" %
              (reads[0], self.failed_commits() - before))
        self.assertEqual(len(seen), 0, "%d reads showed jobs whose promotion was "
                         "never committed (jobs %s)" %
                         (len(seen), sorted(set(seen))[:5]))
        for jid in ids:
            self.assertEqual(self.job(jid)["state"], "scheduled")

        # The failed turns lost nothing: once commits work, all run.
        self.sql(PG_UNDOOM if POSTGRESQL else SQLITE_UNDOOM)
        for jid in ids:
            self.assertEqual(self.wait(jid)["state"], "succeeded")
        r = self.submit({"command": "true"})
        self.assertEqual(self.wait(r["id"])["state"], "succeeded")
