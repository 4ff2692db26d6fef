# syntax=docker/dockerfile:1
#
# Two images from one build (not built in CI; see manifests/README.md):
#
#   docker build --target meshdns          -t meshdns/meshdns:dev .
#   docker build --target meshdns-iptables -t meshdns/meshdns-iptables:dev .
#   docker build --target meshdns-cni      -t meshdns/meshdns-cni:dev .
#
# meshdns           distroless static, non-root (65532): the sidecar
#                   (`meshdns run --rules=none`). It needs no tools, only
#                   CAP_NET_ADMIN to bind the queue, carried as a file
#                   capability on the binary.
# meshdns-iptables  Debian slim with the iptables tools: the init container
#                   (`meshdns rules install`), which runs as root.
# meshdns-cni       the node mode's CNI installer (`meshdns-cni install`),
#                   which copies the plugin onto the node.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static, reproducible binary: no cgo, no paths of the build machine.
RUN CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go build -trimpath -ldflags="-s -w" -o /out/meshdns ./cmd/meshdns \
    && CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go build -trimpath -ldflags="-s -w" -o /out/meshdns-cni ./cmd/meshdns-cni
# CAP_NET_ADMIN as a file capability, so the non-root sidecar can bind an
# NFQUEUE when the pod grants NET_ADMIN (Kubernetes has no ambient
# capabilities). COPY --from keeps the security.capability attribute.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libcap2-bin \
    && setcap cap_net_admin+ep /out/meshdns \
    && getcap /out/meshdns

FROM debian:bookworm-slim AS meshdns-iptables
RUN apt-get update \
    && apt-get install -y --no-install-recommends iptables \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/meshdns /usr/local/bin/meshdns
ENTRYPOINT ["/usr/local/bin/meshdns"]

FROM gcr.io/distroless/static-debian12:nonroot AS meshdns
COPY --from=build /out/meshdns /meshdns
USER 65532:65532
EXPOSE 15099
ENTRYPOINT ["/meshdns"]

FROM gcr.io/distroless/static-debian12 AS meshdns-cni
COPY --from=build /out/meshdns-cni /usr/local/bin/meshdns-cni
ENTRYPOINT ["/usr/local/bin/meshdns-cni"]
