package history

import "errors"

// ErrUnsupported means the metric cannot be read from history: a Resource
// or ContainerResource metric, or an Object whose kind the mapper does not
// know.
var ErrUnsupported = errors.New("metric not supported in history")

// ErrNoRule means no rule of the configuration exposes the metric for the
// series that existed in the range.
var ErrNoRule = errors.New("no rule exposes the metric")

// ErrBadRequest means the request cannot be rendered into a query: a
// selector PromQL cannot express, an invalid name, a bad pod name pattern.
var ErrBadRequest = errors.New("bad history request")

// ErrUnavailable means Prometheus could not answer (down, timed out).
var ErrUnavailable = errors.New("prometheus unavailable")
