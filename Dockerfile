# syntax=docker/dockerfile:1
# Two images from one static regcred binary (glibc, static-pie):
#
#   docker build -t regcred .                                   # KRM function (default target)
#   docker build --target argocd-cmp -t regcred-argocd-cmp .    # Argo CD CMP sidecar
#
# NOT built in this repository's CI: no container engine runs there.
# tests/container_image.rs checks what it can without one: the pinned
# versions, the user, that every COPY source exists, and that the binaries
# the images hold, built the same way, run the sidecar's plugin.yaml
# (docs/integrations.md, sections 4 and 5).
#
# By default regcred is built from source. The release workflow
# (.github/workflows/release.yml) passes --build-arg REGCRED_BINARY=prebuilt
# and its own cross builds in dist/linux-<arch>/regcred, so a multi-arch
# image needs no emulated Rust build.
ARG REGCRED_BINARY=source

# regcred from source, built as releases are (scripts/build-static: glibc
# linked statically, so the distroless static image needs no libc).
FROM rust:1.95-bookworm AS regcred-source
WORKDIR /src
COPY . .
RUN CARGO_PROFILE_RELEASE_STRIP=true scripts/build-static \
 && install -D -m 0755 "target/$(rustc -vV | sed -n 's/^host: //p')/release/regcred" /out/regcred

# regcred from the release workflow's builds (artifacts lose the mode bits).
FROM scratch AS regcred-prebuilt
ARG TARGETARCH
COPY --chmod=0755 dist/linux-${TARGETARCH}/regcred /out/regcred

FROM regcred-${REGCRED_BINARY} AS regcred

# The standalone kustomize, built from its Go module at the version the
# tests run (scripts/install-test-tools), cross-compiled without cgo so it
# is static on every target architecture.
FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm AS kustomize
ARG KUSTOMIZE_VERSION=v5.8.2
ARG TARGETOS TARGETARCH
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH GOFLAGS=-trimpath \
      go install sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION \
 && install -D -m 0755 "$(find /go/bin -name kustomize -type f)" /out/kustomize

# The Argo CD config-management plugin sidecar. Argo CD sets its command to
# /var/run/argocd/argocd-cmp-server (a static binary it mounts there), which
# reads plugin.yaml from /home/argocd/cmp-server/config/ and runs its
# commands: regcred, which runs kustomize for kustomizations (kubectl is not
# needed). No shell: plugin.yaml calls regcred directly.
FROM gcr.io/distroless/static-debian12:nonroot AS argocd-cmp
COPY --from=regcred /out/regcred /usr/local/bin/regcred
COPY --from=kustomize /out/kustomize /usr/local/bin/kustomize
COPY --chown=999:999 plugin.yaml /home/argocd/cmp-server/config/plugin.yaml
ENV HOME=/home/argocd
# Argo CD runs its plugin sidecars as its own user, uid 999.
USER 999:999

# regcred as a KRM function image (`container: image:` in kustomize and
# kpt). distroless: no shell, no package manager, uid 65532. Relative
# credential paths resolve against the working directory: mount credential
# files below /work (mounts: [{type: bind, src: ./creds, dst: /work/creds}]).
FROM gcr.io/distroless/static-debian12:nonroot AS krm-function
COPY --from=regcred /out/regcred /usr/local/bin/regcred
WORKDIR /work
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/regcred"]
