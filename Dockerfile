# dke-service container image. Build: docker build -t dke-service .
# The PKCS#11 module of your HSM is configuration: mount the vendor library and its client configuration and point
# DKE_PKCS11_LIBRARY at it (see docs/operations.md). NSS softoken is included only for the demo token.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# pkcs11js and better-sqlite3 compile from source: same base image as the runtime, so the binaries match.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/bundle-libraries.mjs ./scripts/
COPY src ./src
COPY web ./web
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libnss3 libnss3-tools tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 dke \
 && useradd --system --uid 10001 --gid dke --home-dir /var/lib/dke --shell /usr/sbin/nologin dke \
 && mkdir -p /var/lib/dke \
 && chown dke:dke /var/lib/dke
WORKDIR /app
# DKE_HOST: every address of the container (dke serve's default too), so that `dke dev` is reachable through -p.
# NODE_OPTIONS: node's flags for dke serve, as in package.json's start script: --max-semi-space-size=4 keeps V8's young
# generation at 8 MB instead of up to 32 MB; --max-old-space-size=384 gives the heap a limit of its own (below the pod's
# 512Mi) instead of a quarter of the host's memory, from which V8 also takes how far the heap may grow between full
# collections (up to 4 times what is live with the default limit of a large host). About 50 MB less resident under
# load, at no measurable cost per request (docs/benchmarks.md, issue 30).
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=384" \
    DKE_PORT=8080 \
    DKE_HOST=0.0.0.0 \
    DKE_DATA_DIR=/var/lib/dke
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
COPY deploy/docker-entrypoint.sh ./deploy/docker-entrypoint.sh
USER dke
EXPOSE 8080
VOLUME ["/var/lib/dke"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["node", "dist/healthcheck.js"]
# The entry point prepares a new, empty volume (store, and the development token when no HSM is configured), then
# execs the CMD.
ENTRYPOINT ["/usr/bin/tini", "--", "/app/deploy/docker-entrypoint.sh"]
CMD ["node", "dist/cli.js", "serve"]
