#!/usr/bin/env bash
# Runs the differential test of recommender/ against upstream's HPA controller
# (k8s.io/kubernetes v1.37.2, pkg/controller/podautoscaler).
#
#   test/conformance/run.sh [go test flags...]      e.g. -args -seed=42 -scenarios=20000
#   CONFORMANCE_SEED=42 CONFORMANCE_SCENARIOS=20000 test/conformance/run.sh
#
# Upstream keeps its stabilization history and scale events in unexported maps,
# so testdata/podautoscaler_shim.go is added to that package with `go test
# -overlay`. The go command refuses overlays on files inside the module cache,
# so this script first points k8s.io/kubernetes at a symlink to its module
# directory through an alternate go.mod (-modfile) in .upstream/ (git-ignored).
# It runs in local directory mode (no package argument) so that the summary
# line "scenarios: N, mismatches: M" is printed on success too.
# Only the non-test files of upstream's package are compiled: we import it, we
# do not run its tests (horizontal_test.go's init() changes scale-up limits).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$here/.upstream
kube_version=v1.37.2

cd "$here"
mkdir -p "$work"

modcache=$(go env GOMODCACHE)
kube_dir=$modcache/k8s.io/kubernetes@$kube_version
if [ ! -d "$kube_dir" ]; then
  go mod download "k8s.io/kubernetes@$kube_version"
fi
ln -sfn "$kube_dir" "$work/kubernetes"

# The alternate go.mod: ours, with k8s.io/kubernetes replaced by the symlink and
# the relative replace of the main module made absolute (the alternate file
# lives in another directory).
{
  sed "s#=> \.\./\.\.\$#=> $root#" go.mod
  printf '\nreplace k8s.io/kubernetes => %s\n' "$work/kubernetes"
} >"$work/go.mod"
cp go.sum "$work/go.sum"

shim_dst=$work/kubernetes/pkg/controller/podautoscaler/zz_conformance_shim.go
printf '{"Replace": {"%s": "%s"}}\n' "$shim_dst" "$here/testdata/podautoscaler_shim.go" >"$work/overlay.json"

# -mod=mod lets the go command complete the alternate go.mod/go.sum (never the
# committed ones) when the main module gains a dependency the core imports.
exec go test -mod=mod -modfile="$work/go.mod" -overlay="$work/overlay.json" -tags conformance \
  -count=1 -timeout 60m "$@"
