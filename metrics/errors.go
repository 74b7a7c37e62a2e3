package metrics

import "errors"

// ErrUnavailable means Prometheus could not answer: connection refused or
// reset, a DNS failure, a timeout or context deadline, or HTTP 5xx or 429.
// The adapter turns it into 503 and the recommender into "hold".
var ErrUnavailable = errors.New("prometheus unavailable")

// ErrBadQuery means Prometheus rejected the query itself (HTTP 400 or 422):
// retrying the same query will not help.
var ErrBadQuery = errors.New("bad query")

// ErrUnexpectedResult means Prometheus answered with a result type the call
// cannot use, such as a range vector for an instant query.
var ErrUnexpectedResult = errors.New("unexpected result type")
