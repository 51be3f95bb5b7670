"""The API suite on PostgreSQL: a database of its own for every runneld.

run.py --database-url URL (or RUNNEL_TEST_PG_URL) names a maintenance
database (`postgres` of tests/pg/pg.sh, say); run.py hands it to the test
processes as RUNNEL_API_TEST_PG_URL.  Then every data directory a test
starts a runneld on gets a fresh database, made with psql the first time a
runneld needs it and passed as --database; a restart on the same data
directory (crash and restart tests) reuses it, as it reuses the directory.
The databases of a class are dropped when the class ends, kept (and
named) when the class failed or with --keep, as its temp dir is.

Names are runnel_test_<pid>_<n>_<random>: run.py drops what a class that
was killed left behind by its pid; tests/pg/fixture.sh drops every
runnel_test_% database of earlier runs when ctest's PostgreSQL starts.

Python standard library only: psql does the talking.
"""
import glob
import itertools
import os
import secrets
import shutil
import subprocess
import urllib.parse

PG_URL = os.environ.get("RUNNEL_API_TEST_PG_URL", "")
POSTGRESQL = bool(PG_URL)
BACKEND = "postgresql" if POSTGRESQL else "sqlite"
PREFIX = "runnel_test_"

_numbers = itertools.count(1)
_by_data = {}		# realpath of a data directory -> database name
_made = []		# names made by this process, in order


def masked(url):
    """url with its password, if any, replaced by ***."""
    if url.startswith(("postgresql://", "postgres://")):
        u = urllib.parse.urlsplit(url)
        netloc = u.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            if ":" in userinfo:
                userinfo = userinfo.split(":", 1)[0] + ":***"
            netloc = userinfo + "@" + host
        query = "&".join("password=***" if q.startswith("password=") else q
                         for q in u.query.split("&")) if u.query else ""
        return "%s://%s%s%s" % (u.scheme, netloc, u.path,
                                "?" + query if query else "")
    out = []
    for word in url.split():
        out.append("password=***" if word.startswith("password=") else word)
    return " ".join(out)


def psql_path():
    """The psql binary: the server's own, else the one on PATH."""
    dirs = []
    try:
        dirs.append(subprocess.run(["pg_config", "--bindir"],
                                   capture_output=True, text=True,
                                   check=True).stdout.strip())
    except (OSError, subprocess.CalledProcessError):
        pass
    dirs += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for d in dirs:
        p = os.path.join(d, "psql")
        if os.access(p, os.X_OK):
            return p
    return shutil.which("psql")


def psql(url, sql, timeout=60):
    """Runs sql on the database at url; its output, unaligned, no headers.
    Raises AssertionError with psql's message when it fails."""
    exe = psql_path()
    if exe is None:
        raise AssertionError("psql not found (apt-get install postgresql-client)")
    env = dict(os.environ)
    env["PGOPTIONS"] = "-c client_min_messages=warning"
    p = subprocess.run([exe, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                        "-d", url, "-c", sql], capture_output=True, text=True,
                       env=env, stdin=subprocess.DEVNULL, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("psql on %s: %s: %s" % (
            masked(url), sql[:200], p.stderr.strip() or "exit %d" % p.returncode))
    return p.stdout.strip()


def database_url(url, name):
    """url (a URI or key=value string) with its database changed to name."""
    if url.startswith(("postgresql://", "postgres://")):
        u = urllib.parse.urlsplit(url)
        query = "&".join(q for q in u.query.split("&")
                         if q and not q.startswith("dbname="))
        # (urlunsplit would drop the empty host of postgresql:///db)
        return "%s://%s/%s%s" % (u.scheme, u.netloc, name,
                                 "?" + query if query else "")
    # The last of a keyword given twice wins.
    return "%s dbname=%s" % (url, name)


def check_server(url):
    """None when the maintenance database answers, else why not."""
    try:
        psql(url, "SELECT 1", timeout=30)
    except (AssertionError, subprocess.TimeoutExpired) as e:
        return str(e)
    return None


_version = []


def _strategy():
    """FILE_COPY where there is a choice (PostgreSQL 15): a checkpoint at
    once rather than template1 written to the WAL, which DROP DATABASE
    then has to checkpoint (5 times slower in all, measured here)."""
    if not _version:
        _version.append(int(psql(PG_URL, "SHOW server_version_num")))
    return " STRATEGY FILE_COPY" if _version[0] >= 150000 else ""


def create(name=None):
    """A fresh database; returns its name."""
    name = name or "%s%d_%d_%s" % (PREFIX, os.getpid(), next(_numbers),
                                   secrets.token_hex(3))
    psql(PG_URL, 'CREATE DATABASE "%s"%s' % (name, _strategy()))
    _made.append(name)
    return name


def url_of(name):
    return database_url(PG_URL, name)


def for_data(data):
    """The URL of the database of the runneld on data directory data,
    made the first time it is asked for."""
    key = os.path.realpath(data)
    if key not in _by_data:
        _by_data[key] = create()
    return url_of(_by_data[key])


def name_for(data):
    """The database's name of data directory data, None if it has none."""
    return _by_data.get(os.path.realpath(data))


def drop(name):
    psql(PG_URL, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


def finish(keep):
    """Drops (or, with keep, names) the databases this process made."""
    out = []
    while _made:
        name = _made.pop(0)
        if keep:
            out.append("runnel-api: kept database %s (%s)" % (name, masked(url_of(name))))
        else:
            try:
                drop(name)
            except (AssertionError, subprocess.TimeoutExpired) as e:
                out.append("runnel-api: could not drop database %s: %s" % (name, e))
    _by_data.clear()
    return out


def drop_left_by(url, pid):
    """Drops the databases a test process pid made (it was killed)."""
    names = psql(url, "SELECT datname FROM pg_database WHERE datname LIKE "
                 "'%s%d\\_%%'" % (PREFIX.replace("_", "\\_"), pid))
    for name in names.split():
        psql(url, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
