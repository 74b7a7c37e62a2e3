package scaler

import "errors"

// Sentinel errors of the package, checked with errors.Is.
var (
	// ErrInvalidConfig wraps every problem New and the options find in a
	// configuration.
	ErrInvalidConfig = errors.New("invalid scaler configuration")
	// ErrLeadershipLost is returned by RunWithLeaderElection when this
	// process was the leader and stopped being it: the caller exits so that
	// nothing it started keeps scaling next to the new leader.
	ErrLeadershipLost = errors.New("leader election lost")
	// ErrTargetChanged says the scale target's replicas are no longer those
	// the recommendation was computed from: someone else scaled it, or a
	// previous leader already applied the recommendation. The scaler waits
	// for the next recommendation instead of acting on an outdated one.
	ErrTargetChanged = errors.New("scale target changed since the recommendation")
)

// ErrObjectChanged says the Autoscaler's spec changed while its status was
// being written; the status computed for the old spec is dropped and the
// next recommendation, computed for the new spec, takes its place.
var ErrObjectChanged = errors.New("autoscaler changed since the recommendation")
