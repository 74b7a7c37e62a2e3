//go:build tools

// Package tools pins the code generators hack/generate.sh runs, in a module
// of its own so that their dependencies stay out of the engine's go.mod.
package tools

import (
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
