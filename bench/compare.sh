#!/bin/sh
# Two builds of runneld in one run, for a change that must not cost speed:
# end to end (e2e.py alternates the builds itself), then durable enqueue,
# dispatch latency and upload throughput, each run for the old and the new
# build in turn, ROUNDS times, so that both see the same machine.
#
# usage: bench/compare.sh OLD_BIN_DIR [NEW_BIN_DIR] [ROUNDS]
#   e.g. git worktree add /tmp/old <commit> && cmake -S /tmp/old -B
#   /tmp/old/build-release -DCMAKE_BUILD_TYPE=Release && cmake --build
#   /tmp/old/build-release && bench/compare.sh /tmp/old/build-release/bin
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
old=$(cd "$1" && pwd)
new=$(cd "${2:-$top/build-release/bin}" && pwd)
rounds=${3:-3}
cd "$top/bench"
echo "# $(date -u +%Y-%m-%d) on $(nproc) CPUs: old $old, new $new"
python3 e2e.py --bin "$new" --baseline-bin "$old"
i=0
while [ "$i" -lt "$rounds" ]; do
	i=$((i + 1))
	for side in old new; do
		if [ "$side" = old ]; then bin=$old; else bin=$new; fi
		echo "## round $i, $side"
		python3 enqueue.py --bin "$bin" --seconds 5
		python3 latency.py --bin "$bin" --jobs 500
		python3 upload.py --bin "$bin" --rounds 1 --big-mib 512 --mib 50
	done
done
