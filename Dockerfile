# syntax=docker/dockerfile:1
# The hpa-engine image the Helm chart runs by default
# (ghcr.io/hpa-engine/hpa-engine:<appVersion>). Build from the repository root:
#
#   docker build --build-arg VERSION=v0.1.0 -t ghcr.io/hpa-engine/hpa-engine:v0.1.0 .
#
# VERSION is what `hpa-engine version` prints; keep it equal to the chart's
# appVersion (charts/hpa-engine/Chart.yaml) for a release.

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=devel
WORKDIR /src
# Dependencies first: this layer is reused while only our code changes.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# A static binary: the runtime image has no libc. -trimpath keeps build
# paths out of it.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/hpa-engine ./cmd/hpa-engine

# distroless/static: CA certificates and tzdata, no shell or package manager;
# the nonroot tag runs as 65532:65532, the user the chart's securityContext
# names.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hpa-engine /usr/local/bin/hpa-engine
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/hpa-engine"]
