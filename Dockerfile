# syntax=docker/dockerfile:1
# Image of the aws-nlb-controller: `docker build -t <registry>/aws-nlb-controller:<tag> .`
# Three stages: compile the TypeScript, install the runtime dependencies alone, then copy both
# into a slim Node 24 image that runs as an unprivileged user.

ARG NODE_IMAGE=node:24-slim

# 1. Compile src/ to dist/ with the full (dev) dependency set.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# 2. Production dependencies only, so no compiler or test tool reaches the final image.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. Runtime: files owned by root and read-only to the process, which runs as 65532.
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="aws-nlb-controller" \
      org.opencontainers.image.description="Kubernetes Services to AWS Network Load Balancers" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
USER 65532:65532
# Metrics and health probes (the chart's defaults).
EXPOSE 8080 8081
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["run"]
