# syntax=docker/dockerfile:1
# The hub as a container image (docs/DEPLOY.md):
#   docker build -t streamdom .
#   docker run -p 8080:8080 -v streamdom-data:/data streamdom
# Settings come from the environment (README: Configuration), e.g. -e DATABASE_URL=postgres://…

# 1. The recorder bundle and the dashboard: Node.js 20 and esbuild.
FROM node:20-bookworm-slim AS web
WORKDIR /src
COPY package.json package-lock.json ./
COPY recorder-js/package.json recorder-js/
RUN npm ci --no-audit --no-fund
COPY recorder-js recorder-js
COPY static static
COPY web web
RUN node web/build.mjs --out /web

# 2. The hub, with those files embedded (build.rs takes them from STREAMDOM_PREBUILT_WEB, so
#    this stage needs no Node.js). SQLite and libpq are built in; libpq uses OpenSSL.
FROM rust:1-bookworm AS hub
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY --from=web /web /web
ENV STREAMDOM_PREBUILT_WEB=/web
COPY . .
RUN cargo build --release --locked --bin streamdom \
    && install -m 0755 target/release/streamdom /usr/local/bin/streamdom

# 3. Run on Debian slim, as an unprivileged user, with the data in a volume.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libssl3 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin streamdom \
    && mkdir -p /data \
    && chown streamdom:streamdom /data
COPY --from=hub /usr/local/bin/streamdom /usr/local/bin/streamdom
USER streamdom:streamdom
WORKDIR /data
ENV STREAMDOM_BIND=0.0.0.0:8080 \
    STREAMDOM_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
# Ready = the database answers (docs/PROTOCOL.md: /readyz).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8080/readyz || exit 1
# SIGTERM stops taking connections and stores every accepted event (up to 30 s): give
# `docker stop` at least that (`--stop-timeout 45`).
STOPSIGNAL SIGTERM
ENTRYPOINT ["streamdom"]
CMD ["serve"]
