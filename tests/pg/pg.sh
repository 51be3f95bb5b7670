#!/bin/sh
# A throwaway PostgreSQL for runnel's tests: initdb into DIR, a Unix socket
# in DIR/sock, no TCP listener, trust authentication.  PostgreSQL refuses
# to run as root, so when run as root it runs as the `postgres` user (or
# RUNNEL_PG_USER).
#
#   pg.sh start DIR     start it (initdb first if DIR is new); prints the
#                       connection URI of its `postgres` database
#   pg.sh stop DIR      stop it by the pid in its postmaster.pid
#   pg.sh url DIR [DB]  the URI of database DB (default postgres)
#   pg.sh createdb DIR DB   create database DB (dropped first if it exists)
set -eu

bindir=$(pg_config --bindir 2>/dev/null || true)
for d in "$bindir" /usr/lib/postgresql/*/bin; do
	[ -x "$d/initdb" ] && [ -x "$d/postgres" ] && { bindir=$d; break; }
done
[ -x "$bindir/postgres" ] || { echo "pg.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

cmd=${1:?usage: pg.sh start|stop|url|createdb DIR}
dir=${2:?usage: pg.sh start|stop|url|createdb DIR}
user=${RUNNEL_PG_USER:-postgres}

as_owner() {
	if [ "$(id -u)" = 0 ]; then
		su "$user" -s /bin/sh -c "$*"
	else
		sh -c "$*"
	fi
}

url() {
	echo "postgresql:///${1:-postgres}?host=$dir/sock&user=postgres"
}

case $cmd in
start)
	mkdir -p "$dir"
	[ "$(id -u)" = 0 ] && chown "$user" "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_owner "'$bindir/initdb' -D '$dir/data' -U postgres -A trust -E UTF8 --no-locale" >"$dir/initdb.log" 2>&1 ||
		    { cat "$dir/initdb.log" >&2; exit 1; }
	fi
	as_owner "mkdir -p '$dir/sock'"
	if [ -f "$dir/data/postmaster.pid" ] && kill -0 "$(head -1 "$dir/data/postmaster.pid")" 2>/dev/null; then
		url
		exit 0
	fi
	as_owner "'$bindir/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -t 60 \
	    -o \"-c listen_addresses='' -k '$dir/sock' -c max_connections=300 \
	    -c shared_buffers=128MB\" start" >/dev/null ||
	    { cat "$dir/server.log" >&2; exit 1; }
	url
	;;
stop)
	[ -f "$dir/data/postmaster.pid" ] || exit 0
	pid=$(head -1 "$dir/data/postmaster.pid")
	kill -INT "$pid" 2>/dev/null || exit 0
	# Fast shutdown: wait for the postmaster to go, a minute at most.
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	;;
url)
	url "${3:-postgres}"
	;;
createdb)
	db=${3:?usage: pg.sh createdb DIR DB}
	PGOPTIONS="-c client_min_messages=warning" "$bindir/psql" -q -X -v ON_ERROR_STOP=1 "$(url)" \
	    -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" \
	    -c "CREATE DATABASE \"$db\"" >/dev/null
	url "$db"
	;;
*)
	echo "pg.sh: unknown command $cmd" >&2
	exit 2
	;;
esac
