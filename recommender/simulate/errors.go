package simulate

import "errors"

// ErrInvalid wraps every error caused by what was asked: a range that is
// empty, too long or badly stepped, a spec the replay cannot model (Resource
// metrics), a metric the history has no rule for. The REST API answers it
// with 422.
var ErrInvalid = errors.New("invalid simulation")

// ErrUnavailable wraps errors of a history that could not be read (the
// metrics backend is down or timed out). The REST API answers it with 503.
var ErrUnavailable = errors.New("metric history unavailable")
