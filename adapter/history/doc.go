// Package history reads the metric history of one autoscaling/v2 metric from
// Prometheus over a time range, through the adapter's own rules: for each
// metric, the rules of the adapter's configuration file (adapter/config,
// adapter/rules) render the PromQL the adapter would send for that metric and
// target, and one range query (query_range) covers the whole range, never one
// query per step. `hpa-engine simulate` and POST /api/v1/simulate replay a
// spec over what it returns.
//
// The series are discovered as the adapter discovers them (each distinct
// seriesQuery of the file is listed, here over the range rather than the last
// minutes), so a rule exposes in history what it exposed at the time.
//
// What the history of each metric type is, given that the replayed replica
// count differs from the one in history:
//   - Pods: the total over the target's pods, per step. The query is the
//     adapter's by-namespace form (the resource label merely present, as the
//     adapter sends for large selections), and the series of the target's
//     pods are kept and summed in-process. Which pods were the target's is
//     not known without the cluster of the time: a pod belongs to the target
//     when its name (the rule's pod label) matches Config.PodName, by default
//     "^<scaleTargetRef.name>-.+$" (a Deployment's and a StatefulSet's pod
//     names); Config.SeriesSelector additionally narrows the series by their
//     own labels (say app=web, when the series carry the pods' labels).
//     The replay divides the total by the replicas it simulates.
//   - Object: the object's value, as the adapter's by-name query gives it.
//   - External: every series' value, as the adapter's query gives them; the
//     algorithm sums them.
//   - Resource and ContainerResource are refused (ErrUnsupported): their
//     utilization needs the pods' requests of the time, which no series
//     holds, and resourceRules' container queries give per-container usage
//     of pods that no longer exist.
//
// The package is the adapter's: it must not import the recommender, the
// scaler or cmd (cmd adapts it to the recommender's simulate.History), and it
// reaches Prometheus only through metrics.Querier.
package history
