# syntax=docker/dockerfile:1
#
# responses-gateway: one image, three roles (ROLE=all | api | worker). See docs/deployment.md.
#
#   docker build -t responses-gateway .
#   docker run --rm -p 8321:8321 -e API_KEYS=change-me:default responses-gateway
#
# Node 24 LTS (the runtime the test suite also runs on; Node 20 reached end of life in April 2026).
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: all dependencies, compile TypeScript to dist/ ------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs its install script (msgpackr-extract ships prebuilt
# binaries as optional packages and has a pure-JS fallback; @scarf/scarf is only analytics).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build

# --- deps: production dependencies only (cached until package-lock.json changes) ------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="responses-gateway" \
      org.opencontainers.image.description="OpenAI-compatible Responses API server (/v1/responses)" \
      org.opencontainers.image.licenses="Apache-2.0"

# HOST=0.0.0.0: in a container, loopback is unreachable from outside. The server refuses to listen on
# a non-loopback address without authentication: give it API_KEYS, AUTH_JWKS_URL or
# AUTH_REQUIRED=true (or ALLOW_UNAUTHENTICATED_PUBLIC=true when a proxy in front authenticates).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8321 \
    DATA_DIR=/app/data

WORKDIR /app
# Application files stay owned by root (read-only for the process); only DATA_DIR is writable.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /app/data && chown node:node /app/data

USER node
EXPOSE 8321

# Role-aware: a worker serves no HTTP, so for it this only says the process is running (orchestrators
# notice a dead worker by its exit; Bull re-queues its jobs). Kubernetes ignores HEALTHCHECK: use
# /health/live and /health/ready as probes there.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "if (process.env.ROLE === 'worker') process.exit(0); fetch('http://127.0.0.1:' + (process.env.PORT || '8321') + '/health/live', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));"]

# Exec form, no npm wrapper: SIGTERM reaches Node directly and starts the graceful shutdown.
CMD ["node", "dist/main.js"]
