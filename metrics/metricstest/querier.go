// Package metricstest provides a hand-written fake metrics.Querier for the
// unit tests of the packages that query Prometheus (adapter, recommender).
// It must not be imported by non-test code.
package metricstest

import (
	"context"
	"fmt"
	"sync"
	"time"

	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
)

// Call is one recorded call to the fake.
type Call struct {
	// Kind is hpametrics.KindQuery, KindSeries or KindQueryRange.
	Kind string
	// Query is the PromQL of Query and QueryRange, the matcher of Series.
	Query      string
	At         time.Time // Query only
	Start, End time.Time // Series and QueryRange
	Step       time.Duration
}

// Querier is a fake hpametrics.Querier. Answers come from the Func fields
// when set, otherwise from the maps keyed by the exact query string; a query
// found in neither returns no data and no error, as Prometheus does for an
// unknown series. Errors are looked up first, so one query can be made to
// fail while the others answer. It is safe for concurrent use; set the fields
// before the first call.
type Querier struct {
	// QueryFunc, SeriesFunc and QueryRangeFunc, when set, answer instead of
	// the maps.
	QueryFunc      func(ctx context.Context, query string, at time.Time) ([]hpametrics.Sample, error)
	SeriesFunc     func(ctx context.Context, match string, start, end time.Time) ([]map[string]string, error)
	QueryRangeFunc func(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]hpametrics.Series, error)

	// Samples, SeriesSets and Ranges are canned results by query string.
	Samples    map[string][]hpametrics.Sample
	SeriesSets map[string][]map[string]string
	Ranges     map[string][]hpametrics.Series
	// Errors are canned errors by query string, for every kind of call.
	Errors map[string]error

	mu    sync.Mutex
	calls []Call
}

var _ hpametrics.Querier = (*Querier)(nil)

// Query implements hpametrics.Querier.
func (q *Querier) Query(ctx context.Context, query string, at time.Time) ([]hpametrics.Sample, error) {
	q.record(Call{Kind: hpametrics.KindQuery, Query: query, At: at})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("query %q: %w", query, err)
	}
	if q.QueryFunc != nil {
		return q.QueryFunc(ctx, query, at)
	}
	if err := q.Errors[query]; err != nil {
		return nil, err
	}
	return q.Samples[query], nil
}

// Series implements hpametrics.Querier.
func (q *Querier) Series(ctx context.Context, match string, start, end time.Time) ([]map[string]string, error) {
	q.record(Call{Kind: hpametrics.KindSeries, Query: match, Start: start, End: end})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("series %q: %w", match, err)
	}
	if q.SeriesFunc != nil {
		return q.SeriesFunc(ctx, match, start, end)
	}
	if err := q.Errors[match]; err != nil {
		return nil, err
	}
	return q.SeriesSets[match], nil
}

// QueryRange implements hpametrics.Querier.
func (q *Querier) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]hpametrics.Series, error) {
	q.record(Call{Kind: hpametrics.KindQueryRange, Query: query, Start: start, End: end, Step: step})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("query range %q: %w", query, err)
	}
	if q.QueryRangeFunc != nil {
		return q.QueryRangeFunc(ctx, query, start, end, step)
	}
	if err := q.Errors[query]; err != nil {
		return nil, err
	}
	return q.Ranges[query], nil
}

// Calls returns the calls received so far, in order.
func (q *Querier) Calls() []Call {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]Call(nil), q.calls...)
}

// Reset forgets the recorded calls.
func (q *Querier) Reset() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls = nil
}

func (q *Querier) record(c Call) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls = append(q.calls, c)
}
