#!/bin/sh
# Browser tests of the dashboard (web/) against a real runneld.
#
#   tests/browser/run.sh BIN_DIR [node --test arguments...]
#
# BIN_DIR holds runneld and runnel-worker (e.g. build/bin); runneld serves
# the web files built into it.  Installs what is missing: Debian's
# chromium (apt-get, as root) and the npm packages playwright-core and
# axe-core (npm ci into tests/browser/node_modules).  Exits 77 (ctest:
# skipped) with the reason when chromium, node/npm or those cannot be had.
# Screenshots go to tests/browser/out/ (RUNNEL_BROWSER_OUT overrides).
# RUNNEL_TEST_PG_URL (a PostgreSQL maintenance database: ctest's `pg`
# fixture sets it) runs the cluster tests of nodes.test.mjs; without it
# they are skipped.
# RUNNEL_BROWSER_SCALE multiplies the deadlines (sanitizer builds).
# RUNNEL_BROWSER_FILES: the test files to run (default: all of them).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: run.sh BIN_DIR [node --test arguments...]}
shift
bin=$(cd "$bin" && pwd)

skip() {
	echo "SKIP: browser tests: $*" >&2
	exit 77
}

# ---- chromium ----
chromium=${CHROMIUM:-}
if [ -z "$chromium" ]; then
	chromium=$(command -v chromium || true)
fi
if [ -z "$chromium" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
	echo "installing chromium (apt-get)"
	{ apt-get -o DPkg::Lock::Timeout=600 update -qq &&
	  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
	      install -y -qq chromium; } >/dev/null 2>&1 || true
	chromium=$(command -v chromium || true)
fi
[ -n "$chromium" ] && [ -x "$chromium" ] ||
    skip "chromium not found (apt-get install chromium, or set CHROMIUM)"

# ---- node, npm, playwright-core ----
command -v node >/dev/null || skip "node not found"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || skip "node $major is too old (20 or later needed)"
stamp="$here/node_modules/.runnel-lock"
if ! cmp -s "$here/package-lock.json" "$stamp" 2>/dev/null; then
	command -v npm >/dev/null || skip "npm not found (needed to install playwright-core)"
	echo "installing playwright-core and axe-core (npm ci)"
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >&2 ||
	    skip "npm ci failed: playwright-core and axe-core cannot be installed"
	cp "$here/package-lock.json" "$stamp"
fi
[ -f "$here/node_modules/playwright-core/package.json" ] || skip "playwright-core is missing"
[ -f "$here/node_modules/axe-core/axe.min.js" ] || skip "axe-core is missing"

# ---- a private temp dir, removed at the end ----
tmp=$(mktemp -d "${TMPDIR:-/tmp}/runnel-browser.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp/t"

cd "$here"
status=0
RUNNEL_BIN="$bin" CHROMIUM="$chromium" RUNNEL_BROWSER_TMP="$tmp" TMPDIR="$tmp/t" \
    node --test --test-concurrency=1 --test-reporter=spec "$@" ${RUNNEL_BROWSER_FILES:-dashboard.test.mjs nodes.test.mjs schedules.test.mjs operator.test.mjs} ||
    status=$?
echo "screenshots: ${RUNNEL_BROWSER_OUT:-$here/out}"
exit $status
