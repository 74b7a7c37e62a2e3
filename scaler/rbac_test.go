package scaler

import (
	"bytes"
	"os"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// TestRBACCoversTheScaler checks test/rbac/controller.yaml grants every
// request the controller makes: a rule list that forgets one fails only in
// a real cluster, late.
func TestRBACCoversTheScaler(t *testing.T) {
	b, err := os.ReadFile("../test/rbac/controller.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cluster, leader []rbacv1.PolicyRule
	for _, doc := range bytes.Split(b, []byte("\n---\n")) {
		var obj struct {
			Kind  string              `json:"kind"`
			Rules []rbacv1.PolicyRule `json:"rules"`
		}
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			t.Fatalf("parse: %v", err)
		}
		switch obj.Kind {
		case "ClusterRole":
			cluster = append(cluster, obj.Rules...)
		case "Role":
			leader = append(leader, obj.Rules...)
		}
	}
	tests := []struct {
		name                  string
		rules                 []rbacv1.PolicyRule
		group, resource, verb string
		resourceName          string
	}{
		{name: "read HPAs", rules: cluster, group: "autoscaling", resource: "horizontalpodautoscalers", verb: "watch"},
		{name: "list pods", rules: cluster, group: "", resource: "pods", verb: "list"},
		{name: "pod metrics", rules: cluster, group: "metrics.k8s.io", resource: "pods", verb: "list"},
		{name: "watch deployments", rules: cluster, group: "apps", resource: "deployments", verb: "watch"},
		{name: "watch statefulsets", rules: cluster, group: "apps", resource: "statefulsets", verb: "watch"},
		{name: "watch replicasets", rules: cluster, group: "apps", resource: "replicasets", verb: "watch"},
		{name: "get a deployment's scale", rules: cluster, group: "apps", resource: "deployments/scale", verb: "get"},
		{name: "update a custom resource's scale", rules: cluster, group: "example.com", resource: "widgets/scale", verb: "update"},
		{name: "watch autoscalers", rules: cluster, group: "autoscaling.hpa-engine.io", resource: "autoscalers", verb: "watch"},
		{name: "get an autoscaler after a conflict", rules: cluster, group: "autoscaling.hpa-engine.io", resource: "autoscalers", verb: "get"},
		{name: "update autoscaler status", rules: cluster, group: "autoscaling.hpa-engine.io", resource: "autoscalers/status", verb: "update"},
		{name: "create events", rules: cluster, group: "", resource: "events", verb: "create"},
		{name: "patch events", rules: cluster, group: "", resource: "events", verb: "patch"},
		{name: "token reviews", rules: cluster, group: "authentication.k8s.io", resource: "tokenreviews", verb: "create"},
		{name: "create the lease", rules: leader, group: "coordination.k8s.io", resource: "leases", verb: "create"},
		{name: "renew the lease", rules: leader, group: "coordination.k8s.io", resource: "leases", verb: "update", resourceName: DefaultLeaseName},
		{name: "read the lease", rules: leader, group: "coordination.k8s.io", resource: "leases", verb: "get", resourceName: DefaultLeaseName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !allows(tc.rules, tc.group, tc.resource, tc.verb, tc.resourceName) {
				t.Errorf("no rule allows %s on %s in group %q", tc.verb, tc.resource, tc.group)
			}
		})
	}
	if allows(cluster, "apps", "deployments", "update", "") || allows(cluster, "autoscaling.hpa-engine.io", "autoscalers", "update", "") || allows(cluster, "coordination.k8s.io", "leases", "update", "") {
		t.Error("the ClusterRole grants more than the controller needs (writes to workloads, autoscaler specs or leases cluster-wide)")
	}
}

func allows(rules []rbacv1.PolicyRule, group, resource, verb, name string) bool {
	match := func(list []string, v string) bool { return slices.Contains(list, v) || slices.Contains(list, "*") }
	matchResource := func(list []string) bool {
		if match(list, resource) {
			return true
		}
		// "*/scale" grants the scale subresource of every resource.
		for _, r := range list {
			if len(r) > 2 && r[:2] == "*/" && len(resource) > len(r)-1 && resource[len(resource)-(len(r)-1):] == r[1:] {
				return true
			}
		}
		return false
	}
	for _, r := range rules {
		if match(r.APIGroups, group) && matchResource(r.Resources) && match(r.Verbs, verb) &&
			(len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, name)) {
			return true
		}
	}
	return false
}
