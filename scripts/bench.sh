#!/usr/bin/env bash
# npm run bench: builds the service and runs scripts/bench/run-bench.ts (a script that prints figures, not a test).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run build --silent
rm -rf build-bench
npx tsc -p tsconfig.test.json --outDir build-bench
node build-bench/scripts/bench/run-bench.js "$@"
