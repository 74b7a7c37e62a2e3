// Package testbed starts the real components hpa-engine's integration tests run
// against: etcd, kube-apiserver (with the aggregation layer configured as a
// real cluster's), kube-controller-manager, a fake kubelet and Prometheus, all
// on 127.0.0.1 with free ports and temporary directories.
//
// The binaries come from hack/testbins.sh (make testbins), which builds them
// from the Go module proxy at pinned versions into .testbin/. A test that
// needs a missing binary fails with the command that builds it; it never skips.
//
// Only tests import this package; production packages must not.
package testbed
