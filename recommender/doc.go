// Package recommender computes replica recommendations with the exact
// autoscaling/v2 HorizontalPodAutoscaler algorithm (k8s.io/kubernetes v1.37.2,
// pkg/controller/podautoscaler) and explains every step: one proposal per
// metric, the largest wins, clamped to the bounds and shaped by behavior.
//
// The algorithm is pure: it receives the spec, the target's state, the
// observations, the history and "now" as values and returns a result with its
// reasons. No clients, no clocks it did not receive, no goroutines. The loop
// and the REST API that feed and serve it live in sub-packages.
//
// It must not import adapter, scaler, metrics or cmd: it declares the small
// interfaces it needs (a metric source, a target lister) and those packages
// implement them.
package recommender
