# The kubectl-flink container images, from the static binaries of scripts/release (nothing is
# compiled here):
#
#   scripts/release 0.1.0          # dist/rootfs-linux-amd64/, dist/rootfs-linux-arm64/
#   docker buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=0.1.0 \
#     -t ghcr.io/kubectl-flink/kubectl-flink:0.1.0 .
#   docker buildx build --platform linux/amd64,linux/arm64 --build-arg VERSION=0.1.0 \
#     --target shell -t ghcr.io/kubectl-flink/kubectl-flink:0.1.0-shell .
#
# (buildah bud / podman build take the same arguments.) Two images:
#   - the default, `minimal`: FROM scratch, the binary and nothing else but /etc/passwd and
#     /etc/group (kpt runs a function image as `--user nobody`, which must be listed there) and
#     a /tmp anyone may write (output beyond 32 MiB waits there). The CLI, and a KRM function:
#     with no arguments and a ResourceList on stdin it runs as one (kpt fn eval --image).
#   - `shell`: the same binary on busybox, for tools that run it from a shell script, such as
#     Argo CD's config management plugin (gitops/argocd: sh, find, grep).
# Both run as the unprivileged user 65532 (`nonroot`) unless the runtime says otherwise.

ARG BUSYBOX=docker.io/library/busybox:1.37-musl

FROM ${BUSYBOX} AS shell
ARG TARGETARCH
ARG VERSION=dev
COPY dist/rootfs-linux-${TARGETARCH}/usr/local/bin/kubectl-flink /usr/local/bin/kubectl-flink
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kubectl-flink"]
LABEL org.opencontainers.image.title="kubectl-flink (with a shell)" \
      org.opencontainers.image.description="kubectl-flink on busybox: for Argo CD's config management plugin and other shell-driven tools" \
      org.opencontainers.image.source="https://github.com/kubectl-flink/kubectl-flink" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"

FROM scratch AS minimal
ARG TARGETARCH
ARG VERSION=dev
COPY dist/rootfs-linux-${TARGETARCH}/ /
ENV PATH=/usr/local/bin
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kubectl-flink"]
LABEL org.opencontainers.image.title="kubectl-flink" \
      org.opencontainers.image.description="Render Kubernetes manifests for Apache Flink job clusters: the CLI and a KRM function (kpt fn eval --image)" \
      org.opencontainers.image.source="https://github.com/kubectl-flink/kubectl-flink" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
