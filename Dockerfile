# syntax=docker/dockerfile:1
#
# cognito-exporter container image.
#   docker build -t cognito-exporter \
#     --build-arg COGNITO_BUILD_REVISION="$(git rev-parse --short=12 HEAD)" .
#   docker run --rm -p 9866:9866 cognito-exporter --demo
#   docker run --rm -p 9866:9866 -v "$PWD/config.yaml:/etc/cognito-exporter/config.yaml:ro" \
#     -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN cognito-exporter

FROM rust:1-bookworm AS build
# build.rs puts it in cognito_exporter_build_info; .git is not in the context,
# so without the argument the revision is "unknown".
ARG COGNITO_BUILD_REVISION=unknown
WORKDIR /src
# .dockerignore keeps this to the crate itself. The cache mounts keep the
# registry and the build directory between builds (BuildKit).
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin cognito-exporter \
    && install -D -m 0755 target/release/cognito-exporter /out/cognito-exporter

# glibc and CA certificates, no shell, no package manager; runs as 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/cognito-exporter /usr/local/bin/cognito-exporter
USER 65532:65532
EXPOSE 9866
# No HEALTHCHECK: the image has no HTTP client. Orchestrators probe
# /-/healthy and /-/ready themselves (see deploy/kubernetes/base/deployment.yaml).
ENTRYPOINT ["/usr/local/bin/cognito-exporter"]
CMD ["--config.file=/etc/cognito-exporter/config.yaml"]
