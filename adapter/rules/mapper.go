package rules

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ResourceMapper resolves resources as written in rules and labels ("pod",
// "deployment" in group "apps") to the cluster's canonical plural
// group-resources, and back to singular names for label templates. Any
// meta.RESTMapper satisfies it; the adapter uses a discovery-backed one.
type ResourceMapper interface {
	ResourceFor(input schema.GroupVersionResource) (schema.GroupVersionResource, error)
	ResourceSingularizer(resource string) (singular string, err error)
}

var _ ResourceMapper = meta.RESTMapper(nil)

// NormalizeResource resolves a group-resource, singular or plural, to the
// mapper's canonical plural form, as prometheus-adapter does for overrides,
// template labels and requests alike.
func NormalizeResource(m ResourceMapper, gr schema.GroupResource) (schema.GroupResource, error) {
	if m == nil {
		return schema.GroupResource{}, fmt.Errorf("resource %s: %w", gr, errNoMapper)
	}
	gvr, err := m.ResourceFor(gr.WithVersion(""))
	if err != nil {
		return schema.GroupResource{}, fmt.Errorf("resource %s: %w", gr, err)
	}
	return gvr.GroupResource(), nil
}

// Resources the metric API treats as not namespaced, whatever the series'
// other labels say. prometheus-adapter hard-codes the same three.
var (
	namespacesResource = schema.GroupResource{Resource: "namespaces"}
	nodesResource      = schema.GroupResource{Resource: "nodes"}
	pvsResource        = schema.GroupResource{Resource: "persistentvolumes"}
)

// podsResource is what resourceRules' container queries describe.
var podsResource = schema.GroupResource{Resource: "pods"}

// Namespaced reports whether metrics of the resource are served under
// /namespaces/{ns}/. As in prometheus-adapter, only namespaces, nodes and
// persistentvolumes are root-scoped.
func Namespaced(gr schema.GroupResource) bool {
	return gr != namespacesResource && gr != nodesResource && gr != pvsResource
}

// BuiltinMapper returns a RESTMapper that knows the built-in resources a
// workload's metrics usually describe (core, apps, batch, networking,
// autoscaling, policy). It is for tests, demos and simulations; serving
// should use the cluster's discovery so custom resources resolve too.
func BuiltinMapper() meta.RESTMapper {
	core := schema.GroupVersion{Version: "v1"}
	apps := schema.GroupVersion{Group: "apps", Version: "v1"}
	batch := schema.GroupVersion{Group: "batch", Version: "v1"}
	netv1 := schema.GroupVersion{Group: "networking.k8s.io", Version: "v1"}
	asv2 := schema.GroupVersion{Group: "autoscaling", Version: "v2"}
	policy := schema.GroupVersion{Group: "policy", Version: "v1"}
	m := meta.NewDefaultRESTMapper([]schema.GroupVersion{core, apps, batch, netv1, asv2, policy})
	add := func(gv schema.GroupVersion, kind string, scope meta.RESTScope) {
		m.Add(gv.WithKind(kind), scope)
	}
	for _, k := range []string{"Pod", "Service", "Endpoints", "ConfigMap", "Secret", "PersistentVolumeClaim", "ReplicationController", "ServiceAccount"} {
		add(core, k, meta.RESTScopeNamespace)
	}
	for _, k := range []string{"Namespace", "Node", "PersistentVolume"} {
		add(core, k, meta.RESTScopeRoot)
	}
	for _, k := range []string{"Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"} {
		add(apps, k, meta.RESTScopeNamespace)
	}
	add(batch, "Job", meta.RESTScopeNamespace)
	add(batch, "CronJob", meta.RESTScopeNamespace)
	add(netv1, "Ingress", meta.RESTScopeNamespace)
	add(asv2, "HorizontalPodAutoscaler", meta.RESTScopeNamespace)
	add(policy, "PodDisruptionBudget", meta.RESTScopeNamespace)
	return m
}
