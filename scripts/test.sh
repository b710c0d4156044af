#!/usr/bin/env bash
# The whole test suite (npm test): real NSS softoken token, real signed tokens against a loopback JWKS.
# Extra arguments go to mocha (e.g. --grep lifecycle). DKE_TEST_OUT picks the build folder, so that several
# checkouts' runs on one machine do not overwrite each other's compiled tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh --test
out="${DKE_TEST_OUT:-build-test}"
case "$out" in build-test*) ;; *) echo "DKE_TEST_OUT must start with build-test" >&2; exit 2 ;; esac
rm -rf "$out"
npx tsc -p tsconfig.test.json --outDir "$out"
# The console's bundle (contract §7) beside the compiled service, where the composition root looks for it
# ($out/src/console, as dist/console for `npm run build`); the browser tests drive it.
npx tsc -p web/tsconfig.json
npx vite build --config web/vite.config.ts --outDir "$PWD/$out/src/console"
npx mocha --require "$out/test/support/root-hooks.js" "$@" "$out/test/**/*.test.js"
