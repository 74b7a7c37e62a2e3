// Package metrics owns the engine's access to Prometheus (a narrow querier
// over client_golang's API, batching, instrumentation as a decorator) and the
// engine's own hpa_engine_* metrics, created with New(reg) on an explicit
// registerer: no globals, no init.
//
// Import it as hpametrics where it meets k8s.io/metrics. It must not import
// adapter, recommender, scaler or cmd.
package metrics
