package adapter

import "errors"

// Sentinel errors a provider returns (wrapped with context through %w) so that
// the HTTP edge can answer with the right metav1.Status code. Anything else a
// provider returns becomes a 500.
var (
	// ErrMetricNotFound means no rule serves this metric for this resource:
	// the edge answers 404.
	ErrMetricNotFound = errors.New("metric not found")

	// ErrObjectNotFound means the metric exists but the object asked for by
	// name is unknown: the edge answers 404.
	ErrObjectNotFound = errors.New("object not found")

	// ErrNoData means the metric and the object exist but the backend has no
	// usable sample (none at all, or only NaN and ±Inf). An Object or External
	// metric without a sample must never be served as 0: the edge answers 404.
	ErrNoData = errors.New("no data")

	// ErrBadSelector means a label selector cannot be parsed or cannot be
	// expressed against the backend: the edge answers 400.
	ErrBadSelector = errors.New("bad selector")

	// ErrBadRequest means the request itself is malformed (a path segment
	// that is not a valid name, for instance): the edge answers 400.
	ErrBadRequest = errors.New("bad request")

	// ErrBackendUnavailable means Prometheus could not be reached or did not
	// answer in time: the edge answers 503 so that the HPA holds instead of
	// acting on missing data. context.DeadlineExceeded is treated the same.
	ErrBackendUnavailable = errors.New("backend unavailable")
)
