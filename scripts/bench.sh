#!/usr/bin/env bash
# npm run bench: builds the service and runs scripts/bench/run-bench.ts (a script that prints figures, not a test);
# npm run bench:profile runs scripts/bench/profile-decrypt.ts (CPU per decrypt and a flame graph in docs/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run build --silent
rm -rf build-bench
node node_modules/typescript-native/bin/tsc -p tsconfig.test.json --outDir build-bench
script=run-bench
if [ "${1:-}" = profile ]; then script=profile-decrypt; shift; fi
node "build-bench/scripts/bench/$script.js" "$@"
