// Package metrics owns the engine's access to Prometheus-compatible query
// APIs (Prometheus, Thanos, Mimir, VictoriaMetrics) and the instrumentation of
// that access.
//
// Querier is the narrow interface the adapter and the recommender use: instant
// queries, series lookups and range queries, answered with plain Go values
// (Sample, Series, label maps) so that nothing past this package sees
// prometheus/common/model. Client implements it over client_golang's api
// client (range and series queries through api/prometheus/v1; instant
// queries, the adapter's hot path, decoded in one pass straight into Samples
// by decode.go, differential-fuzzed against client_golang's decoding), with TLS, bearer token files, basic auth and extra
// headers through prometheus/common/config, POST by default so that queries
// are not limited by URL length, and errors classified into ErrUnavailable
// (retry later; the adapter's 503) and ErrBadQuery (the query is wrong).
//
// Decorators add behaviour without widening the interface: Instrument records
// the hpa_engine_prometheus_* metrics in a QueryMetrics created with
// NewQueryMetrics(reg) on an explicit registerer (no globals, no init), and
// Coalesce shares identical concurrent instant queries. Wire them as
// Coalesce(Instrument(client, backend, m)) so the metrics count requests that
// reached Prometheus. metricstest holds a fake Querier for unit tests.
//
// Import it as hpametrics where it meets k8s.io/metrics. It must not import
// adapter, recommender, scaler or cmd, and it interprets no values: whether a
// NaN sample is missing data is the caller's decision.
package metrics
