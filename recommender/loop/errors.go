package loop

import "errors"

var (
	// ErrNotReady is returned by Loop.Ready until the first cycle has
	// published its recommendations.
	ErrNotReady = errors.New("no recommendation cycle has completed yet")

	// ErrInvalidConfig wraps the reasons New refuses a Config or Deps.
	ErrInvalidConfig = errors.New("invalid loop configuration")
)
