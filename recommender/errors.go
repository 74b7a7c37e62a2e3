package recommender

import "errors"

// ErrInvalidInput is returned by Recommend for input upstream could never be
// given (a metric source missing its body, observations not aligned with the
// metrics, no time): the API server's validation or the controller's own
// plumbing rules it out, so there is no upstream behaviour to reproduce.
var ErrInvalidInput = errors.New("invalid input")
