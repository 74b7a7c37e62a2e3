// Package dashboards holds the engine's Grafana dashboards and the checks that
// keep them true: every panel's PromQL parses and queries only metrics the
// engine exports or that every Prometheus has.
//
// It must not import the engine's runtime packages (adapter, recommender,
// scaler, cmd); it only reads the metric names the metrics package declares.
package dashboards
