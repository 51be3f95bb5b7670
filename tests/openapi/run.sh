#!/bin/sh
# Checks the API suite's recorded answers against the OpenAPI description.
#
#   tests/openapi/run.sh OPENAPI.json DIR...
#
# OPENAPI.json is docs/openapi.yaml as the build converted it (the JSON
# runneld serves); each DIR holds the api.* tests' records
# (RUNNEL_API_RECORD, tests/api/harness.py).  Installs ajv, ajv-formats and
# @seriousme/openapi-schema-validator (npm ci into tests/openapi/node_modules)
# when they are missing; exits 77 (ctest: skipped) with the reason when node,
# npm or those packages cannot be had.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

skip() {
	echo "SKIP: openapi.answers: $*" >&2
	exit 77
}

command -v node >/dev/null || skip "node not found"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || skip "node $major is too old (20 or later needed)"
stamp="$here/node_modules/.runnel-lock"
if ! cmp -s "$here/package-lock.json" "$stamp" 2>/dev/null; then
	command -v npm >/dev/null || skip "npm not found (needed to install ajv)"
	echo "installing ajv, ajv-formats, @seriousme/openapi-schema-validator (npm ci)"
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >&2 ||
	    skip "npm ci failed: the validators cannot be installed"
	cp "$here/package-lock.json" "$stamp"
fi
for p in ajv ajv-formats @seriousme/openapi-schema-validator; do
	[ -f "$here/node_modules/$p/package.json" ] || skip "$p is missing"
done
exec node "$here/validate.mjs" "$@"
