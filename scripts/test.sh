#!/usr/bin/env bash
# The whole test suite (npm test): real NSS softoken token, real signed tokens against a loopback JWKS.
# Extra arguments go to mocha (e.g. --grep lifecycle). DKE_TEST_OUT picks the build folder, so that several
# checkouts' runs on one machine do not overwrite each other's compiled tests. The files run in parallel worker
# processes, DKE_TEST_JOBS of them (default 3: most tests wait on child processes, sockets and timers more than they
# compute, so even two cores keep three files busy); DKE_TEST_JOBS=1 runs them one after another in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh --test
out="${DKE_TEST_OUT:-build-test}"
case "$out" in build-test*) ;; *) echo "DKE_TEST_OUT must start with build-test" >&2; exit 2 ;; esac
jobs="${DKE_TEST_JOBS:-3}"
case "$jobs" in [1-9] | [1-9][0-9]) ;; *) echo "DKE_TEST_JOBS must be a number of processes (1-99)" >&2; exit 2 ;; esac
# DKE_TEST_KEEP=1 (for a developer's repeated runs of a few files): keep the build folder, compile incrementally and
# rebuild the console's bundle only when web/ changed since it was built. The default builds from nothing, as CI does.
keep="${DKE_TEST_KEEP:-0}"
[ "$keep" = 1 ] || rm -rf "$out"
bin=node_modules/.bin
# TypeScript 7 (the native compiler, package typescript-native) compiles and type-checks in about a fifth of 5.9's
# time and emits the same JavaScript; 5.9 stays installed as "typescript" for the architecture test, which reads the
# sources through its compiler API (7 has none). Both link a `tsc` into node_modules/.bin, so it is named by its path.
tsc=(node node_modules/typescript-native/bin/tsc)
incremental=()
[ "$keep" = 1 ] && incremental=(--incremental --tsBuildInfoFile "$out/.tsbuildinfo")
console_stale=yes
if [ "$keep" = 1 ] && [ -f "$out/src/console/index.html" ] && [ -z "$(find web -newer "$out/src/console/index.html" -print -quit)" ]; then
  console_stale=no
fi
# The three build steps are independent, so they run side by side: the tests and the service compiled into $out (with
# Kysely and the `dke` program bundled, as `npm run build` does: scripts/bundle-libraries.mjs);
# the console type-checked (no output); the console's bundle (contract §7) beside the compiled service, where the
# composition root looks for it ($out/src/console, as dist/console for `npm run build`); the browser tests drive it.
{ "${tsc[@]}" -p tsconfig.test.json --outDir "$out" "${incremental[@]}" && node scripts/bundle-libraries.mjs "$out/src"; } & compile=$!
if [ "$console_stale" = yes ]; then
  "${tsc[@]}" -p web/tsconfig.json & check_console=$!
  "$bin/vite" build --config web/vite.config.ts --outDir "$PWD/$out/src/console" & bundle=$!
else
  true & check_console=$!
  true & bundle=$!
fi
failed=0
for step in "$compile" "$check_console" "$bundle"; do wait "$step" || failed=1; done
[ "$failed" = 0 ] || exit 1
parallel=()
[ "$jobs" = 1 ] || parallel=(--parallel --jobs "$jobs")
# The longest files first, then the rest in name order: the workers take files in this order, so a 30 s file taken
# last no longer makes the run's tail. Any order is valid: every test holds alone.
longest=(app/key-reconcile store/audit-kill9 web/console cli/remote-admin cli/key-state-commands multi-instance/outage-journal
  doctor/doctor multi-instance/propagation app/scheduler cli/db-commands multi-instance/unfinished-steps multi-instance/database-outage
  http/audit-investigation auth/openid-key-source store/audit-faults web/console-status http/fuzz store/store-backup
  store/store-identity http/served-host cli/hsm-probe cli/keys-commands main/run-service main/postgres-service
  store/postgres-store hsm/hsm-recovery)
files=()
for name in "${longest[@]}"; do [ -f "$out/test/$name.test.js" ] && files+=("$out/test/$name.test.js"); done
while IFS= read -r file; do
  case " ${files[*]} " in *" $file "*) ;; *) files+=("$file") ;; esac
done < <(find "$out/test" -name '*.test.js' | LC_ALL=C sort)
# What the tests leave under the temporary folder (a crashed test's token and store, a test that does not clean up)
# goes into one folder of this run, removed when it ends (kept with DKE_KEEP_TEST_DIRS=1): runs never pile up in /tmp.
# It is as open as /tmp (1777), since the PostgreSQL and openCryptoki tests run some commands as other users.
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/dke-test-run.XXXXXX")
chmod 1777 "$run_tmp"
if [ -n "${DKE_KEEP_TEST_DIRS:-}" ]; then
  echo "dke: the tests' folders are kept in $run_tmp (DKE_KEEP_TEST_DIRS)" >&2
else
  trap 'rm -rf "$run_tmp"' EXIT
fi
export TMPDIR="$run_tmp"
"$bin/mocha" --require "$out/test/support/root-hooks.js" "${parallel[@]}" "$@" "${files[@]}"
