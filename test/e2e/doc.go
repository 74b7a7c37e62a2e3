// Package e2e holds hpa-engine's end-to-end tests: the real hpa-engine binary
// against the test bed's real Prometheus, etcd, kube-apiserver and
// kube-controller-manager. The tests carry the integration build tag.
package e2e
