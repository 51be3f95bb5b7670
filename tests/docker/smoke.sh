#!/usr/bin/env bash
# Container smoke test of the docker-compose deployment (issue 5).
#
# Builds the image from docker/Dockerfile with podman, drives the real
# docker-compose (v1) through podman's Docker-compatible API socket, and
# checks through the published port what a user relies on: the token,
# command jobs and their output, uploads and downloads, no zombies with
# runneld as PID 1, restart after a crash, a graceful `down` (exit 0 within
# the grace), data kept in the named volume across down/up, and the
# documented backup (while runneld is busy) and restore.
#
#   sudo tests/docker/smoke.sh      (root: installs what it needs with apt)
#   sudo tests/docker/smoke.sh --cluster        then tests/docker/cluster.sh
#   sudo tests/docker/smoke.sh --cluster-only   the cluster part only
#
# tests/docker/cluster.sh, the cluster compose file's test, runs here,
# sourced, in the same podman and with the same runneld image.
#
# Everything it makes lives in one temporary directory (podman storage,
# configuration, socket, base image) and is removed on exit, whatever
# happens; so are the iptables chains, /run/netns and /run/containers that
# podman adds when they were not there before.  No registry is used: the
# base image debian:bookworm-slim is made with debootstrap from the Debian
# mirror that apt is configured with.  See docs/docker.md and
# tests/docker/README.md.
#
# Exit: 0 passed, 1 failed, 77 skipped (only where podman cannot run a
# container at all here: said on stderr, with the reason).
set -Eeuo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
case ${1:-} in
'') cluster=no ;;
--cluster) cluster=after ;;
--cluster-only) cluster=only ;;
*) echo "usage: $0 [--cluster | --cluster-only]" >&2; exit 2 ;;
esac
start_s=$(date +%s)
t0=$(date +%s%N)
passed=0

# ---- output -------------------------------------------------------------
elapsed() { printf '%5.1fs' "$(( ($(date +%s%N) - t0) / 1000000 ))e-3"; }
say()  { printf '[%s] %s\n' "$(elapsed)" "$*"; }
ok()   { passed=$((passed + 1)); printf '[%s] ok %d - %s\n' "$(elapsed)" "$passed" "$*"; }
fail() {
	printf '[%s] FAIL - %s\n' "$(elapsed)" "$*" >&2
	exit 1
}
skip() {
	printf 'tests/docker/smoke.sh: SKIPPED: %s\n' "$*" >&2
	printf 'smoke: %d passed, 0 failed, 1 skipped\n' "$passed"
	exit 77
}
matches() {	# ... | matches [GREP-OPTIONS] PATTERN: reads all its input first
	local in
	in=$(cat)
	grep -q "$@" <<<"$in"
}
check() {	# check DESCRIPTION COMMAND...: ok if COMMAND succeeds
	local what=$1
	shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}

# Nothing from the caller's environment may change the compose file's
# values or where docker-compose connects.
for v in $(env | sed -n 's/^\(RUNNEL_[A-Za-z0-9_]*\)=.*/\1/p;s/^\(COMPOSE_[A-Za-z0-9_]*\)=.*/\1/p;s/^\(DOCKER_[A-Za-z0-9_]*\)=.*/\1/p;s/^\(CONTAINERS_[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$v"
done
unset BUILDAH_FORMAT REGISTRY_AUTH_FILE

# ---- tools --------------------------------------------------------------
pkgs="podman runc buildah debootstrap docker-compose uidmap slirp4netns
fuse-overlayfs containernetworking-plugins netavark aardvark-dns iptables
curl sqlite3 iproute2"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | matches "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
		skip "podman cannot run here: needs root with apt-get to install$missing"
	fi
	say "installing:$missing"
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
	    install -y -qq --no-install-recommends $missing >/dev/null
fi
[ "$(id -u)" -eq 0 ] || skip "podman cannot run here: this test runs rootful podman and needs root"

# ---- a private podman: everything in one directory, removed on exit -----
W=$(mktemp -d "${TMPDIR:-/tmp}/runnel-docker-smoke.XXXXXX")
chmod 0755 "$W"
P="runnelsmoke$$"		# compose project
C="${P}_runneld_1"		# its container
svc_pid=""
bg_pids=""		# background commands to end on exit
compose_up=0
had_netns=0; [ -e /run/netns ] && had_netns=1
had_runc=0; [ -e /run/runc ] && had_runc=1
had_ctrs=0; [ -e /run/containers ] && had_ctrs=1
had_netavark=0
iptables-save 2>/dev/null | matches NETAVARK && had_netavark=1

mkdir -p "$W/storage" "$W/run" "$W/tmp" "$W/libpod" "$W/networks"
nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
[ "$nofile" = unlimited ] && nofile=1048576
[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
cat >"$W/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$W/events.log"
tmp_dir = "$W/libpod"
image_copy_tmp_dir = "$W/tmp"

[network]
network_config_dir = "$W/networks"
EOF
cat >"$W/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$W/storage"
runroot = "$W/run"
EOF
cat >"$W/registries.conf" <<EOF
unqualified-search-registries = []
EOF
export CONTAINERS_CONF="$W/containers.conf"
export CONTAINERS_STORAGE_CONF="$W/storage.conf"
export CONTAINERS_REGISTRIES_CONF="$W/registries.conf"
export TMPDIR="$W/tmp"
export BUILDAH_FORMAT=docker	# else the image's HEALTHCHECK is dropped
export DOCKER_HOST="unix://$W/podman.sock"
# docker-compose v1 runs `exec` and `run` through the docker CLI when it has
# one, else through the API itself.
command -v docker >/dev/null || export COMPOSE_INTERACTIVE_NO_CLI=1

dc() { docker-compose -p "$P" -f "$compose_file" --env-file "$W/test.env" "$@"; }

diagnose() {
	echo "---- diagnostics (work dir $W)" >&2
	podman ps -a >&2 2>&1 || true
	local c
	for c in $(podman ps -a --format '{{.Names}}' \
	    --filter "label=com.docker.compose.project=$P" 2>/dev/null); do
		echo "---- $c (tail)" >&2
		podman logs --tail 40 "$c" >&2 2>&1 || true
	done
	echo "---- podman service log (tail)" >&2
	tail -n 15 "$W/service.log" >&2 2>/dev/null || true
}

podman_procs() {
	local p cmd
	for p in /proc/[0-9]*; do
		case "$(readlink "$p/exe" 2>/dev/null)" in
		*/podman | */conmon | */runc | */netavark | */aardvark-dns) ;;
		*) continue ;;
		esac
		cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
		case "$cmd" in *"$W/"* | *"$W "*) echo "${p#/proc/}" ;; esac
	done
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	[ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && diagnose
	local p
	for p in $bg_pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ "$compose_up" = 1 ] && [ -S "$W/podman.sock" ]; then
		dc down -v --remove-orphans -t 10 >>"$W/compose.log" 2>&1
	fi
	if [ -n "$svc_pid" ]; then
		kill "$svc_pid" 2>/dev/null
		wait "$svc_pid" 2>/dev/null
	fi
	# What podman started for this run and left behind (a conmon per exec
	# session lingers for minutes, then runs `podman container cleanup`):
	# podman, conmon, runc, netavark and aardvark-dns processes whose
	# command line names this run's directory, by pid, until none is left.
	local i
	for i in $(seq 50); do
		[ -z "$(podman_procs)" ] && break
		# shellcheck disable=SC2046 # a list of pids
		kill -KILL $(podman_procs) 2>/dev/null
		sleep 0.1
	done
	if [ -n "${CONTAINERS_CONF:-}" ] && command -v podman >/dev/null; then
		podman system reset -f >>"$W/reset.log" 2>&1
	fi
	# shellcheck disable=SC2046 # a list of pids
	[ -z "$(podman_procs)" ] || kill -KILL $(podman_procs) 2>/dev/null
	grep -F "$W" /proc/self/mounts | awk '{print $2}' | sort -r |
	    while read -r m; do umount -l "$m" 2>/dev/null; done
	if [ "$had_netns" = 0 ] && [ -d /run/netns ] &&
	    [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
		umount /run/netns 2>/dev/null
		rmdir /run/netns 2>/dev/null
	fi
	[ "$had_runc" = 0 ] && rmdir /run/runc 2>/dev/null
	[ "$had_ctrs" = 0 ] && rm -rf /run/containers
	if [ "$had_netavark" = 0 ]; then
		local t r c chains
		for t in filter nat; do
			iptables -t "$t" -S 2>/dev/null |
			    grep -E '^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) .*-j NETAVARK' |
			    sed 's/^-A/-D/' | while read -r r; do
				eval "iptables -t $t $r" 2>/dev/null
			done
			chains=$(iptables -t "$t" -S 2>/dev/null | awk '/^-N NETAVARK/ {print $2}')
			for c in $chains; do iptables -t "$t" -F "$c" 2>/dev/null; done
			for c in $chains; do iptables -t "$t" -X "$c" 2>/dev/null; done
		done
	fi
	rm -rf "$W"
	if [ -e "$W" ]; then
		echo "tests/docker/smoke.sh: could not remove $W" >&2
		[ "$rc" -eq 0 ] && rc=1
	fi
	if [ "$rc" -ne 77 ]; then
		printf 'tests/docker/smoke.sh: %ds\n' \
		    $(($(date +%s) - start_s))
		printf 'smoke: %d passed, %d failed\n' "$passed" $((rc != 0))
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the compose file and the Dockerfile, without any engine -------------
compose_file="$top/docker-compose.yml"
check "docker/Dockerfile exists" test -f "$top/docker/Dockerfile"
check "docker-compose.yml exists" test -f "$compose_file"
check ".env.example exists" test -f "$top/.env.example"

# A throw-away project directory would change how "." resolves: give the
# values with --env-file instead (that is what .env does).
: >"$W/empty.env"
if docker-compose -f "$compose_file" --env-file "$W/empty.env" config -q \
    >"$W/config-notoken.out" 2>&1; then
	fail "docker-compose config must refuse to work without RUNNEL_TOKEN"
fi
grep -q "set RUNNEL_TOKEN" "$W/config-notoken.out" ||
    fail "no token: unexpected message: $(cat "$W/config-notoken.out")"
ok "without RUNNEL_TOKEN, docker-compose refuses (\"set RUNNEL_TOKEN ...\")"

token="smoke-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# .env.example as a user fills it in: only the token.
sed "s/^RUNNEL_TOKEN=\$/RUNNEL_TOKEN=$token/" "$top/.env.example" >"$W/user.env"
grep -q "^RUNNEL_TOKEN=$token\$" "$W/user.env" ||
    fail ".env.example has no empty 'RUNNEL_TOKEN=' line to fill in"
docker-compose -f "$compose_file" --env-file "$W/user.env" config -q ||
    fail "docker-compose config -q"
ok "docker-compose config -q (with .env.example and a token)"

docker-compose -f "$compose_file" --env-file "$W/user.env" config >"$W/config.yml"
# The defaults a user gets: loopback publishing, a named volume for /data,
# restart policy, healthcheck, and a stop grace above runneld's.
cfg() { sed -n "s/^ *$1: *'*\([^']*\)'*\$/\1/p" "$W/config.yml" | head -1; }
grep -Eq '^ *- (127\.0\.0\.1:)8080:8080(/tcp)?$' "$W/config.yml" ||
    fail "the port is not published on 127.0.0.1 by default"
grep -Eq '^ *- runnel-data:/data(:rw)?$' "$W/config.yml" &&
    grep -Eq '^ *runnel-data: *\{\}$|^ *runnel-data:$' "$W/config.yml" ||
    fail "/data is not the named volume runnel-data"
[ "$(cfg restart)" = unless-stopped ] || fail "restart is not unless-stopped"
grep -q 'runneld --check\|- --check' "$W/config.yml" || fail "no healthcheck"
[ "$(cfg dockerfile)" = docker/Dockerfile ] && [ "$(cfg context)" = "$top" ] ||
    fail "build: context must be the repository root, dockerfile docker/Dockerfile"
sg=$(cfg stop_grace_period); sg=${sg%s}
shutdown=$(cfg RUNNEL_SHUTDOWN_GRACE); kill_grace=$(cfg RUNNEL_KILL_GRACE)
[ -n "$sg" ] && [ -n "$shutdown" ] && [ -n "$kill_grace" ] &&
    [ "$sg" -gt $((shutdown + kill_grace)) ] ||
    fail "stop_grace_period ($sg) must exceed RUNNEL_SHUTDOWN_GRACE ($shutdown) + RUNNEL_KILL_GRACE ($kill_grace)"
ok "defaults: 127.0.0.1:8080, volume runnel-data:/data, unless-stopped, healthcheck, stop_grace_period ${sg}s > ${shutdown}s + ${kill_grace}s"


# Can podman work here at all (storage, runtime)?  If not, it is the host.
if ! podman info >"$W/info.log" 2>&1; then
	skip "podman cannot run on this machine: $(grep -m 3 -i 'error' "$W/info.log" | tr '\n' ' ')"
fi

# ---- the base image, from the Debian mirror apt uses -------------------
mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
    awk '$2 == "bookworm" && !m { m = $1 } END { print m }') || true
if [ -z "$mirror" ]; then	# before any apt-get update: read the sources
	mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
	    awk '/^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm" && !m) m = u } END { print m }') || true
fi
if [ -z "$mirror" ]; then
	mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /:\/\// && $(i+1) == "bookworm" && !m) m = $i } END { print m }' \
	    /etc/apt/sources.list 2>/dev/null) || true
fi
[ -n "$mirror" ] || fail "no Debian bookworm mirror in apt's configuration"
say "debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase bookworm "$W/base" "$mirror" >"$W/debootstrap.log" 2>&1 ||
    { tail -n 20 "$W/debootstrap.log" >&2; fail "debootstrap"; }
# What debian:bookworm-slim leaves out.
rm -rf "$W/base"/var/cache/apt/archives/*.deb "$W/base"/var/lib/apt/lists/* \
    "$W/base"/usr/share/doc/* "$W/base"/usr/share/man/* "$W/base"/usr/share/locale/*
tar -C "$W/base" --numeric-owner -cf - . |
    podman import - localhost/debian-base >"$W/import.log" 2>&1 || fail "podman import"
podman tag localhost/debian-base docker.io/library/debian:bookworm-slim
rm -rf "$W/base"
ok "base image debian:bookworm-slim made locally ($(podman image inspect --format '{{.Size}}' localhost/debian-base | awk '{printf "%d MB", $1/1e6}'))"

# Can podman run a container here at all?  If not, it is the host, not us.
if ! podman run --rm docker.io/library/debian:bookworm-slim true >"$W/probe.log" 2>&1; then
	skip "podman cannot run a container on this machine: $(tail -n 3 "$W/probe.log" | tr '\n' ' ')"
fi

podman system service --time=0 "unix://$W/podman.sock" >"$W/service.log" 2>&1 &
svc_pid=$!
for _ in $(seq 100); do
	curl -sf --unix-socket "$W/podman.sock" http://d/_ping >/dev/null 2>&1 && break
	sleep 0.1
done
curl -sf --unix-socket "$W/podman.sock" http://d/_ping >/dev/null ||
    fail "podman API service did not answer on $W/podman.sock"
ok "podman API service up (pid $svc_pid)"

# ---- a free port and the user's .env -----------------------------------
port=""
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 30000))
	if [ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ]; then port=$p; break; fi
done
[ -n "$port" ] || fail "no free port"
# RUNNEL_SHUTDOWN_GRACE is above Docker's default 10 s stop timeout, so a
# clean exit after it proves that stop_grace_period reaches the engine.
cp "$W/user.env" "$W/test.env"
cat >>"$W/test.env" <<EOF
RUNNEL_PORT=$port
RUNNEL_SHUTDOWN_GRACE=12
RUNNEL_KILL_GRACE=2
RUNNEL_STOP_GRACE=30s
EOF
U="http://127.0.0.1:$port"
AUTH="Authorization: Bearer $token"

# ---- build -------------------------------------------------------------
say "docker-compose build (podman builds docker/Dockerfile: build, unit tests, runtime image)"
if ! dc build >"$W/build.log" 2>&1; then
	tail -n 60 "$W/build.log" >&2
	fail "docker-compose build"
fi
grep -Eq '100% tests passed, 0 tests failed out of [1-9]' "$W/build.log" ||
    fail "the build stage did not run the unit tests"
ok "image built; build stage: $(grep -Eo '100% tests passed, 0 tests failed out of [0-9]+' "$W/build.log")"
img=$(dc config | sed -n 's/^ *image: *//p' | head -1)
hc=$(podman image inspect --format '{{json .HealthCheck}}' "$img") || fail "no image $img"
grep -q '"CMD","/usr/local/bin/runneld","--check","http://127.0.0.1:8080/healthz"' <<<"$hc" ||
    fail "the image's HEALTHCHECK is not runneld --check (BUILDAH_FORMAT=docker?): $hc"
[ "$(podman image inspect --format '{{.Config.User}}' "$img")" = runnel ] ||
    fail "the image does not run as user runnel"
[ "$(podman image inspect --format '{{.Config.StopSignal}}' "$img")" = SIGTERM ] ||
    fail "STOPSIGNAL is not SIGTERM"
podman image inspect --format '{{json .Config.ExposedPorts}} {{json .Config.Volumes}}' "$img" |
    matches '"8080/tcp".*"/data"' || fail "EXPOSE 8080 / VOLUME /data missing"
ok "image: user runnel, HEALTHCHECK runneld --check, STOPSIGNAL SIGTERM, EXPOSE 8080, VOLUME /data ($(podman image inspect --format '{{.Size}}' "$img" | awk '{printf "%d MB", $1/1e6}'))"

# ---- helpers for the running stack ----------------------------------------
wait_healthy() {	# the healthcheck is not scheduled here: run it by hand
	local i
	for i in $(seq 120); do
		if podman healthcheck run "$C" >/dev/null 2>&1; then
			[ "$(podman inspect --format '{{.State.Health.Status}}' "$C")" = healthy ] &&
			    return 0
		fi
		sleep 0.5
	done
	return 1
}
api() { curl -s -H "$AUTH" "$@"; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",]*\).*/\1/p"; }
submit() {	# submit JSON: prints the new job's id
	local out
	out=$(api -H 'Content-Type: application/json' --data-binary "$1" \
	    -w '\n%{http_code}' "$U/api/v1/jobs")
	[ "$(tail -n 1 <<<"$out")" = 201 ] || { echo "submit: $out" >&2; return 1; }
	head -n 1 <<<"$out" | field id
}
wait_job() { api "$U/api/v1/jobs/$1?wait=${2:-30}"; }
state() { api "$U/api/v1/jobs/$1" | field state; }

if [ "$cluster" = only ]; then
	# shellcheck source=tests/docker/cluster.sh
	. "$top/tests/docker/cluster.sh"
	exit 0
fi

# ---- up ----------------------------------------------------------------
up() {
	dc up -d >>"$W/compose.log" 2>&1 || { tail -n 20 "$W/compose.log" >&2; return 1; }
	compose_up=1
	wait_healthy
}
check "docker-compose up -d: container healthy" up
podman port "$C" | matches -x "8080/tcp -> 127.0.0.1:$port" ||
    fail "published as $(podman port "$C"), not 127.0.0.1:$port"
[ "$(podman exec "$C" cat /proc/1/comm)" = runneld ] || fail "runneld is not PID 1"
podman exec "$C" grep -q '^Uid:[[:space:]]*10001[[:space:]]' /proc/1/status ||
    fail "runneld does not run as uid 10001"
podman exec "$C" sh -c 'for t in cc gcc cmake make; do command -v $t && exit 1; done
	! ls /usr/include/*.h >/dev/null 2>&1' >/dev/null ||
    fail "the runtime image has a compiler or headers"
ok "published on 127.0.0.1:$port only; runneld is PID 1 as uid 10001 (runnel); no compiler or headers in the image"

# ---- the API through the published port --------------------------------
[ "$(code "$U/healthz")" = 200 ] || fail "/healthz without a token is not 200"
[ "$(code "$U/api/v1/jobs")" = 401 ] || fail "GET /api/v1/jobs without a token is not 401"
[ "$(code -H 'Authorization: Bearer wrong' "$U/api/v1/jobs")" = 401 ] ||
    fail "a wrong token is not 401"
[ "$(code -H 'Content-Type: application/json' --data-binary '{"command":"touch /tmp/pwned"}' \
    "$U/api/v1/jobs")" = 401 ] || fail "POST /api/v1/jobs without a token is not 401"
ok "401 without the token and with a wrong one (GET and POST); /healthz public"

j1=$(submit '{"command":"echo hello from runnel; id -un; echo \"$HOME\""}') || fail "submit a command job"
wait_job "$j1" | matches '"state":"succeeded"' || fail "job $j1 did not succeed"
out1=$(api "$U/api/v1/jobs/$j1/output")
[ "$out1" = "$(printf 'hello from runnel\nrunnel\n/home/runnel')" ] ||
    fail "job $j1 output: $out1"
ok "command job $j1 with the token: succeeded, output read back ($(wc -c <<<"$out1") bytes)"

# the client in the image, with the token from the environment
cli_rc=0
cli_out=$(podman exec -e RUNNEL_TOKEN="$token" "$C" runnel run -- 'echo from the client; exit 4' 2>&1) ||
    cli_rc=$?
[ "$cli_rc" = 4 ] && [ "$cli_out" = "from the client" ] ||
    fail "runnel run in the container: exit $cli_rc, output: $cli_out"
ok "runnel run in the container: the job's output and its exit status 4"

head -c 1500000 /dev/urandom >"$W/upload.bin"
sha=$(sha256sum "$W/upload.bin" | cut -d' ' -f1)
up_out=$(api -F "file=@$W/upload.bin;filename=smoke data.bin" -w '\n%{http_code}' "$U/api/v1/uploads")
[ "$(tail -n 1 <<<"$up_out")" = 201 ] || fail "upload: $up_out"
grep -q "\"sha256\":\"$sha\"" <<<"$up_out" || fail "upload: sha256 differs: $up_out"
j2=$(head -n 1 <<<"$up_out" | field id)
wait_job "$j2" | matches '"state":"succeeded"' || fail "upload job $j2 did not succeed"
api -o "$W/download.bin" "$U/api/v1/jobs/$j2/file"
cmp -s "$W/upload.bin" "$W/download.bin" || fail "the downloaded file differs from the upload"
ok "upload job $j2 (1.5 MB, sha256 ${sha:0:12}...) downloaded back byte for byte"

# ---- PID 1 and zombies -------------------------------------------------
procs() {	# "pid ppid state comm" for every process in the container
	podman exec "$C" sh -c 'for s in /proc/[0-9]*/stat; do
		read -r l 2>/dev/null <"$s" || continue
		c=${l#*\(}; c=${c%\)*}; r=${l##*\) }
		st=${r%% *}; r=${r#* }
		echo "${l%% *} ${r%% *} $st $c"
	done'
}
zombies() { procs | awk '$3 == "Z"'; }
# An orphan made outside any worker (podman exec): re-parented to PID 1.
orphan=$(podman exec "$C" sh -c '(sleep 2 & echo $!) ; exit 0')
pp=$(procs | awk -v p="$orphan" '$1 == p { print $2 }')
[ "$pp" = 1 ] || fail "the orphan $orphan has parent '$pp', not 1 (runneld)"
# A job that double-forks short-lived children, also one out of its
# process group.
j3=$(submit '{"command":"(sleep 0.3 &) ; (setsid sleep 0.6 &) ; exit 0"}') || fail "submit"
wait_job "$j3" | matches '"state":"succeeded"' || fail "double-fork job $j3"
# A job whose worker dies under it: its processes are left to runneld.
j4=$(submit '{"command":"sleep 1 & sleep 60; echo never"}') || fail "submit"
for _ in $(seq 50); do [ "$(state "$j4")" = running ] && break; sleep 0.1; done
w=$(api "$U/api/v1/jobs/$j4" | field worker)
wpid=$(api "$U/api/v1/workers" | grep -o "\"id\":$w,\"pid\":[0-9]*" | sed 's/.*://')
[ -n "$wpid" ] || fail "no pid for worker $w"
podman exec "$C" sh -c "kill -9 $wpid"
wait_job "$j4" | matches '"error":"worker lost"' || fail "job $j4: expected 'worker lost'"
# The orphan's sleep ends 2 s after it started: reaped, not left a zombie.
for _ in $(seq 30); do
	[ -z "$(procs | awk -v p="$orphan" '$1 == p')" ] && break
	sleep 0.2
done
sleep 1
z=$(zombies)
[ -z "$z" ] || fail "zombies in the container: $z"
left=$(procs | awk '$4 == "sleep"')
[ -z "$left" ] || fail "processes left over: $left"
n=$(procs | wc -l)
ok "no zombie: job $j3 double-forked, orphan $orphan of podman exec reaped by PID 1, worker of job $j4 killed (-9); $n processes, none Z"
wait_healthy || fail "not healthy after a worker was killed"

# ---- a crash: restart: unless-stopped brings it back -------------------
j5=$(submit '{"command":"sleep 30"}') || fail "submit"
for _ in $(seq 50); do [ "$(state "$j5")" = running ] && break; sleep 0.1; done
hpid=$(podman inspect --format '{{.State.Pid}}' "$C")
kill -9 "$hpid"		# runneld (PID 1 of the container), which this test started
for _ in $(seq 100); do
	[ "$(podman inspect --format '{{.RestartCount}}' "$C")" -ge 1 ] 2>/dev/null && break
	sleep 0.1
done
[ "$(podman inspect --format '{{.RestartCount}}' "$C")" -ge 1 ] ||
    fail "the container was not restarted after runneld was killed"
wait_healthy || fail "not healthy after the restart"
wait_job "$j5" 5 | matches '"error":"server restarted"' ||
    fail "job $j5: expected 'server restarted' after the crash"
ok "runneld killed (-9): restarted by the policy, healthy, its running job $j5 recovered (failed: server restarted)"

# ---- graceful down ------------------------------------------------------
ja=$(submit '{"command":"sleep 3; echo drained"}') || fail "submit"
jb=$(submit '{"command":"sleep 300"}') || fail "submit"
for _ in $(seq 50); do
	[ "$(state "$ja")" = running ] && [ "$(state "$jb")" = running ] && break
	sleep 0.1
done
[ "$(state "$ja")" = running ] && [ "$(state "$jb")" = running ] ||
    fail "jobs $ja and $jb are not both running"
cid=$(podman inspect --format '{{.Id}}' "$C")
d0=$(date +%s%N)
dc down >>"$W/compose.log" 2>&1 || fail "docker-compose down"
compose_up=0
dt=$((($(date +%s%N) - d0) / 1000000))
exit_code=$(podman events --stream=false --filter "container=$cid" --filter event=died \
    --format '{{.ContainerExitCode}}' | tail -n 1)
[ "$exit_code" = 0 ] || fail "the container exited with '$exit_code' on down, not 0"
[ "$dt" -ge 12000 ] || fail "down took ${dt} ms: runneld did not wait for its 12 s grace"
podman volume exists "${P}_runnel-data" || fail "down removed the volume"
ok "docker-compose down: exit code 0 after $((dt / 1000)).$((dt % 1000 / 100))s (grace 12s, stop_grace_period 30s > Docker's 10s default); volume kept"

check "docker-compose up -d again: healthy" up
wait_job "$ja" 1 | matches '"state":"succeeded"' || fail "job $ja did not finish during the drain"
[ "$(api "$U/api/v1/jobs/$ja/output")" = drained ] || fail "job $ja output"
sb=$(state "$jb")
[ "$sb" = queued ] || [ "$sb" = running ] || fail "job $jb is $sb: it should have been requeued"
api -X POST "$U/api/v1/jobs/$jb/cancel" | matches '"state":"canceled"' || fail "cancel $jb"
[ "$(api "$U/api/v1/jobs/$j1/output")" = "$out1" ] || fail "job $j1 output after down/up"
api -o "$W/download2.bin" "$U/api/v1/jobs/$j2/file"
cmp -s "$W/upload.bin" "$W/download2.bin" || fail "upload $j2 differs after down/up"
njobs=$(api "$U/api/v1/jobs?limit=1000" | grep -o '"id":[0-9]*' | wc -l)
[ "$njobs" = "$jb" ] || fail "expected $jb jobs after down/up, found $njobs"
ok "after down/up: all $njobs jobs there, job $j1 output and upload $j2 identical, $ja drained ok, $jb requeued (then canceled)"

# ---- backup while busy (docs/docker.md) ---------------------------------
# Submissions and 2 workers writing at the same time.
(
	for i in $(seq 5000); do	# stopped once the backups are taken
		submit "{\"command\":\"echo load $i\"}" >/dev/null || exit 1
		echo "$i" >"$W/acked.new" && mv -f "$W/acked.new" "$W/acked"
	done
) &
load_pid=$!
acked() { cat "$W/acked" 2>/dev/null || echo 0; }
for _ in $(seq 100); do [ "$(acked)" -ge 30 ] && break; sleep 0.05; done
start=$(acked)
# The documented command, as is:
dc exec -T runneld sh -c 'set -e; d=$(mktemp -d); sqlite3 /data/runnel.db ".backup $d/runnel.db"; tar --warning=no-file-changed --warning=no-file-removed -cf - -C "$d" runnel.db -C /data files output || [ $? -eq 1 ]; rm -rf "$d"' \
    >"$W/runnel-backup.tar" || fail "backup command"
end=$(acked)
# The host-side form: the host's sqlite3 on the volume's directory.
vol=$(podman volume inspect --format '{{.Mountpoint}}' "${P}_runnel-data")
hstart=$(acked)
kill -0 "$load_pid" 2>/dev/null || fail "the load ended before the host-side backup"
sqlite3 "$vol/runnel.db" ".backup $W/host-backup.db" || fail "host-side sqlite3 .backup"
hend=$(acked)
kill "$load_pid" 2>/dev/null; wait "$load_pid" 2>/dev/null || true
final=$(acked)
[ "$end" -gt "$start" ] || fail "no submission was acknowledged while the backup ran ($start, $end)"
[ "$(sqlite3 "$W/host-backup.db" 'PRAGMA integrity_check')" = ok ] ||
    fail "host-side backup: integrity_check"
nh=$(sqlite3 "$W/host-backup.db" 'SELECT count(*) FROM jobs')
[ "$nh" -ge $((njobs + hstart)) ] && [ "$nh" -le $((njobs + final + 1)) ] ||
    fail "the host-side backup has $nh jobs: expected $((njobs + hstart))..$((njobs + final + 1))"
[ -z "$(find "$vol" ! -user 10001)" ] || fail "the host-side backup left files not owned by 10001"
mkdir "$W/backup"
tar -C "$W/backup" -xf "$W/runnel-backup.tar" || fail "the backup is not a tar"
[ "$(sqlite3 "$W/backup/runnel.db" 'PRAGMA integrity_check')" = ok ] ||
    fail "backup: integrity_check"
nb=$(sqlite3 "$W/backup/runnel.db" 'SELECT count(*) FROM jobs')
[ "$nb" -ge $((njobs + start)) ] && [ "$nb" -le $((njobs + final + 1)) ] ||
    fail "the backup has $nb jobs: expected $((njobs + start))..$((njobs + final + 1))"
cmp -s "$W/upload.bin" "$(find "$W/backup/files/$j2" -type f | head -1)" ||
    fail "backup: the uploaded file is not in it"
ok "host-side sqlite3 .backup on the volume while busy (at submission $hstart..$hend): integrity ok, $nh jobs"
ok "backup while busy (submissions $start..$end acknowledged during it, 2 workers running them): integrity ok, $nb jobs, upload and outputs in it ($(du -k "$W/runnel-backup.tar" | cut -f1) KB)"

# ---- restore into a new volume (docs/docker.md) -------------------------
say "docker-compose down -v; restore the backup into a new volume"
dc down -v >>"$W/compose.log" 2>&1 || fail "docker-compose down -v"
compose_up=0
! podman volume exists "${P}_runnel-data" || fail "down -v kept the volume"
dc run --rm -T --no-deps runneld sh -c 'cd /data && rm -rf runnel.db runnel.db-wal runnel.db-shm files output && tar -xf -' \
    <"$W/runnel-backup.tar" >>"$W/compose.log" 2>&1 || fail "restore command"
compose_up=1
check "restored into a new volume; docker-compose up -d: healthy" up
nr=$(api "$U/api/v1/jobs?limit=1000" | grep -o '"id":[0-9]*' | wc -l)
[ "$nr" = "$nb" ] || fail "restored: $nr jobs, the backup had $nb"
[ "$(api "$U/api/v1/jobs/$j1/output")" = "$out1" ] || fail "restored: job $j1 output"
api -o "$W/download3.bin" "$U/api/v1/jobs/$j2/file"
cmp -s "$W/upload.bin" "$W/download3.bin" || fail "restored: upload $j2 differs"
[ -z "$(podman exec "$C" find /data ! -user runnel)" ] || fail "restored files not owned by runnel"
ok "restored: $nb jobs, job $j1 output and upload $j2 identical, files owned by runnel"

# ---- upgrade: a volume from schema version 1, migrated at start-up -------
dc down -v >>"$W/compose.log" 2>&1 || fail "docker-compose down -v"
compose_up=1
now=$(($(date +%s) * 1000))
{
	cat "$top/schema/sqlite/001_init.sql"
	echo "PRAGMA user_version = 1;"
	echo "INSERT INTO jobs (type, queue, priority, state, command, env, created_at, started_at, finished_at, exit_code, attempts)
	    VALUES ('command', 'default', 0, 'succeeded', 'echo old', '{}', $now, $now, $now, 0, 1);"
	echo "INSERT INTO jobs (type, queue, priority, state, command, env, created_at)
	    VALUES ('command', 'default', 0, 'queued', 'echo queued before the upgrade', '{}', $now);"
} | dc run --rm -T --no-deps runneld sqlite3 /data/runnel.db >>"$W/compose.log" 2>&1 ||
    fail "making a version 1 database"
check "a volume with a version 1 database; docker-compose up -d: healthy" up
for f in "$top"/schema/sqlite/[0-9]*.sql; do
	f=${f##*/}
	[ "${f%%_*}" = 001 ] && continue
	podman logs "$C" 2>&1 | matches "store: applied migration $f" ||
	    fail "migration $f was not applied at start-up"
done
wait_job 1 1 | matches '"state":"succeeded"' || fail "the old job 1 is gone"
wait_job 2 | matches '"state":"succeeded"' || fail "the job queued before the upgrade did not run"
[ "$(api "$U/api/v1/jobs/2/output")" = "queued before the upgrade" ] || fail "job 2 output"
ok "upgrade: migrations $(ls "$top"/schema/sqlite | sed -n 's/^\([0-9]*\)_.*/\1/p' | grep -v '^001$' | tr '\n' ' ')applied at start-up; the old jobs kept, the queued one ran"

dc down -v >>"$W/compose.log" 2>&1 || fail "docker-compose down -v"
compose_up=0
peak=$(du -smx "$W" | cut -f1)
ok "docker-compose down -v (work dir at the end: ${peak} MB)"

# ---- the cluster compose file, in the same podman ---------------------------
if [ "$cluster" = after ]; then
	# shellcheck source=tests/docker/cluster.sh
	. "$top/tests/docker/cluster.sh"
fi
