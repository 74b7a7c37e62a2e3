package rules

import "errors"

// ErrUnsupportedSelector means a label selector cannot be expressed as
// PromQL matchers (a Gt/Lt operator, a label name Prometheus does not
// allow, a value that is not UTF-8). The HTTP edge maps it to 400.
var ErrUnsupportedSelector = errors.New("label selector cannot be expressed in PromQL")

// ErrInvalidName means an object name or namespace cannot be put in a
// query (empty, or not UTF-8). The HTTP edge maps it to 400.
var ErrInvalidName = errors.New("invalid object name")

// ErrNoLabel means a rule has no label for a group-resource: neither an
// override nor a template names it.
var ErrNoLabel = errors.New("no label for resource")

// ErrNoQuery means a rule has no usable metricsQuery, or its template
// rendered nothing.
var ErrNoQuery = errors.New("no query")

// errNoMapper means a mapping was asked of a nil ResourceMapper (discovery
// before the cluster's resources are known): nothing resolves.
var errNoMapper = errors.New("no resource mapper")
