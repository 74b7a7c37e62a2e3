// Package loop is the recommender's control loop: every sync period it
// gathers the scaling targets from its TargetSources (native HPAs, observed
// read-only; the engine's Autoscaler objects plug in as a second source), reads
// each target's scale (typed informers for Deployments, StatefulSets and
// ReplicaSets, the scale subresource for other kinds) and pods (one pod
// informer, selectors matched in-process), fetches the metric observations,
// runs the pure algorithm of package recommender with the history it keeps per
// target, and publishes the latest Recommendation per target in a Store. It
// exports its own hpa_engine_recommender_* metrics.
//
// Observations are batched: targets of one namespace that use the same metric
// and metric selector share one MetricSource call per cycle (Pods metrics ask
// for every pod of the namespace, Object metrics for every object of the
// resource, External metrics once per selector; an object missing from its
// batch is then asked for by name), and Resource metrics take one PodMetrics
// list per namespace. Each target gets from the shared answers exactly what
// upstream's metrics client returns for its own call (values in milli-units,
// the one-minute default window, the first item's timestamp, the same error
// texts), so the algorithm sees what kube-controller-manager sees.
//
// It owns the loop, the per-target history, the batching and the in-memory
// Store. It never writes to Kubernetes objects (applying recommendations is
// the scaler's job) and must not import adapter, scaler, metrics or cmd: it
// declares the interfaces it needs (TargetSource, ScaleReader, MetricSource,
// PodMetricsLister) and those packages implement them. Only its external
// tests import adapter, to run cycles through the real provider.
package loop
