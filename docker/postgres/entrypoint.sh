#!/bin/sh
# The PostgreSQL image's entrypoint.  On the first start it initdb's the
# volume ($PGDATA) and makes the role POSTGRES_USER, with the password
# POSTGRES_PASSWORD (scram-sha-256), owner of the database POSTGRES_DB;
# then, on every start, it runs the server as user postgres, listening on
# every address of the container.
#
# Unlike the official image's, POSTGRES_USER is an ordinary role, not a
# superuser: runneld needs no more than its own database, and a password
# that leaks from a node then opens only that database.  The superuser
# `postgres` has no password and cannot log in over the network; inside the
# container the Unix socket trusts local users, as in the official image
# (`docker compose exec postgres psql -U postgres`).  POSTGRES_USER=postgres
# gives the superuser the password instead.
#
# Later starts use the database as it is: changing POSTGRES_* then changes
# nothing (ALTER ROLE ... PASSWORD changes a password).
#
# Started as root, it makes the volume postgres's, then runs as postgres.
set -eu

die() {
	echo "runnel-postgres: $*" >&2
	exit 1
}

# 'it''s': a string literal for SQL.
sql_string() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"
}

# After initdb: a failed first start leaves nothing behind, so that the
# next one starts over.  (initdb cleans up after itself, and refuses a
# directory that is not empty.)  The statement is left out: it may hold
# the password.
init_failed() {
	[ ! -s "$log" ] || grep -v STATEMENT "$log" >&2
	rm -f "$log"
	find "$PGDATA" -mindepth 1 -delete
	die "$1"
}

init() {
	log=$(mktemp)
	user=${POSTGRES_USER:-postgres}
	db=${POSTGRES_DB:-$user}
	[ -n "${POSTGRES_PASSWORD:-}" ] ||
	    die "the database is not initialised yet and POSTGRES_PASSWORD is not set"
	# Plain names only: they go into SQL unquoted.
	for n in "$user" "$db"; do
		case $n in
		'' | [0-9]* | *[!a-z0-9_]*)
			die "'$n': user and database names are lower-case letters, digits and _" ;;
		esac
	done
	case $POSTGRES_PASSWORD in
	*'
'*)	die "POSTGRES_PASSWORD has a line break" ;;
	esac
	echo "runnel-postgres: initialising $PGDATA (role $user, database $db)" >&2
	if [ "$user" = postgres ]; then
		pwfile=$(mktemp)
		printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
		initdb -D "$PGDATA" -U postgres --pwfile="$pwfile" -E UTF8 \
		    --no-locale --auth-local=trust --auth-host=scram-sha-256 \
		    >/dev/null || { rm -f "$pwfile" "$log"; die "initdb failed"; }
		rm -f "$pwfile"
	else
		initdb -D "$PGDATA" -U postgres -E UTF8 --no-locale \
		    --auth-local=trust --auth-host=scram-sha-256 >/dev/null ||
		    { rm -f "$log"; die "initdb failed"; }
	fi
	# initdb's host lines name loopback only: the nodes come over the
	# compose network.
	printf '%s\n' '' '# runnel-postgres: any address, with a password' \
	    'host all all 0.0.0.0/0 scram-sha-256' \
	    'host all all ::/0 scram-sha-256' >>"$PGDATA/pg_hba.conf"
	# Single-user mode: no server and no listener while this runs; one
	# statement a line, each in its own transaction.  The password goes
	# through stdin, never a command line.
	{
		if [ "$user" != postgres ]; then
			echo "CREATE ROLE $user LOGIN PASSWORD $(sql_string "$POSTGRES_PASSWORD");"
		fi
		if [ "$db" != postgres ]; then
			echo "CREATE DATABASE $db OWNER $user;"
		fi
	} | postgres --single -D "$PGDATA" postgres >"$log" 2>&1 ||
	    init_failed "creating role $user and database $db failed"
	# Single-user mode reports a failed statement on stdout, and exits 0.
	! grep -q ERROR "$log" ||
	    init_failed "creating role $user and database $db failed"
	rm -f "$log"
}

if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA"
	chown postgres:postgres "$PGDATA"
	chmod 0700 "$PGDATA"
	exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

[ -s "$PGDATA/PG_VERSION" ] || init
# The server's environment (and /proc/1/environ) keeps no password.
unset POSTGRES_PASSWORD

if [ "${1:-}" = postgres ]; then
	shift
	exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
fi
exec "$@"
