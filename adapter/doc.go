// Package adapter serves the custom.metrics.k8s.io (v1beta1, v1beta2) and
// external.metrics.k8s.io (v1beta1) APIs from Prometheus, as a drop-in
// replacement for prometheus-adapter: the same configuration file, the same
// paths, the same wire types.
//
// It owns the HTTP edge of those APIs (chi routing, discovery documents,
// metav1.Status errors, delegated authentication and authorization) and the
// provider that turns a request into one PromQL query through the rules in
// adapter/rules. Its provider also serves the recommender in-process.
//
// It must not import recommender, scaler or cmd; Prometheus is reached only
// through the metrics package's querier.
package adapter
