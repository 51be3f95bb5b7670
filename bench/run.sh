#!/bin/sh
# Builds the release binaries and runs every benchmark, printing the
# figures that go into bench/RESULTS.md (with the date and the machine).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
.ci/deps test
# wrk drives the HTTP load; beanstalkd is enqueue's baseline (beanstalk.py)
command -v wrk >/dev/null && command -v beanstalkd >/dev/null || {
	sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
	$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq wrk beanstalkd >/dev/null
}
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j"$(nproc)" >/dev/null
echo "# $(date -u +%Y-%m-%d) on $(nproc) CPUs, $(uname -r), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
cd bench
python3 e2e.py "$@"
python3 enqueue.py
python3 beanstalk.py
python3 latency.py
python3 output.py
python3 upload.py
python3 flow.py
python3 depth.py
python3 search.py
# 1 000 000 jobs against 1 000 (about 1 min); --jobs 10000000 for issue 15's
# figures (about 4 min, 1.7 GB of temporary store)
python3 flat.py
# retention of 100 000 expired jobs that have output files (about 4 min)
python3 retention.py --rounds 1
python3 bulk_delete.py
python3 conns.py
python3 watchers.py
python3 schedules.py
python3 cli.py
# Cluster mode: a private PostgreSQL (tests/pg/pg.sh), started and stopped
# by cluster.py (.ci/deps test installs the server).
python3 cluster.py
cd "$top"
# The dashboard (needs chromium and playwright-core: tests/browser/run.sh
# installs them; skipped, and said so, where they cannot be had).
if [ -f tests/browser/node_modules/playwright-core/package.json ]; then
	node tests/browser/bench.mjs build-release/bin
else
	echo "dashboard: skipped (run tests/browser/run.sh once to install chromium and playwright-core)"
fi
