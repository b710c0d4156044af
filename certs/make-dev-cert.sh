#!/usr/bin/env bash
# Makes a self-signed certificate for https://localhost development (never for production): certs/dev-cert.pem and
# certs/dev-key.pem, both git-ignored. Use them with:
#   DKE_TLS_CERT=certs/dev-cert.pem DKE_TLS_KEY=certs/dev-key.pem npm run dev
set -euo pipefail
cd "$(dirname "$0")"
if [ -e dev-cert.pem ] && [ "${1:-}" != "--force" ]; then
  echo "certs/dev-cert.pem exists; pass --force to replace it" >&2
  exit 0
fi
umask 077
openssl req -x509 -newkey rsa:2048 -sha256 -days 30 -nodes \
  -keyout dev-key.pem -out dev-cert.pem \
  -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
echo "wrote certs/dev-cert.pem and certs/dev-key.pem (self-signed, 30 days, localhost only)"
