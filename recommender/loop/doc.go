// Package loop is the recommender's control loop: every sync period it
// gathers the scaling targets from its TargetSources (native HPAs, observed
// read-only; the engine's Autoscaler objects plug in as a second source), reads
// each target's scale and pods through informers, fetches the metric
// observations through a MetricSource in batches (one call per metric,
// selector and namespace, not one per target), runs the pure algorithm of
// package recommender with the history it keeps per target, and publishes the
// latest Recommendation per target in a Store. It exports its own
// hpa_engine_recommender_* metrics.
//
// It owns the loop, the per-target history, the batching of observations and
// the in-memory Store. It never writes to Kubernetes objects (applying
// recommendations is the scaler's job) and must not import adapter, scaler,
// metrics or cmd: it declares the interfaces it needs (TargetSource,
// MetricSource, ScaleReader) and those packages implement them.
package loop
