#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for dke-service: NSS softoken and certutil (the development and test
# token), and the npm packages. With --test also SoftHSM2, which tests use as a token that lacks OAEP-SHA256,
# openCryptoki, whose soft token `dke hsm probe` must pass on (the tests start its daemon pkcsslotd when root), and
# PostgreSQL, whose server binaries scripts/pg-throwaway.sh runs as the test run's throwaway database, and Debian's
# Chromium, which the console's browser tests drive through playwright-core (never a browser download).
# Idempotent and quick when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

softokn_found() {
  for p in /usr/lib/x86_64-linux-gnu/libsoftokn3.so /usr/lib/aarch64-linux-gnu/libsoftokn3.so /usr/lib64/libsoftokn3.so /usr/lib/libsoftokn3.so; do
    [ -e "$p" ] && return 0
  done
  return 1
}

packages="libnss3 libnss3-tools"
missing=no
if ! command -v certutil >/dev/null 2>&1 || ! softokn_found; then missing=yes; fi
if [ "${1:-}" = "--test" ]; then
  packages="$packages softhsm2 opencryptoki postgresql chromium"
  [ -e /usr/lib/softhsm/libsofthsm2.so ] || missing=yes
  [ -x /usr/sbin/pkcsslotd ] || missing=yes
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing=yes
  command -v psql >/dev/null 2>&1 || missing=yes
  [ -x /usr/bin/chromium ] || missing=yes
fi
if [ "$missing" = yes ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "dke: installing Debian packages: $packages" >&2
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
  else
    echo "dke: Debian packages are missing; run: sudo apt-get install -y $packages" >&2
    exit 1
  fi
fi

# Whether node_modules holds what package-lock.json asks for, judged by content (npm's record of what it installed,
# node_modules/.package-lock.json), not by the files' times: a fresh checkout or a git worktree gives package-lock.json
# its checkout time, and `npm ci` through a node_modules that links to another checkout's would empty that one.
installed_as_locked() {
  [ -f node_modules/.package-lock.json ] || return 1
  node -e '
    const { readFileSync } = require("node:fs");
    const wanted = JSON.parse(readFileSync("package-lock.json", "utf8")).packages ?? {};
    const installed = JSON.parse(readFileSync("node_modules/.package-lock.json", "utf8")).packages ?? {};
    const stale = Object.entries(wanted).some(([path, entry]) =>
      path !== "" && (installed[path] === undefined ? entry.optional !== true : installed[path].version !== entry.version));
    process.exit(stale ? 1 : 0);
  '
}

if [ ! -d node_modules ] || ! installed_as_locked; then
  echo "dke: installing npm packages (npm ci; native modules build from source, about a minute)" >&2
  npm ci --no-audit --no-fund
fi
