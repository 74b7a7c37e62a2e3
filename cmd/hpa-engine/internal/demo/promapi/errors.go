package promapi

import "errors"

// ErrNoDir is returned by Open without a storage directory.
var ErrNoDir = errors.New("no storage directory")
