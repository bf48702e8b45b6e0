# trainops daemon image. Build:  docker build -t trainops .
# Run (config and keys read-only, store on a volume, metrics on 9464):
#   docker run -d --init --name trainops \
#     -v trainops-data:/data \
#     -v "$PWD/trainops.yaml:/etc/trainops/trainops.yaml:ro" \
#     -v "$HOME/.trainops/keys:/etc/trainops/keys:ro" \
#     -e DISCORD_TOKEN -e SLACK_BOT_TOKEN -e SLACK_APP_TOKEN \
#     -p 127.0.0.1:9464:9464 trainops
# In the mounted trainops.yaml: store: /data/trainops.db, http: { host: 0.0.0.0 }, and key
# paths under /etc/trainops/keys (privateKey, knownHosts), readable by uid 10001. Plans ship
# in the image: plan: /app/configs/plans/safe-optimization.yaml (or mount your own next to the
# config). --init reaps the shells that `ssh: local` runs (node as PID 1 does not).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: native modules (better-sqlite3) compiled against this Node ----
FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The project's .npmrc points node-gyp at /usr for Node's headers; in this image they live
# under /usr/local. The environment variable overrides the file. Building from source keeps
# the image independent of prebuilt downloads and matches the image's glibc and Node ABI.
ENV npm_config_nodedir=/usr/local \
    npm_config_build_from_source=true
COPY package.json package-lock.json .npmrc ./
# `npm ci` runs the `prepare` script, which bundles the CLI into dist/ (scripts/build.mjs), so
# the sources and the build script come in first.
COPY scripts ./scripts
COPY bin ./bin
COPY src ./src
COPY configs ./configs
COPY tsconfig.json ./
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force
# The compiled CLI runs without transpiling; tsx stays a runtime dependency because the demo's
# simulated training job runs from its TypeScript source. Fail the build here rather than at
# start-up if the bundle, tsx or the native module is missing.
RUN node -e "require('fs').accessSync('dist/cli/main.js'); require.resolve('tsx/esm/api'); require('better-sqlite3')(':memory:').close()"

# ---- runtime: no compilers, non-root ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# A fixed uid/gid, so a bind-mounted store or key can be given to it on the host
# (chown 10001:10001 DIR).
RUN groupadd --system --gid 10001 trainops \
 && useradd --system --uid 10001 --gid trainops --home-dir /app --shell /usr/sbin/nologin trainops \
 && mkdir -p /data /etc/trainops/keys \
 && chown trainops:trainops /data
WORKDIR /app
COPY --from=build --chown=root:root /app ./
# The store (SQLite with its WAL files) lives on this volume; everything else is read-only.
VOLUME ["/data"]
USER trainops
EXPOSE 9464
# No curl in the slim image: Node itself asks /healthz. Needs http.port 9464 and http.host
# 0.0.0.0 (or 127.0.0.1, which leaves /metrics unreachable from outside) in the config.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const q=require('http').get('http://127.0.0.1:9464/healthz',r=>process.exit(r.statusCode===200?0:1));q.on('error',()=>process.exit(1));q.setTimeout(4000,()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/trainops.js"]
CMD ["start", "--config", "/etc/trainops/trainops.yaml"]
