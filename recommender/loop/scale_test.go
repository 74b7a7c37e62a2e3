package loop

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	appsv1listers "k8s.io/client-go/listers/apps/v1"
	scalefake "k8s.io/client-go/scale/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
)

func TestScales(t *testing.T) {
	rollouts := schema.GroupVersion{Group: "argoproj.io", Version: "v1alpha1"}
	mapper := meta.NewDefaultRESTMapper([]schema.GroupVersion{rollouts})
	mapper.Add(rollouts.WithKind("Rollout"), meta.RESTScopeNamespace)

	client := &scalefake.FakeScaleClient{}
	client.AddReactor("get", "rollouts", func(a clienttesting.Action) (bool, runtime.Object, error) {
		name := a.(clienttesting.GetAction).GetName()
		if name != "canary" {
			return true, nil, apierrors.NewNotFound(schema.GroupResource{Group: rollouts.Group, Resource: "rollouts"}, name)
		}
		return true, &autoscalingv1.Scale{
			Spec:   autoscalingv1.ScaleSpec{Replicas: 4},
			Status: autoscalingv1.ScaleStatus{Replicas: 3, Selector: "app=canary"},
		}, nil
	})

	deployments := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	if err := deployments.Add(deployment("ns", "web", 5, 4)); err != nil {
		t.Fatal(err)
	}
	noReplicas := deployment("ns", "unset", 0, 0)
	noReplicas.Spec.Replicas = nil
	badSelector := deployment("ns", "bad", 1, 1)
	badSelector.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Bogus"}}}
	for _, d := range []*appsv1.Deployment{noReplicas, badSelector} {
		if err := deployments.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	s := NewScales(WorkloadListers{Deployments: appsv1listers.NewDeploymentLister(deployments)}, client, mapper)

	ref := func(apiVersion, kind, name string) autoscalingv2.CrossVersionObjectReference {
		return autoscalingv2.CrossVersionObjectReference{APIVersion: apiVersion, Kind: kind, Name: name}
	}
	tests := []struct {
		name    string
		ref     autoscalingv2.CrossVersionObjectReference
		want    Scale
		wantErr string
	}{
		{name: "deployment from the lister", ref: ref("apps/v1", "Deployment", "web"), want: Scale{SpecReplicas: 5, StatusReplicas: 4, Selector: "app=web"}},
		{name: "unset replicas read as the default 1", ref: ref("apps/v1", "Deployment", "unset"), want: Scale{SpecReplicas: 1, Selector: "app=unset"}},
		{name: "missing deployment reads like the scale subresource", ref: ref("apps/v1", "Deployment", "ghost"), wantErr: `deployments.apps "ghost" not found`},
		{name: "invalid selector", ref: ref("apps/v1", "Deployment", "bad"), wantErr: "selector of Deployment ns/bad"},
		{name: "other kind through the scale subresource", ref: ref("argoproj.io/v1alpha1", "Rollout", "canary"), want: Scale{SpecReplicas: 4, StatusReplicas: 3, Selector: "app=canary"}},
		{name: "other kind missing", ref: ref("argoproj.io/v1alpha1", "Rollout", "ghost"), wantErr: `rollouts.argoproj.io "ghost" not found`},
		{name: "unknown kind", ref: ref("example.com/v1", "Thing", "x"), wantErr: `no matches for kind "Thing" in group "example.com"`},
		{name: "apps kind without a lister", ref: ref("apps/v1", "StatefulSet", "db"), wantErr: `no matches for kind "StatefulSet" in group "apps"`},
		{name: "invalid API version", ref: ref("a/b/c", "Deployment", "web"), wantErr: "invalid API version in scale target reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.GetScale(context.Background(), "ns", tt.ref)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("GetScale = %+v, %v; want an error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("GetScale = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}

	if _, err := NewScales(WorkloadListers{}, nil, nil).GetScale(context.Background(), "ns", ref("apps/v1", "Deployment", "web")); err == nil {
		t.Error("GetScale without lister or client: no error")
	}
}
