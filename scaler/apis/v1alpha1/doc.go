// Package v1alpha1 holds the Go types of the engine's own API group,
// autoscaling.hpa-engine.io/v1alpha1: the Autoscaler, whose spec is the
// autoscaling/v2 HorizontalPodAutoscalerSpec field for field (so an HPA
// manifest converts by changing apiVersion and kind) plus the engine's
// extensions, and whose status mirrors the HPA status plus the stabilization
// history and the explanation of the last decision.
//
// It owns the types, their generated deepcopy functions and CRD YAML
// (crd/, written by controller-gen through hack/generate.sh; never edit them
// by hand), and the conversions between these types and the recommender's
// (History) and autoscaling/v2's (spec and status). It may import the
// recommender's pure types; it must not import clients, the loop, the scaler
// or cmd, so that anything can import it.
//
// +kubebuilder:object:generate=true
// +groupName=autoscaling.hpa-engine.io
package v1alpha1
