// Package charts holds the tests of the Helm chart in charts/hpa-engine: it
// renders the chart with Helm's Go SDK for the default values and every
// ci/*-values.yaml, lints it, compares the default rendering with a golden
// file, checks what the manifests promise (labels, the APIServices' trust in
// the serving certificate, the flags the binary has, the RBAC the controller
// needs, a configuration the adapter loads) and, with the integration tag,
// applies every rendering to a real kube-apiserver in server-side dry-run.
//
// It owns no production code. It may import hpa-engine packages that define
// what the chart must match (adapter/config, scaler) and the test bed; no
// hpa-engine package may import it.
package charts
