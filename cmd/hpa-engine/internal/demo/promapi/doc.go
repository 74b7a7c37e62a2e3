// Package promapi is the demo's embedded Prometheus: a TSDB on temporary
// storage, the PromQL engine of github.com/prometheus/prometheus, and a small
// handler serving the read side of the Prometheus HTTP API (query,
// query_range, series, labels, label values) in Prometheus' JSON format, so
// that the adapter's production client talks to it over HTTP as it would to
// a real Prometheus.
//
// It owns the storage directory it is given and nothing else. It must not
// import the engine's packages (adapter, recommender, scaler): it stands in
// for an external system, and the demo must exercise the real clients
// against it. It is not a Prometheus: no scraping, rules, remote write,
// native histograms or admin endpoints.
package promapi
