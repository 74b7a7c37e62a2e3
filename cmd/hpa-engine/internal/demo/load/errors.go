package load

import "errors"

// Errors of New and Tick.
var (
	ErrMissingDeps  = errors.New("storage and pod lister are required")
	ErrInvalidSpeed = errors.New("speed must be a positive finite number")
	ErrUnknownKind  = errors.New("unknown service kind")
)
