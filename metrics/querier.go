package metrics

import (
	"context"
	"time"
)

// Sample is one series' value at one instant.
type Sample struct {
	// Labels are the series' labels, __name__ included when Prometheus
	// returns it. A scalar result has an empty, non-nil map.
	Labels map[string]string
	// Value may be NaN or ±Inf: callers decide what that means (the adapter
	// drops such samples as missing, it never turns them into 0).
	Value float64
	// Timestamp is the sample's own time, not the time of the request.
	Timestamp time.Time
}

// Series is one series of a range query.
type Series struct {
	Labels map[string]string
	Points []Point
}

// Point is one value of a Series.
type Point struct {
	Timestamp time.Time
	Value     float64
}

// Querier is what the adapter and recommender need from Prometheus. It hides
// prometheus/common/model so that nothing past this package depends on it.
//
// Results are owned by the caller but may be shared with other callers when
// the Querier coalesces requests (see Coalesce): treat them as read-only.
type Querier interface {
	// Query runs an instant query at `at` (Prometheus' own "now" when `at`
	// is zero). A vector becomes its samples, a scalar one sample without
	// labels; other result types are an error.
	Query(ctx context.Context, query string, at time.Time) ([]Sample, error)
	// Series returns the label sets of the series matching `match` in
	// [start, end].
	Series(ctx context.Context, match string, start, end time.Time) ([]map[string]string, error)
	// QueryRange runs a range query.
	QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]Series, error)
}
