// Package adapter serves the custom.metrics.k8s.io (v1beta1, v1beta2) and
// external.metrics.k8s.io (v1beta1) APIs from Prometheus, as a drop-in
// replacement for prometheus-adapter: the same configuration file, the same
// paths, the same wire types.
//
// It owns the HTTP edge of those APIs and the provider that turns a request
// into one PromQL query through the rules in adapter/rules. Its provider also
// serves the recommender in-process.
//
// The edge, by file: provider.go declares the CustomMetricsProvider and
// ExternalMetricsProvider interfaces it serves from and their
// version-independent values; errors.go the sentinels providers wrap, which
// handler.go maps to metav1.Status codes (400, 404, 503, 500) while it routes
// (chi) every path form, parses selectors and serves discovery; convert.go
// turns values into the k8s.io/metrics wire types (dropping NaN and ±Inf);
// server.go wraps the router with k8s.io/apiserver's request-info,
// authentication and authorization filters and serves HTTPS; options.go and
// auth.go turn flags into the serving certificate and the delegating
// authenticator and authorizer. Encoding (JSON, protobuf) is apimachinery's.
//
// It must not import recommender, scaler or cmd; Prometheus is reached only
// through the metrics package's querier. The edge itself never talks to
// Prometheus and never blocks on discovery of series.
package adapter
