// Package dashboards generates the engine's Grafana dashboards with the
// Grafana Foundation SDK (overview.json, adapter.json; `go run
// ./dashboards/cmd/gen` writes them) and holds the checks that keep them
// true: the committed JSON is what the generator produces and decodes
// strictly as a Grafana dashboard, and every panel's PromQL parses and
// selects only metrics the engine exports (testdata/exported_metrics.txt,
// written by cmd/hpa-engine's TestMetricsCatalog from the real registries)
// or that client_golang's Go and process collectors export.
//
// It must not import the engine's runtime packages (adapter, recommender,
// scaler, metrics, cmd): it reads the list of exported names instead.
package dashboards
