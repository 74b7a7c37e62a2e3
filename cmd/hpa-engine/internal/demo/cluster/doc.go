// Package cluster is the demo's stand-in for a Kubernetes cluster: client-go's
// fake clientsets (typed, metadata, dynamic, discovery) holding the demo's
// Deployments, Services, Pods and Autoscalers, a scale client over the
// Deployments, and a tiny "deployment controller and kubelet" that keeps
// each Deployment's pods at its spec.replicas, Running and Ready.
//
// It owns the fake API objects and nothing else. It must not import the
// engine's packages other than the Autoscaler API types (adapter,
// recommender, scaler, metrics): the demo runs the production code paths
// against it, as they would run against a real API server.
package cluster
