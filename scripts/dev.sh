#!/usr/bin/env bash
# The quick start (npm run dev): installs what is missing, builds, and runs `dke dev`: a development NSS token in
# ./data/dev-token, a demo key, a development token issuer on loopback, and the service on http://localhost:8080.
# Arguments go to dke dev: npm run dev -- --https serves a development certificate, --host 0.0.0.0 every address.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run build --silent
exec node dist/cli.js dev "$@"
