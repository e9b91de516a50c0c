# regcred as a KRM function image: `container: image:` in kustomize and kpt.
# Not built or tested in this repository's CI (no container engine there);
# see docs/integrations.md.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && strip target/release/regcred

# distroless: no shell, no package manager, runs as uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/regcred /usr/local/bin/regcred
# Relative credential paths resolve against the working directory: mount
# credential files below /work (e.g. mounts: [{type: bind, src: ./creds, dst: /work/creds}]).
WORKDIR /work
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/regcred"]
