// Package load is the demo's load generator: a daily-like wave with bursts
// per demo service, on a demo clock that may run faster than the wall
// clock, written every tick into the embedded Prometheus as the series a
// real cluster's exporters would expose: per-pod request rates split over
// the ready pods (so a Pods metric follows the replica count), a request
// rate per Service (an Object metric) and a queue length (an External
// metric).
//
// It owns the load model and the series names. It must not import the
// engine's packages (adapter, recommender, scaler): it stands in for the
// workloads being autoscaled. It reads the ready pods through a one-method
// interface and writes through Prometheus' storage.Appender.
package load
