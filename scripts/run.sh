#!/usr/bin/env bash
# Runs a command on Node 24 with the project's dependencies installed, so `npm start` and
# `npm test` work on a fresh machine: brings in Node 24 where the system's is older, and
# runs `npm ci` when node_modules is missing or older than the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/node-env.sh
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
exec "$@"
