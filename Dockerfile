# syntax=docker/dockerfile:1
#
# The `shop` image: the Rust binary (every role) plus the built storefront, which `shop serve` serves at `/`.
#
#   docker build -t shop .                      # from the repository root
#   docker run --rm -p 8080:8080 shop           # = shop serve --role all
#   docker run --rm shop serve --role query-api # one role; any `shop` subcommand works (migrate, replay, dlq...)
#
# Stages: `frontend` builds frontend/ with npm; `builder` builds the release binary; `runtime` is
# debian:bookworm-slim with the binary, the storefront, CA certificates and curl (for the health check), and
# runs as an unprivileged user (uid 10001). BuildKit is required (cache mounts).

ARG RUST_VERSION=1.95
ARG NODE_VERSION=20
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS frontend
WORKDIR /src/frontend
# Manifests first, so that the dependency layer is reused while only the sources change.
COPY frontend/package.json frontend/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build && test -f dist/index.html

# ---------------------------------------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS builder
WORKDIR /src
# The whole workspace (see .dockerignore: no target/, .git, node_modules, .data). Cargo needs every member's
# manifest and targets, and `sqlx::migrate!` embeds migrations/ at compile time.
COPY . .
# The registry and target dir live in cache mounts, so a rebuild only compiles what changed; the binary is
# copied out of the cache within the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p shop \
    && install -D -m 0755 target/release/shop /out/shop

# ---------------------------------------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# ca-certificates: TLS to the payment provider and managed services; curl: the HEALTHCHECK below. Not pinned to
# exact versions on purpose: a rebuild picks up bookworm's security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 shop \
    && useradd --system --uid 10001 --gid shop --home-dir /app --no-create-home --shell /usr/sbin/nologin shop

COPY --from=builder /out/shop /usr/local/bin/shop
COPY --from=frontend /src/frontend/dist /app/frontend/dist

WORKDIR /app
# Production unless told otherwise: the built-in development JWT secret is refused, so an image started
# without JWT_SECRET stops instead of signing tokens anyone could forge. compose's dev file opts in to
# development.
ENV SHOP_ENV=production \
    SHOP_HTTP_ADDR=0.0.0.0:8080 \
    SHOP_FRONTEND_DIR=/app/frontend/dist \
    LOG_FORMAT=json \
    RUST_LOG=info,sqlx=warn

# Numeric, so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 8080

# Liveness only (the process answers); readiness (/health/ready) depends on the databases and is left to the
# orchestrator's own probes. Assumes the default port: set a different one in the orchestrator if you change it.
# Shell form on purpose: `|| exit 1` maps any curl failure to the exit code Docker documents for "unhealthy".
# hadolint ignore=DL3025
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS --max-time 2 -o /dev/null http://127.0.0.1:8080/health/live || exit 1

# `shop` handles SIGTERM (graceful shutdown), so it can be PID 1.
STOPSIGNAL SIGTERM
ENTRYPOINT ["shop"]
CMD ["serve", "--role", "all"]
