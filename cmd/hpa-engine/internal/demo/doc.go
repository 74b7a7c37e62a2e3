// Package demo holds the scenario of `hpa-engine demo`: the namespace, the
// three demo services with their load profiles, the Autoscalers that scale
// them (a Pods, an Object and an External metric) and the adapter
// configuration that maps the load generator's series onto those metrics.
// Its sub-packages are the stand-ins the scenario runs on: promapi (an
// embedded Prometheus), cluster (a fake API server with a tiny deployment
// controller and kubelet) and load (the load generator).
//
// It owns the scenario's content only. It must not import the engine's
// adapter, recommender or scaler packages (only the Autoscaler API types):
// the command wires the production components over the stand-ins, so that
// the demo runs the real code paths rather than copies. (Its tests load the
// adapter configuration with adapter/config, as the adapter will.)
package demo
