package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Query kinds, the values of the "kind" label.
const (
	KindQuery      = "query"
	KindSeries     = "series"
	KindQueryRange = "query_range"
)

// Query outcomes, the values of the "outcome" label.
const (
	OutcomeSuccess     = "success"
	OutcomeBadQuery    = "bad_query"
	OutcomeUnavailable = "unavailable"
	OutcomeError       = "error"
)

// QueryMetrics are the hpa_engine_prometheus_* metrics of the queries the
// engine sends. One QueryMetrics serves every backend: the backend is a label.
type QueryMetrics struct {
	queries  *prometheus.CounterVec
	duration *prometheus.HistogramVec
	series   *prometheus.HistogramVec
	// now is replaced in tests so that durations are reproducible.
	now func() time.Time
}

// NewQueryMetrics creates the metrics and registers them with reg. A nil reg
// gives metrics that work but are exported nowhere, for tests and tools.
func NewQueryMetrics(reg prometheus.Registerer) *QueryMetrics {
	f := promauto.With(reg)
	return &QueryMetrics{
		queries: f.NewCounterVec(prometheus.CounterOpts{
			Name: "hpa_engine_prometheus_queries_total",
			Help: "Requests sent to Prometheus, by backend, kind (query, series, query_range) and outcome (success, bad_query, unavailable, error).",
		}, []string{"backend", "kind", "outcome"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hpa_engine_prometheus_query_duration_seconds",
			Help: "Time from sending a request to Prometheus to having its decoded result, by backend and kind.",
			// From a cached 1 ms answer to the 10 s default timeout.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"backend", "kind"}),
		series: f.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hpa_engine_prometheus_query_result_series",
			Help: "Series in each successful result from Prometheus, by backend and kind.",
			// Up to the 10,000-pod workloads the adapter is sized for, and
			// the large series relists of discovery.
			Buckets: []float64{0, 1, 10, 100, 1000, 10000, 100000},
		}, []string{"backend", "kind"}),
		now: time.Now,
	}
}

// Outcome maps an error returned by a Querier to the "outcome" label.
func Outcome(err error) string {
	switch {
	case err == nil:
		return OutcomeSuccess
	case errors.Is(err, ErrBadQuery):
		return OutcomeBadQuery
	case errors.Is(err, ErrUnavailable):
		return OutcomeUnavailable
	default:
		return OutcomeError
	}
}

// Instrument returns a Querier that records every call to q in m under the
// backend label. Wrap the Client directly (Coalesce(Instrument(c, ...))) so
// that the metrics count requests that reached Prometheus. A nil m records
// into unregistered metrics.
func Instrument(q Querier, backend string, m *QueryMetrics) Querier {
	if m == nil {
		m = NewQueryMetrics(nil)
	}
	return &instrumented{next: q, backend: backend, m: m}
}

type instrumented struct {
	next    Querier
	backend string
	m       *QueryMetrics
}

var _ Querier = (*instrumented)(nil)

func (i *instrumented) Query(ctx context.Context, query string, at time.Time) ([]Sample, error) {
	start := i.m.now()
	out, err := i.next.Query(ctx, query, at)
	i.observe(KindQuery, start, len(out), err)
	return out, err
}

func (i *instrumented) Series(ctx context.Context, match string, start, end time.Time) ([]map[string]string, error) {
	began := i.m.now()
	out, err := i.next.Series(ctx, match, start, end)
	i.observe(KindSeries, began, len(out), err)
	return out, err
}

func (i *instrumented) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]Series, error) {
	began := i.m.now()
	out, err := i.next.QueryRange(ctx, query, start, end, step)
	i.observe(KindQueryRange, began, len(out), err)
	return out, err
}

func (i *instrumented) observe(kind string, start time.Time, n int, err error) {
	i.m.duration.WithLabelValues(i.backend, kind).Observe(i.m.now().Sub(start).Seconds())
	i.m.queries.WithLabelValues(i.backend, kind, Outcome(err)).Inc()
	if err == nil {
		i.m.series.WithLabelValues(i.backend, kind).Observe(float64(n))
	}
}
