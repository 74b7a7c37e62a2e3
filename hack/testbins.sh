#!/usr/bin/env bash
# Builds the pinned binaries the test bed runs into .testbin/<name>-<version>/,
# reusing any that already exist. Everything comes from the Go module proxy.
#
#   hack/testbins.sh            build what is missing
#   hack/testbins.sh --print    print the directory of each binary (name=dir)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${TESTBIN_DIR:-$root/.testbin}

PROMETHEUS_VERSION=v0.316.0
KUBERNETES_VERSION=v1.37.2
ETCD_VERSION=v3.7.0

prom_dir=$bin/prometheus-$PROMETHEUS_VERSION
kas_dir=$bin/kube-apiserver-$KUBERNETES_VERSION
kcm_dir=$bin/kube-controller-manager-$KUBERNETES_VERSION
etcd_dir=$bin/etcd-$ETCD_VERSION

if [ "${1:-}" = "--print" ]; then
  printf 'prometheus=%s\nkube-apiserver=%s\nkube-controller-manager=%s\netcd=%s\n' \
    "$prom_dir" "$kas_dir" "$kcm_dir" "$etcd_dir"
  exit 0
fi

log() { printf '[testbins %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# build NAME DIR CMD...: runs CMD (which writes DIR/NAME.tmp) only when DIR/NAME is
# missing, then renames, so an interrupted build never leaves a half binary behind.
build() {
  local name=$1 dir=$2; shift 2
  if [ -x "$dir/$name" ]; then
    log "$name: reusing $dir/$name"
    return 0
  fi
  mkdir -p "$dir"
  local t0=$SECONDS
  log "$name: building (cold builds take minutes)"
  "$@"
  mv -f "$dir/$name.tmp" "$dir/$name"
  log "$name: built in $((SECONDS - t0))s"
}

# Kubernetes clients parse the server's version; stamp it as its release build does.
kube_ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=37 \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION \
 -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=37"

build_prometheus() {
  # go install writes to GOBIN; use a private GOBIN so nothing else lands there.
  local gobin
  gobin=$(mktemp -d)
  GOBIN=$gobin CGO_ENABLED=0 go install -ldflags="-s -w" \
    "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION"
  mv "$gobin/prometheus" "$prom_dir/prometheus.tmp"
  rm -rf "$gobin"
}

build_kube() { # name
  (cd "$root/hack/testbins" && CGO_ENABLED=0 go build -trimpath -ldflags="$kube_ldflags" \
    -o "$bin/$1-$KUBERNETES_VERSION/$1.tmp" "k8s.io/kubernetes/cmd/$1")
}

build_etcd() {
  (cd "$root/hack/testbins" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" \
    -o "$etcd_dir/etcd.tmp" ./etcd)
}

t0=$SECONDS
build etcd "$etcd_dir" build_etcd
build kube-apiserver "$kas_dir" build_kube kube-apiserver
build kube-controller-manager "$kcm_dir" build_kube kube-controller-manager
build prometheus "$prom_dir" build_prometheus
log "all test binaries ready in $((SECONDS - t0))s under $bin"
