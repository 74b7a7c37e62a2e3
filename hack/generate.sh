#!/usr/bin/env bash
# Generates the Autoscaler API's deepcopy functions and CRD YAML with
# controller-gen, pinned by hack/tools/go.mod (kept out of the engine's
# go.mod). The first run builds controller-gen from the module proxy, which
# takes a minute or two; later runs reuse the build cache. It also generates
# the Grafana dashboards (dashboards/*.json, from dashboards/cmd/gen) and
# copies them into the chart (charts/hpa-engine/dashboards/).
#
#   hack/generate.sh              write the generated files in place
#   hack/generate.sh --verify     generate into a temporary folder and fail when
#                                 the committed files differ (nothing is written
#                                 to the tree), when the chart's copy of the
#                                 dashboards is stale, or when hack/tools/go.mod
#                                 is not tidy
#   hack/generate.sh --dashboards only the dashboards and the chart's copy
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

go=${GO:-go}
apis=./scaler/apis/...
api_dir=scaler/apis/v1alpha1
crd_dir=$api_dir/crd

controller_gen() {
	"$go" run -modfile=hack/tools/go.mod sigs.k8s.io/controller-tools/cmd/controller-gen "$@"
}

# generate OBJECT_DIR CRD_DIR writes the deepcopy file into OBJECT_DIR and the
# CRD YAML into CRD_DIR.
generate() {
	controller_gen object paths="$apis" output:object:dir="$1"
	controller_gen crd:crdVersions=v1 paths="$apis" output:crd:dir="$2"
}

dashboards_dir=dashboards
chart_dashboards_dir=charts/hpa-engine/dashboards

# generate_dashboards DIR writes the dashboards' JSON into DIR.
generate_dashboards() {
	"$go" run ./dashboards/cmd/gen -dir "$1"
}

# sync_dashboards copies the dashboards into the chart, whose ConfigMap
# template globs dashboards/*.json; copies of removed dashboards go too.
sync_dashboards() {
	mkdir -p "$chart_dashboards_dir"
	rm -f "$chart_dashboards_dir"/*.json
	cp "$dashboards_dir"/*.json "$chart_dashboards_dir"/
}

# verify_dashboards fails when the committed dashboards differ from a fresh
# generation or the chart's copy differs from them.
verify_dashboards() {
	local tmp=$1 stale=0
	mkdir -p "$tmp/dashboards"
	generate_dashboards "$tmp/dashboards"
	for f in "$tmp"/dashboards/*.json; do
		diff -u "$dashboards_dir/$(basename "$f")" "$f" || stale=1
	done
	if ! diff -r "$dashboards_dir" "$chart_dashboards_dir" -x '*.go' -x testdata -x cmd; then
		echo "the chart's dashboards are stale: run make sync-dashboards and commit the result" >&2
		stale=1
	fi
	if [ "$stale" -ne 0 ]; then
		echo "dashboards are stale: run make dashboards and commit the result" >&2
		return 1
	fi
}

case "${1:-}" in
"")
	generate "$api_dir" "$crd_dir"
	generate_dashboards "$dashboards_dir"
	sync_dashboards
	;;
--dashboards)
	generate_dashboards "$dashboards_dir"
	sync_dashboards
	;;
--sync-dashboards)
	sync_dashboards
	;;
--verify)
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp/object" "$tmp/crd"
	generate "$tmp/object" "$tmp/crd"
	stale=0
	diff -u "$api_dir/zz_generated.deepcopy.go" "$tmp/object/zz_generated.deepcopy.go" || stale=1
	diff -ru "$crd_dir" "$tmp/crd" || stale=1
	verify_dashboards "$tmp" || stale=1
	if [ "$stale" -ne 0 ]; then
		echo "generated files are stale: run make generate and commit the result" >&2
		exit 1
	fi
	(cd hack/tools && "$go" mod tidy -diff)
	;;
*)
	echo "usage: $0 [--verify|--dashboards|--sync-dashboards]" >&2
	exit 2
	;;
esac
