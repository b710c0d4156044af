#!/usr/bin/env bash
# Measures how long a change takes to be enforced by another instance (contract §5: within 1 s): two `dke serve`
# processes and the CLI on one NSS token and one throwaway PostgreSQL (scripts/pg-throwaway.sh). A script that prints
# figures, not a timed test. Arguments go to the script: --changes N (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh --test
rm -rf build-propagation
node node_modules/typescript-native/bin/tsc -p tsconfig.test.json --outDir build-propagation
NSS_MAX_MP_PBE_ITERATION_COUNT=1 node build-propagation/scripts/propagation/measure-propagation.js "$@"
