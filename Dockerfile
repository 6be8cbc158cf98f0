# syntax=docker/dockerfile:1
# ninecloud: one small, non-root image for every colour and every replica.
#   docker build -t ninecloud .
#   docker run -p 3000:3000 -v ninecloud-data:/data ninecloud

# --- build ------------------------------------------------------------------------------------
FROM rust:1.95-slim-bookworm AS build
# cmake and clang for aws-lc-sys (rustls' crypto); SQLite is bundled; no OpenSSL.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake clang pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, in their own layer: a change to src/ does not rebuild them.
# (bench/ is a workspace member: its manifest and stand-in sources are enough to build the server.)
COPY Cargo.toml Cargo.lock ./
COPY bench/Cargo.toml bench/
RUN mkdir -p src bench/src/bin && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
 && for b in loadgen wsbaseline; do echo 'fn main() {}' > bench/src/bin/$b.rs; done \
 && cargo build --release --locked --bin ninecloud \
 && rm -rf src
COPY migrations migrations
COPY src src
# Touch the sources so cargo rebuilds them instead of reusing the empty stand-ins.
RUN find src -name '*.rs' -exec touch {} + \
 && cargo build --release --locked --bin ninecloud \
 && strip target/release/ninecloud

# --- run --------------------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin ninecloud \
 && mkdir /data && chown ninecloud /data
COPY --from=build /src/target/release/ninecloud /usr/local/bin/ninecloud
USER ninecloud
WORKDIR /data
ENV HOST=0.0.0.0 PORT=3000 DATA_DIR=/data LOG_FORMAT=json
EXPOSE 3000
VOLUME ["/data"]
# /ready, straight to this container: 503 while draining or when the database is down.
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
  CMD ["ninecloud", "healthcheck"]
# SIGTERM drains (SHUTDOWN_GRACE, 25 s by default): give `docker stop -t` at least that much.
STOPSIGNAL SIGTERM
ENTRYPOINT ["ninecloud"]
CMD ["serve"]
