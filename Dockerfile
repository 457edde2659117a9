# The callpark service's image (infra/docker-compose.yml builds it). Not built or run on the
# machines this project is developed on (no image can be pulled there): see docs/many-instances.md.
#
# Stage 1 compiles TypeScript and builds better-sqlite3 from source against Node's headers
# (python3, make, g++), then drops the development dependencies. Stage 2 carries only what runs,
# as the unprivileged `node` user, with its data under /data.

FROM node:24-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --build-from-source=better-sqlite3
COPY tsconfig.base.json tsconfig.json ./
COPY domain domain
COPY projections projections
COPY adapters adapters
RUN npx tsc -b adapters && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    CALLPARK_DATA_DIR=/data \
    PORT=8080 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The supervisors' page is served from its source folder.
COPY --from=build /app/adapters/http/supervisor ./adapters/http/supervisor
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=6 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM reaches node directly: it finishes what is in flight within CALLPARK_SHUTDOWN_GRACE_MS.
CMD ["node", "dist/adapters/app/main.js"]
