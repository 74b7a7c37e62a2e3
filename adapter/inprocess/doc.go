// Package inprocess is the adapter side of the recommender's in-process
// metric source: it answers custom and external metrics requests straight
// from an adapter.CustomMetricsProvider and adapter.ExternalMetricsProvider,
// without an HTTP hop, and returns the wire types the adapter's HTTP edge
// serves (custom_metrics/v1beta2.MetricValueList and
// external_metrics/v1beta1.ExternalMetricValueList), with the edge's rules:
// non-finite samples dropped, a by-name answer of exactly one item, an
// external answer of at least one, errors as metav1.Status errors with the
// edge's codes. Identical concurrent requests share one provider call.
//
// Source satisfies the recommender loop's MetricSource interface by its
// method set; this package must not import the recommender, the scaler or
// cmd (the recommender's loop declares the interface, the adapter
// implements it).
package inprocess
