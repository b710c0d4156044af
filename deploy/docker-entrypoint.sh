#!/bin/sh
# The container's entry point (Dockerfile ENTRYPOINT, under tini): prepares a new, empty data volume, then runs the
# command given (the image's CMD: dke serve) in its place, so that it receives the signals itself.
#
# On an empty DKE_DATA_DIR only (a new volume): creates the embedded key store (dke store init), unless the store is
# PostgreSQL (DKE_DATABASE_URL: the service creates its schema at start), and the embedded development token when no
# PKCS#11 module is configured (DKE_PKCS11_LIBRARY unset: development only). A folder that holds anything else but no
# store is left alone, so dke serve refuses it with a sentence naming the path: a store that went missing from a used
# volume must not come back empty.
set -eu

data_dir="${DKE_DATA_DIR:-/var/lib/dke}"
# The CLI commands below must prepare the folder this script looked at.
export DKE_DATA_DIR="$data_dir"
cli="$(dirname "$0")/../dist/cli.js"

say() { echo "docker-entrypoint: $*" >&2; }

if [ ! -d "$data_dir" ] || [ -z "$(ls -A "$data_dir")" ]; then
  if [ -z "${DKE_PKCS11_LIBRARY:-}" ]; then
    say "$data_dir is empty (a new volume) and DKE_PKCS11_LIBRARY is unset: creating the embedded DEVELOPMENT token (never for production)."
    node "$cli" dev-token init >&2
  fi
  if [ -z "${DKE_DATABASE_URL:-}" ]; then
    say "$data_dir is empty (a new volume): creating the key store."
    node "$cli" store init >&2
  fi
fi

exec "$@"
