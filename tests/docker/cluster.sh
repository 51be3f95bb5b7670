#!/usr/bin/env bash
# Container smoke test of the cluster compose file (issue 11, item 10):
# docker-compose.cluster.yml, three runneld nodes on the bundled
# PostgreSQL (docker/postgres).
#
#   sudo tests/docker/smoke.sh --cluster        the single-node test, then this
#   sudo tests/docker/cluster.sh                this only (smoke.sh --cluster-only)
#
# smoke.sh sources this file after its own checks, in its private podman
# and with its runneld image, so it shares its set-up (the base image, the
# podman service, the image build), its helpers and its clean-up: the
# compose project here becomes "the" project that smoke.sh's clean-up takes
# down, and whatever happens, `podman system reset` removes the rest.
#
# What it checks: the compose file (refuses to work without RUNNEL_TOKEN
# or RUNNEL_DB_PASSWORD; nodes on 127.0.0.1:8081-8083, a volume each,
# PostgreSQL not published); the PostgreSQL image (role not a superuser,
# a password needed over the network); all healthy; 30 jobs submitted
# through node 1 all succeed, each readable with its output on nodes 2
# and 3, and stored in PostgreSQL; more than one node ran them (where the
# job object names its node); an upload on node 1 downloaded from nodes 2
# and 3; the documented pg_dump, restored with pg_restore; node 2 stopped: nodes 1 and 3 still answer
# and run new jobs, which node 2 sees once started again; `down -v` leaves
# no container and no volume.

# Sourced: top, W, token, AUTH, P, C, compose_up, bg_pids and the helpers
# (say, ok, fail, check, matches, dc, code, field, wait_healthy) are
# smoke.sh's.
# shellcheck shell=bash disable=SC2154,SC2034

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	exec bash "$(dirname "$0")/smoke.sh" --cluster-only "$@"
fi

say "---- the cluster: docker-compose.cluster.yml (3 nodes, PostgreSQL)"
cluster_t0=$(date +%s%N)

# ---- the compose file, without any engine -------------------------------
compose_file="$top/docker-compose.cluster.yml"
check "docker-compose.cluster.yml exists" test -f "$compose_file"
check "docker/postgres/Dockerfile exists" test -f "$top/docker/postgres/Dockerfile"

db_password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
sed "s/^RUNNEL_TOKEN=\$/RUNNEL_TOKEN=$token/" "$top/.env.example" >"$W/cluster-notoken.env"
sed "s/^#RUNNEL_DB_PASSWORD=\$/RUNNEL_DB_PASSWORD=$db_password/" "$W/cluster-notoken.env" \
    >"$W/cluster-user.env"
grep -q "^RUNNEL_DB_PASSWORD=$db_password\$" "$W/cluster-user.env" ||
    fail ".env.example has no '#RUNNEL_DB_PASSWORD=' line to fill in"
if docker-compose -f "$compose_file" --env-file "$W/cluster-notoken.env" config -q \
    >"$W/config-nodbpw.out" 2>&1; then
	fail "docker-compose.cluster.yml must refuse to work without RUNNEL_DB_PASSWORD"
fi
grep -q "set RUNNEL_DB_PASSWORD" "$W/config-nodbpw.out" ||
    fail "no RUNNEL_DB_PASSWORD: unexpected message: $(cat "$W/config-nodbpw.out")"
grep -v '^RUNNEL_TOKEN=' "$W/cluster-user.env" >"$W/cluster-nouser.env"
if docker-compose -f "$compose_file" --env-file "$W/cluster-nouser.env" config -q \
    >"$W/config-notoken.out" 2>&1; then
	fail "docker-compose.cluster.yml must refuse to work without RUNNEL_TOKEN"
fi
grep -q "set RUNNEL_TOKEN" "$W/config-notoken.out" ||
    fail "no RUNNEL_TOKEN: unexpected message: $(cat "$W/config-notoken.out")"
docker-compose -f "$compose_file" --env-file "$W/cluster-user.env" config -q ||
    fail "docker-compose -f docker-compose.cluster.yml config -q"
ok "docker-compose.cluster.yml: config -q valid; refuses without RUNNEL_DB_PASSWORD and without RUNNEL_TOKEN"

docker-compose -f "$compose_file" --env-file "$W/cluster-user.env" config \
    >"$W/cluster-config.yml"
for n in 1 2 3; do
	grep -Eq "^ *- 127\.0\.0\.1:808$n:8080(/tcp)?\$" "$W/cluster-config.yml" ||
	    fail "runneld-$n is not published on 127.0.0.1:808$n by default"
	grep -Eq "^ *- runneld-$n-data:/data(:rw)?\$" "$W/cluster-config.yml" ||
	    fail "runneld-$n has not its own volume runneld-$n-data on /data"
	grep -q "RUNNEL_NODE_ID: runneld-$n\$" "$W/cluster-config.yml" ||
	    fail "runneld-$n has not the node id runneld-$n"
done
[ "$(grep -c "RUNNEL_DATABASE: postgresql://runnel:$db_password@postgres:5432/runnel" \
    "$W/cluster-config.yml")" = 3 ] || fail "not every node's RUNNEL_DATABASE is the postgres service"
[ "$(grep -c "RUNNEL_TOKEN: $token\$" "$W/cluster-config.yml")" = 3 ] ||
    fail "not every node has the token"
[ "$(grep -c 'condition: service_healthy' "$W/cluster-config.yml")" = 3 ] ||
    fail "not every node waits for postgres to be healthy"
# Only the nodes' three ports are published: not PostgreSQL's.
[ "$(grep -Ec '^ *- [0-9.]+:[0-9]+:[0-9]+(/tcp)?$' "$W/cluster-config.yml")" = 3 ] ||
    fail "something besides the three nodes is published"
ok "defaults: nodes runneld-1..3 on 127.0.0.1:8081-8083, a volume each, one token, RUNNEL_DATABASE -> postgres (waited for healthy, not published)"

# ---- the test's own values ------------------------------------------------
P="runnelcluster$$"		# the project smoke.sh's clean-up now takes down
C="${P}_postgres_1"
node_ctr() { echo "${P}_runneld-$1_1"; }
node_port=()			# node_port[N]: node N's on the host
for n in 1 2 3; do
	p=""
	for _ in $(seq 50); do	# below the ephemeral ports (32768-)
		p=$((20000 + RANDOM % 12000))
		case " ${node_port[*]} " in *" $p "*) continue ;; esac
		[ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ] && break
		p=""
	done
	[ -n "$p" ] || fail "no free port"
	node_port[n]=$p
done
cp "$W/cluster-user.env" "$W/test.env"
cat >>"$W/test.env" <<EOF
RUNNEL_PORT_1=${node_port[1]}
RUNNEL_PORT_2=${node_port[2]}
RUNNEL_PORT_3=${node_port[3]}
RUNNEL_SHUTDOWN_GRACE=5
RUNNEL_KILL_GRACE=2
RUNNEL_STOP_GRACE=15s
RUNNEL_NODE_TIMEOUT=5
EOF
url() { echo "http://127.0.0.1:${node_port[$1]}"; }
napi() {	# napi NODE PATH [CURL-ARGS...]: the API of node NODE
	local n=$1 path=$2
	shift 2
	curl -s -H "$AUTH" "$@" "$(url "$n")$path"
}
nsubmit() {	# nsubmit NODE JSON: prints the new job's id
	local out
	out=$(napi "$1" /api/v1/jobs -H 'Content-Type: application/json' \
	    --data-binary "$2" -w '\n%{http_code}')
	[ "$(tail -n 1 <<<"$out")" = 201 ] || { echo "submit on node $1: $out" >&2; return 1; }
	head -n 1 <<<"$out" | field id
}
nwait() { napi "$1" "/api/v1/jobs/$2?wait=${3:-30}"; }

# ---- the PostgreSQL image ---------------------------------------------------
say "docker-compose build postgres (Debian's postgresql-15)"
b0=$(date +%s)
if ! dc build postgres >"$W/build-postgres.log" 2>&1; then
	tail -n 40 "$W/build-postgres.log" >&2
	fail "docker-compose build postgres"
fi
pgimg=$(dc config | sed -n 's/^ *image: *\(.*postgres.*\)$/\1/p' | head -1)
ok "PostgreSQL image built in $(($(date +%s) - b0))s ($(podman image inspect --format '{{.Size}}' "$pgimg" | awk '{printf "%d MB", $1/1e6}'))"

# ---- up ---------------------------------------------------------------------
# The nodes wait for postgres to be healthy, and nothing schedules its
# healthcheck here: run it while `up` waits.
cluster_up() {
	local i
	dc up -d >>"$W/compose.log" 2>&1 &
	up_pid=$!
	bg_pids=$up_pid		# smoke.sh's clean-up ends it, if need be
	for i in $(seq 240); do
		kill -0 "$up_pid" 2>/dev/null || break
		podman healthcheck run "$C" >/dev/null 2>&1
		sleep 0.5
	done
	if kill -0 "$up_pid" 2>/dev/null; then
		echo "docker-compose up -d: still waiting after 2 minutes" >&2
		return 1
	fi
	wait "$up_pid" || { tail -n 20 "$W/compose.log" >&2; return 1; }
	bg_pids=""
	say "docker-compose up -d done after $((($(date +%s%N) - u0) / 1000000)) ms"
	compose_up=1
	for i in 1 2 3; do
		C=$(node_ctr $i) wait_healthy || { echo "runneld-$i is not healthy" >&2; return 1; }
	done
}
u0=$(date +%s%N)
compose_up=1
check "docker-compose -f docker-compose.cluster.yml up -d: postgres and 3 nodes healthy" cluster_up
say "up and healthy in $((($(date +%s%N) - u0) / 1000000)) ms"

podman port "$C" | matches . && fail "postgres is published: $(podman port "$C")"
for n in 1 2 3; do
	podman port "$(node_ctr $n)" | matches -x "8080/tcp -> 127.0.0.1:${node_port[n]}" ||
	    fail "runneld-$n is published as $(podman port "$(node_ctr $n)")"
	[ "$(code "$(url $n)/healthz")" = 200 ] || fail "node $n: /healthz is not 200"
	[ "$(code "$(url $n)/api/v1/jobs")" = 401 ] || fail "node $n: no token is not 401"
done
psql_pg() { podman exec "$C" psql -X -q -U postgres -d runnel -Atc "$1"; }
[ "$(psql_pg "SELECT rolsuper FROM pg_roles WHERE rolname = 'runnel'")" = f ] ||
    fail "the role runnel is a superuser, or missing"
podman exec "$C" psql -X -w "postgresql://runnel@127.0.0.1/runnel" -c 'SELECT 1' \
    >/dev/null 2>&1 && fail "postgres lets runnel in over TCP without a password"
# Jobs run as runneld's user: its environment must not give them the
# database's password, nor the token.
for n in 1 2 3; do
	env1=$(podman exec "$(node_ctr $n)" cat /proc/1/environ | tr '\0' '\n')
	matches '^RUNNEL_LISTEN=' <<<"$env1" || fail "node $n: /proc/1/environ unreadable"
	! matches -e "$db_password" -e "$token" <<<"$env1" ||
	    fail "node $n: the database password or the token is in runneld's /proc/1/environ"
done
ok "only the nodes published (127.0.0.1); /healthz 200 and 401 without the token on each; no password or token in runneld's environment; PostgreSQL role runnel not a superuser, TCP needs its password"

# ---- 30 jobs through node 1, read on nodes 2 and 3 -----------------------
# Output and uploaded files in PostgreSQL (issue 11, item 7) make them
# readable on every node; before, a job's output is on the node that ran it.
blobs=0
[ "$(psql_pg "SELECT to_regclass('job_output') IS NOT NULL")" = t ] && blobs=1
job_output() {	# job_output ID NODE...: the output, the same wherever it is
	local id=$1 n out got=""
	shift
	for n in "$@"; do
		out=$(napi "$n" "/api/v1/jobs/$id/output")
		if [ -z "$out" ]; then
			[ "$blobs" = 0 ] && continue
			echo "node $n: job $id: no output" >&2
			return 1
		fi
		[ -z "$got" ] || [ "$out" = "$got" ] ||
		    { echo "node $n: job $id: '$out', not '$got'" >&2; return 1; }
		got=$out
	done
	[ -n "$got" ] || { echo "job $id: no output on any node" >&2; return 1; }
	printf '%s\n' "$got"
}
ids=()
for i in $(seq 30); do
	ids+=("$(nsubmit 1 "{\"command\":\"sleep 0.3; echo job $i on \$(cat /etc/hostname)\"}")") ||
	    fail "submit job $i on node 1"
done
for i in $(seq 30); do
	nwait 1 "${ids[i - 1]}" | matches '"state":"succeeded"' ||
	    fail "job ${ids[i - 1]} did not succeed: $(napi 1 "/api/v1/jobs/${ids[i - 1]}")"
done
ok "30 jobs submitted through node 1 (ids ${ids[0]}..${ids[29]}): all succeeded"

n_pg=$(psql_pg "SELECT count(*) FROM jobs WHERE id BETWEEN ${ids[0]} AND ${ids[29]}") ||
    fail "no jobs table in PostgreSQL"
[ "$n_pg" = 30 ] || fail "PostgreSQL has $n_pg of the 30 jobs"
ran_on=""; node_field=0
for i in $(seq 30); do
	id=${ids[i - 1]}
	for n in 2 3; do
		j=$(napi "$n" "/api/v1/jobs/$id")
		matches "\"id\":${id}[,}]" <<<"$j" && matches '"state":"succeeded"' <<<"$j" ||
		    fail "node $n: job $id: $j"
	done
	out=$(job_output "$id" 1 2 3) || fail "job $id: its output"
	matches -x "job $i on runneld-[123]" <<<"$out" || fail "job $id output: '$out'"
	ran_on="$ran_on ${out##* }"
	# RUNNEL_NODE_ID is the hostname: the job object names that node.
	if matches '"node":' <<<"$j"; then
		node_field=1
		[ "$(field node <<<"$j")" = "${out##* }" ] ||
		    fail "job $id ran on ${out##* } but names node $(field node <<<"$j")"
	fi
done
spread=$(tr ' ' '\n' <<<"$ran_on" | grep . | sort | uniq -c | awk '{printf "%s%s x%d", s, $2, $1; s=", "}')
[ "$(tr ' ' '\n' <<<"$ran_on" | grep . | sort -u | wc -l)" -gt 1 ] ||
    fail "all 30 jobs ran on one node: $spread"
ok "all 30 in PostgreSQL's jobs table; each read on nodes 2 and 3; their output (the hostname) says more than one node ran them: $spread"
if [ "$node_field" = 1 ]; then
	ok "each job object names the node that ran it (its RUNNEL_NODE_ID)"
else
	say "NOTE: the job object has no \"node\" field yet: not checked"
fi

# An upload taken in by node 1, run by any, downloaded from nodes 2 and 3.
if [ "$blobs" = 0 ]; then
	say "NOTE: no output or uploaded files in PostgreSQL yet: the upload across nodes is not checked"
else
	head -c 700000 /dev/urandom >"$W/cluster-upload.bin"
	up_out=$(napi 1 /api/v1/uploads -F "file=@$W/cluster-upload.bin;filename=cluster.bin" \
	    -w '\n%{http_code}')
	[ "$(tail -n 1 <<<"$up_out")" = 201 ] || fail "upload on node 1: $up_out"
	jf=$(head -n 1 <<<"$up_out" | field id)
	nwait 2 "$jf" | matches '"state":"succeeded"' || fail "upload job $jf did not succeed"
	for n in 2 3; do
		napi "$n" "/api/v1/jobs/$jf/file" -o "$W/cluster-download.bin"
		cmp -s "$W/cluster-upload.bin" "$W/cluster-download.bin" ||
		    fail "node $n: the file of upload job $jf differs from the upload"
	done
	ok "upload job $jf (700 KB) taken in by node 1, downloaded from nodes 2 and 3 byte for byte"
fi

# The documented backup: pg_dump while the cluster runs.
dc exec -T postgres pg_dump -U postgres -Fc runnel >"$W/runnel.dump" ||
    fail "pg_dump (docs/docker.md)"
podman exec -i "$C" pg_restore -l <"$W/runnel.dump" | matches 'TABLE public jobs ' ||
    fail "the dump has no jobs table"
psql_pg "CREATE DATABASE restored" || fail "CREATE DATABASE restored"
podman exec -i "$C" pg_restore -U postgres -d restored <"$W/runnel.dump" ||
    fail "pg_restore of the dump"
n_jobs=$(psql_pg "SELECT count(*) FROM jobs")
n_restored=$(podman exec "$C" psql -X -q -U postgres -d restored -Atc "SELECT count(*) FROM jobs")
[ "$n_restored" = "$n_jobs" ] || fail "restored $n_restored jobs of $n_jobs"
psql_pg "DROP DATABASE restored" || fail "DROP DATABASE restored"
ok "pg_dump of the running cluster (docs/docker.md): $(du -k "$W/runnel.dump" | cut -f1) KB; restored into a new database: $n_restored jobs, as many as in runnel"

# ---- one node stopped ----------------------------------------------------
dc stop runneld-2 >>"$W/compose.log" 2>&1 || fail "docker-compose stop runneld-2"
[ "$(podman inspect --format '{{.State.Status}}' "$(node_ctr 2)")" = exited ] ||
    fail "runneld-2 is not stopped"
[ "$(code --max-time 3 "$(url 2)/healthz")" = 000 ] || fail "node 2 still answers"
more=()
for n in 1 3; do
	[ "$(code "$(url $n)/healthz")" = 200 ] || fail "node $n: /healthz after node 2 stopped"
	for i in 1 2 3; do
		more+=("$(nsubmit "$n" "{\"command\":\"echo after on \$(cat /etc/hostname)\"}")") ||
		    fail "submit on node $n with node 2 stopped"
	done
done
for id in "${more[@]}"; do
	for n in 3 1; do
		nwait "$n" "$id" | matches '"state":"succeeded"' || fail "node $n: job $id did not succeed"
	done
	job_output "$id" 1 3 | matches -x 'after on runneld-[13]' ||
	    fail "job $id output: $(job_output "$id" 1 3)"
done
ok "runneld-2 stopped: nodes 1 and 3 healthy, 6 new jobs (${more[0]}..${more[5]}) submitted on both ran on them and read on both"

dc start runneld-2 >>"$W/compose.log" 2>&1 || fail "docker-compose start runneld-2"
C=$(node_ctr 2) wait_healthy || fail "runneld-2 is not healthy after its start"
for id in "${ids[29]}" "${more[@]}"; do
	napi 2 "/api/v1/jobs/$id" | matches '"state":"succeeded"' || fail "node 2: job $id after its start"
done
ok "runneld-2 started again: healthy, sees the jobs run while it was away"

# ---- a node that hangs: the others rescue its jobs -----------------------
# Six long jobs fill the six workers, two on each node.  Node 3 frozen
# (podman pause: no heartbeat) is declared dead after RUNNEL_NODE_TIMEOUT
# (5 s here) and its two jobs end "node lost" while the others run on;
# thawed, it joins again and ends the processes of the rescued attempts.
long=()
for i in $(seq 6); do
	long+=("$(nsubmit 1 '{"command":"sleep 60"}')") || fail "submit a long job"
done
running() {	# running: how many of the long jobs run, as node 2 sees them
	local id k=0
	for id in "${long[@]}"; do
		napi 2 "/api/v1/jobs/$id" | matches '"state":"running"' && k=$((k + 1))
	done
	echo "$k"
}
sleeps() {	# sleeps NODE: its `sleep 60` processes
	podman exec "$(node_ctr "$1")" sh -c 'for f in /proc/[0-9]*/cmdline; do
		tr "\0" " " <"$f" 2>/dev/null; echo; done' | grep -c '^sleep 60' || true
}
for _ in $(seq 100); do [ "$(running)" = 6 ] && break; sleep 0.1; done
[ "$(running)" = 6 ] || fail "the 6 long jobs are not all running: $(running)"
[ "$(sleeps 3)" = 2 ] || fail "runneld-3 does not run 2 of them: $(sleeps 3)"
podman pause "$(node_ctr 3)" >/dev/null || fail "podman pause runneld-3"
p0=$(date +%s%N)
lost=()
for _ in $(seq 150); do	# 30 s at most
	lost=()
	for id in "${long[@]}"; do
		napi 1 "/api/v1/jobs/$id" | matches '"error":"node lost"' && lost+=("$id")
	done
	[ "${#lost[@]}" -ge 2 ] && break
	sleep 0.2
done
dt=$((($(date +%s%N) - p0) / 1000000))
[ "${#lost[@]}" = 2 ] || fail "node 3 frozen: ${#lost[@]} jobs ended 'node lost' after ${dt} ms, not 2"
[ "$(running)" = 4 ] || fail "node 3 frozen: $(running) long jobs still run, not 4"
for id in "${lost[@]}"; do
	napi 2 "/api/v1/jobs/$id" | matches '"state":"failed"' || fail "job $id: not failed"
done
ok "runneld-3 frozen: its 2 jobs (${lost[*]}) failed 'node lost' after $((dt / 1000)).$((dt % 1000 / 100)) s (node timeout 5 s); the other 4 run on"
podman unpause "$(node_ctr 3)" >/dev/null || fail "podman unpause runneld-3"
for _ in $(seq 100); do [ "$(sleeps 3)" = 0 ] && break; sleep 0.1; done
[ "$(sleeps 3)" = 0 ] || fail "runneld-3 thawed: the rescued jobs' processes still run there"
podman logs "$(node_ctr 3)" 2>&1 | matches 'node=runneld-3 joined again' ||
    fail "runneld-3 did not join again"
C=$(node_ctr 3) wait_healthy || fail "runneld-3 is not healthy after it was thawed"
for id in "${lost[@]}"; do
	napi 3 "/api/v1/jobs/$id" | matches '"error":"node lost"' || fail "job $id changed after node 3 came back"
done
ok "runneld-3 thawed: joined again, ended the rescued attempts' processes, healthy; the jobs stay 'node lost'"

# ---- a node that crashes: restart: unless-stopped brings it back -----------
# runneld-1 killed (-9) with its 2 long jobs: the restart policy starts it
# again under the same node id (same hostname, PID 1), and its 2 jobs end
# "server restarted" (or "node lost", had the others declared it dead first).
[ "$(sleeps 1)" = 2 ] || fail "runneld-1 does not run 2 long jobs: $(sleeps 1)"
kill -9 "$(podman inspect --format '{{.State.Pid}}' "$(node_ctr 1)")"	# started by this test
for _ in $(seq 100); do
	[ "$(podman inspect --format '{{.RestartCount}}' "$(node_ctr 1)")" -ge 1 ] 2>/dev/null && break
	sleep 0.1
done
[ "$(podman inspect --format '{{.RestartCount}}' "$(node_ctr 1)")" -ge 1 ] ||
    fail "runneld-1 was not restarted after it was killed"
C=$(node_ctr 1) wait_healthy || fail "runneld-1 is not healthy after its restart"
crashed=()
for _ in $(seq 100); do	# the jobs of runneld-1: ended, not those of runneld-3
	crashed=()
	for id in "${long[@]}"; do
		case " ${lost[*]} " in *" $id "*) continue ;; esac
		napi 2 "/api/v1/jobs/$id" | matches '"error":"\(server restarted\|node lost\)"' &&
		    crashed+=("$id")
	done
	[ "${#crashed[@]}" -ge 2 ] && break
	sleep 0.1
done
[ "${#crashed[@]}" = 2 ] && [ "$(running)" = 2 ] ||
    fail "runneld-1 restarted: ${#crashed[@]} of its long jobs ended, $(running) run (expected 2 and 2)"
why=$(for id in "${crashed[@]}"; do napi 2 "/api/v1/jobs/$id" | field error; echo; done |
    sort | uniq -c | awk '{$1 = $1; printf "%s%s", s, $0; s=", "}')
ok "runneld-1 killed (-9): restarted by the policy as the same node, healthy; its 2 jobs ended ($why)"

for id in "${long[@]}"; do
	napi 3 "/api/v1/jobs/$id/cancel" -X POST >/dev/null
done
for _ in $(seq 30); do [ "$(running)" = 0 ] && break; sleep 0.1; done
[ "$(running)" = 0 ] || fail "$(running) long jobs still run after their cancel"
for _ in $(seq 30); do [ "$(sleeps 2)" = 0 ] && break; sleep 0.1; done
[ "$(sleeps 2)" = 0 ] || fail "the jobs canceled through node 3 still run on node 2"
ok "the last 2 long jobs, on runneld-2, canceled through runneld-3: their processes ended"

# ---- down -v ----------------------------------------------------------------
dc down -v >>"$W/compose.log" 2>&1 || fail "docker-compose down -v"
compose_up=0
left=$(podman ps -aq --filter "label=com.docker.compose.project=$P")
[ -z "$left" ] || fail "containers left after down -v: $left"
left=$(podman volume ls -q | grep "^$P" || true)
[ -z "$left" ] || fail "volumes left after down -v: $left"
ok "docker-compose down -v: no container, no volume left"
say "the cluster part took $((($(date +%s%N) - cluster_t0) / 1000000000))s"
