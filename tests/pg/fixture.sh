#!/bin/sh
# ctest's PostgreSQL (tests/CMakeLists.txt: the fixture `pg`): one
# throwaway server per build directory, for the api_pg.* tests and the
# PostgreSQL cases of unit.test_store.
#
#   fixture.sh start DIR   start it (tests/pg/pg.sh start), drop the test
#                          databases that earlier runs kept (runnel_test_*:
#                          tests/api/harness_pg.py), print its URI
#   fixture.sh stop DIR    stop it
#
# A DIR that cannot be started (a server of another major version made
# it, a half-done initdb) is made anew.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:?usage: fixture.sh start|stop DIR}
dir=${2:?usage: fixture.sh start|stop DIR}

case $cmd in
start)
	if ! url=$(sh "$here/pg.sh" start "$dir" 2>"$dir.err"); then
		echo "fixture.sh: $dir does not start; making it anew:" >&2
		cat "$dir.err" >&2
		sh "$here/pg.sh" stop "$dir" || true
		rm -rf "$dir"
		url=$(sh "$here/pg.sh" start "$dir")
	fi
	rm -f "$dir.err"
	bindir=$(pg_config --bindir 2>/dev/null || true)
	[ -x "$bindir/psql" ] || bindir=$(dirname "$(command -v psql)")
	# Every test database is a copy of template1 written to the WAL:
	# checkpoints come often and keep it small, so that the disk the
	# tests share (/tmp) neither fills with up to 1 GB of it nor frees
	# hundreds of MB at once under a test that measures free space
	# (api*.uploads_limits).
	PGOPTIONS="-c client_min_messages=warning" "$bindir/psql" -X -q \
	    -v ON_ERROR_STOP=1 -d "$url" -c "ALTER SYSTEM SET max_wal_size = '64MB'" \
	    -c "ALTER SYSTEM SET min_wal_size = '32MB'" -c "SELECT pg_reload_conf()" >/dev/null
	PGOPTIONS="-c client_min_messages=warning" "$bindir/psql" -X -q -A -t \
	    -v ON_ERROR_STOP=1 -d "$url" -c "SELECT format('DROP DATABASE %I WITH (FORCE);', datname)
	    FROM pg_database WHERE datname LIKE 'runnel\_test\_%'" -o "$dir.drop"
	if [ -s "$dir.drop" ]; then
		echo "fixture.sh: dropping $(wc -l <"$dir.drop") database(s) kept by earlier runs"
		"$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$url" -f "$dir.drop" >/dev/null
	fi
	rm -f "$dir.drop"
	echo "$url"
	;;
stop)
	sh "$here/pg.sh" stop "$dir"
	;;
*)
	echo "fixture.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
