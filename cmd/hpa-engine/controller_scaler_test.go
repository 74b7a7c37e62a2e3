package main

import (
	"context"
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/hpa-engine/hpa-engine/scaler"
	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

func TestResourceServed(t *testing.T) {
	gv := v1alpha1.GroupVersionResource.GroupVersion().String()
	tests := []struct {
		name      string
		resources []*metav1.APIResourceList
		fail      error
		want      bool
		wantErr   bool
	}{
		{name: "served", resources: []*metav1.APIResourceList{{GroupVersion: gv, APIResources: []metav1.APIResource{{Name: v1alpha1.GroupVersionResource.Resource}}}}, want: true},
		{name: "group without the resource", resources: []*metav1.APIResourceList{{GroupVersion: gv, APIResources: []metav1.APIResource{{Name: "others"}}}}},
		{name: "group not served", resources: []*metav1.APIResourceList{{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{{Name: "deployments"}}}}},
		{name: "discovery down", fail: errors.New("connection refused"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &clienttesting.Fake{Resources: tt.resources}
			if tt.fail != nil {
				fake.AddReactor("get", "resource", func(clienttesting.Action) (bool, runtime.Object, error) { return true, nil, tt.fail })
			}
			got, err := resourceServed(context.Background(), &fakediscovery.FakeDiscovery{Fake: fake}, v1alpha1.GroupVersionResource)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("resourceServed = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestWaitForResource(t *testing.T) {
	calls := 0
	served := func(context.Context) (bool, error) {
		calls++
		switch calls {
		case 1:
			return false, nil
		case 2:
			return false, errors.New("discovery down")
		}
		return true, nil
	}
	if err := waitForResource(context.Background(), time.Millisecond, served); err != nil || calls != 3 {
		t.Errorf("waitForResource = %v after %d calls, want nil after 3", err, calls)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := waitForResource(ctx, time.Millisecond, func(context.Context) (bool, error) { return false, nil }); err == nil {
		t.Error("waitForResource on a resource never served returned nil before ctx was done")
	}
}

// fakeAutoscalerClient is a fake dynamic client
// holding one Autoscaler.
func fakeAutoscalerClient(t *testing.T) *dynamicfake.FakeDynamicClient {
	t.Helper()
	gvr := v1alpha1.GroupVersionResource
	a := &unstructured.Unstructured{}
	a.SetGroupVersionKind(schema.GroupVersionKind{Group: gvr.Group, Version: gvr.Version, Kind: "Autoscaler"})
	a.SetNamespace("default")
	a.SetName("web")
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{gvr: "AutoscalerList"}, a)
}

func TestRunScaler(t *testing.T) {
	tests := []struct {
		name    string
		served  bool
		wantRun bool
	}{
		{name: "CRD installed: the scaler runs over the synced informer", served: true, wantRun: true},
		{name: "CRD missing: the scaler waits and never runs", served: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			inf := scaler.NewAutoscalerInformer(fakeAutoscalerClient(t), "", 0)
			listed := -1
			run := func(ctx context.Context) {
				// The informer has synced before the scaler starts.
				objs, err := inf.Lister().List(labels.Everything())
				if err == nil {
					listed = len(objs)
				}
				cancel()
				<-ctx.Done()
			}
			if !tt.served {
				time.AfterFunc(100*time.Millisecond, cancel)
			}
			err := runScaler(ctx, inf.Informer(), func(context.Context) (bool, error) { return tt.served, nil }, scaler.LeaderElectionConfig{}, run)
			if err != nil {
				t.Fatalf("runScaler = %v", err)
			}
			if ran := listed != -1; ran != tt.wantRun {
				t.Fatalf("scaler ran: %v, want %v", ran, tt.wantRun)
			}
			if tt.wantRun && listed != 1 {
				t.Errorf("the scaler started over %d Autoscalers, want 1", listed)
			}
		})
	}
}

func TestRunScalerReturnsElectionErrors(t *testing.T) {
	// With election on and no lease client, RunWithLeaderElection fails;
	// runScaler must hand the error back so that the process exits.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	inf := scaler.NewAutoscalerInformer(fakeAutoscalerClient(t), "", 0)
	err := runScaler(ctx, inf.Informer(), func(context.Context) (bool, error) { return true, nil },
		scaler.LeaderElectionConfig{Enabled: true}, func(context.Context) { t.Error("scaler ran without a lease") })
	if !errors.Is(err, scaler.ErrInvalidConfig) {
		t.Errorf("runScaler = %v, want ErrInvalidConfig", err)
	}
}
