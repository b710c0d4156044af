#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for dke-service: NSS softoken and certutil (the development and test
# token), and the npm packages. Idempotent and quick when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

softokn_found() {
  for p in /usr/lib/x86_64-linux-gnu/libsoftokn3.so /usr/lib/aarch64-linux-gnu/libsoftokn3.so /usr/lib64/libsoftokn3.so /usr/lib/libsoftokn3.so; do
    [ -e "$p" ] && return 0
  done
  return 1
}

if ! command -v certutil >/dev/null 2>&1 || ! softokn_found; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "dke: installing NSS softoken and certutil (Debian packages libnss3, libnss3-tools)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libnss3 libnss3-tools >/dev/null
  else
    echo "dke: NSS softoken and certutil are missing; run: sudo apt-get install -y libnss3 libnss3-tools" >&2
    exit 1
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "dke: installing npm packages (npm ci; native modules build from source, about a minute)" >&2
  npm ci --no-audit --no-fund
fi
