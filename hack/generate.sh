#!/usr/bin/env bash
# Generates the Autoscaler API's deepcopy functions and CRD YAML with
# controller-gen, pinned by hack/tools/go.mod (kept out of the engine's
# go.mod). The first run builds controller-gen from the module proxy, which
# takes a minute or two; later runs reuse the build cache.
#
#   hack/generate.sh           write the generated files in place
#   hack/generate.sh --verify  generate into a temporary folder and fail when
#                              the committed files differ (nothing is written
#                              to the tree), or when hack/tools/go.mod is not tidy
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

case "${1:-}" in
"")
	generate "$api_dir" "$crd_dir"
	;;
--verify)
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp/object" "$tmp/crd"
	generate "$tmp/object" "$tmp/crd"
	stale=0
	diff -u "$api_dir/zz_generated.deepcopy.go" "$tmp/object/zz_generated.deepcopy.go" || stale=1
	diff -ru "$crd_dir" "$tmp/crd" || stale=1
	if [ "$stale" -ne 0 ]; then
		echo "generated files are stale: run make generate and commit the result" >&2
		exit 1
	fi
	(cd hack/tools && "$go" mod tidy -diff)
	;;
*)
	echo "usage: $0 [--verify]" >&2
	exit 2
	;;
esac
