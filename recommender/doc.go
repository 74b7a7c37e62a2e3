// Package recommender computes replica recommendations with the exact
// autoscaling/v2 HorizontalPodAutoscaler algorithm (k8s.io/kubernetes v1.37.2,
// pkg/controller/podautoscaler, default feature gates) and explains every
// step: one proposal per metric, the largest wins, clamped to the bounds and
// shaped by behavior.
//
// Recommend is the whole algorithm of one reconcile: it receives the spec, the
// target's state, the metric observations, the history and "now" as values
// (Input) and returns the desired replicas, the per-metric proposals with the
// rule that decided each, the steps after the max, the status upstream would
// write (currentMetrics, conditions) and the updated history (Result).
// RecordScaleEvent keeps the scale events after a rescale, RescaleFailed gives
// the result of a failed scale update, PodFromV1 turns a pod into its input.
//
// Files follow upstream's: calculator.go is replica_calculator.go,
// recommend.go and normalize.go are horizontal.go; explain.go renders the
// explanation.
//
// The algorithm is pure: no clients, no clocks it did not receive, no
// goroutines. The loop and the REST API that feed and serve it live in
// sub-packages. It must not import adapter, scaler, metrics or cmd: it
// declares the small interfaces it needs (a metric source, a target lister)
// and those packages implement them.
package recommender
