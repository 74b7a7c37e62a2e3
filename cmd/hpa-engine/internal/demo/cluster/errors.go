package cluster

import "errors"

// ErrNoNamespace is returned by New without a namespace.
var ErrNoNamespace = errors.New("no namespace")

// ErrPatchUnsupported is returned by the scale client's Patch: the engine
// reads and updates scales, it never patches them.
var ErrPatchUnsupported = errors.New("the demo's scale client does not patch")
