# syntax=docker/dockerfile:1
# One image, every role: `serve --role receiver|worker|all`, `migrate`, `fit`, `probe`.
# Build: docker build -t clientsync:dev .

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src

# Dependencies first, against placeholder sources: this layer is rebuilt only when a manifest
# or Cargo.lock changes, not on every code change.
COPY Cargo.toml Cargo.lock ./
COPY entity/Cargo.toml entity/Cargo.toml
COPY migration/Cargo.toml migration/Cargo.toml
RUN mkdir -p src entity/src migration/src benches tests/it \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs entity/src/lib.rs migration/src/lib.rs \
 && for target in benches/pipeline.rs benches/match_one.rs tests/it/main.rs; do echo 'fn main() {}' > "$target"; done \
 && cargo build --release --locked --bin clientsync \
 && rm -rf src entity/src migration/src benches tests

COPY . .
# The placeholders' build outputs are older than the real sources only by mtime luck: touch.
RUN touch src/main.rs src/lib.rs entity/src/lib.rs migration/src/lib.rs \
 && cargo build --release --locked --bin clientsync \
 && strip target/release/clientsync

# glibc and libgcc only, no shell, no package manager; runs as uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/clientsync /usr/local/bin/clientsync
USER 65532:65532
WORKDIR /home/nonroot
ENV CLIENTSYNC_SERVER__HOST=0.0.0.0 \
    CLIENTSYNC_TELEMETRY__FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=4s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/clientsync", "probe", "--path", "/healthz"]
ENTRYPOINT ["/usr/local/bin/clientsync"]
CMD ["serve", "--role", "all"]
