# syntax=docker/dockerfile:1
# Multi-stage build: compile TypeScript with the full toolchain, ship only the compiled JavaScript and
# the production dependencies, run as the unprivileged `node` user. Node 24 LTS: the version .ci/run pins.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --no-audit --no-fund

FROM node:24.22.3-bookworm-slim
# Production refuses to start (exit 2) without CURSOR_SECRET (32+ characters) and SUBGRAPH_SECRET or
# SUBGRAPH_ENABLED=false; /metrics needs METRICS_PORT or METRICS_TOKEN (README, Deployment). Set them at run time.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER node
EXPOSE 4000
# Liveness only: readiness (/health/ready) is for the load balancer, which should stop sending traffic
# while the upstream is unreachable without the orchestrator restarting the container.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM: stop accepting, finish in-flight requests (at most 10 s), exit.
STOPSIGNAL SIGTERM
CMD ["node", "--min-semi-space-size=16", "--max-semi-space-size=16", "--heap-growing-percent=100", "dist/main.js"]
