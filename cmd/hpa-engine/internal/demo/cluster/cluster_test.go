package cluster

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

// fakeClock is a settable clock.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func newCluster(t *testing.T, clock *fakeClock) *Cluster {
	t.Helper()
	c, err := New(Config{
		Namespace:   "demo",
		Workloads:   []Workload{{Name: "web", Replicas: 2}},
		Autoscalers: []*v1alpha1.Autoscaler{{ObjectMeta: metav1.ObjectMeta{Name: "web"}}},
		ReadyAfter:  2 * time.Second,
		Now:         clock.Now,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// TestScaleAndPods follows a Deployment through a scale-up and a
// scale-down done through the scale client, as the scaler does them.
func TestScaleAndPods(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	c := newCluster(t, clock)
	deployments := schema.GroupResource{Group: "apps", Resource: "deployments"}

	steps := []struct {
		name      string
		scaleTo   int32 // 0: no scale update
		advance   time.Duration
		wantPods  int
		wantReady int
	}{
		{name: "initial pods are ready at once", wantPods: 2, wantReady: 2},
		{name: "a scale-up creates pending pods", scaleTo: 5, wantPods: 5, wantReady: 2},
		{name: "they become ready after ReadyAfter", advance: 2 * time.Second, wantPods: 5, wantReady: 5},
		{name: "a scale-down deletes pods", scaleTo: 3, wantPods: 3, wantReady: 3},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clock.now = clock.now.Add(st.advance)
			if st.scaleTo > 0 {
				sc, err := c.Scales("demo").Get(ctx, deployments, "web", metav1.GetOptions{})
				if err != nil {
					t.Fatalf("get scale: %v", err)
				}
				if sc.Status.Selector != "app=web" {
					t.Errorf("scale selector %q, want app=web", sc.Status.Selector)
				}
				sc.Spec.Replicas = st.scaleTo
				if _, err := c.Scales("demo").Update(ctx, deployments, sc, metav1.UpdateOptions{}); err != nil {
					t.Fatalf("update scale: %v", err)
				}
			}
			if err := c.Reconcile(ctx); err != nil {
				t.Fatalf("Reconcile: %v", err)
			}
			pods, err := c.Kube.CoreV1().Pods("demo").List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatalf("list pods: %v", err)
			}
			ready, err := c.ReadyPods(ctx, "demo", "web")
			if err != nil {
				t.Fatalf("ReadyPods: %v", err)
			}
			if len(pods.Items) != st.wantPods || len(ready) != st.wantReady {
				t.Errorf("%d pods, %d ready; want %d, %d", len(pods.Items), len(ready), st.wantPods, st.wantReady)
			}
			for _, p := range pods.Items {
				if IsReady(&p) && (p.Status.PodIP == "" || p.Status.StartTime == nil) {
					t.Errorf("ready pod %s without podIP or startTime", p.Name)
				}
			}
			// The adapter's object cache sees the same pods.
			meta, err := c.Metadata.Resource(podsGVR).Namespace("demo").List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatalf("list pod metadata: %v", err)
			}
			var names, metaNames []string
			for _, p := range pods.Items {
				names = append(names, p.Name)
			}
			for _, p := range meta.Items {
				metaNames = append(metaNames, p.Name)
			}
			slices.Sort(names)
			slices.Sort(metaNames)
			if !slices.Equal(names, metaNames) {
				t.Errorf("metadata pods %v, typed pods %v", metaNames, names)
			}
			spec, readyReplicas, err := c.Replicas(ctx, "demo", "web")
			if err != nil {
				t.Fatalf("Replicas: %v", err)
			}
			if int(spec) != st.wantPods || int(readyReplicas) != st.wantReady {
				t.Errorf("Replicas = %d, %d ready; want %d, %d", spec, readyReplicas, st.wantPods, st.wantReady)
			}
		})
	}
}

func TestDiscoveryAndAutoscalers(t *testing.T) {
	c := newCluster(t, &fakeClock{now: time.Unix(1_800_000_000, 0)})
	tests := []struct {
		name string
		gk   schema.GroupKind
		want schema.GroupVersionResource
	}{
		{name: "pods", gk: schema.GroupKind{Kind: "Pod"}, want: schema.GroupVersionResource{Version: "v1", Resource: "pods"}},
		{name: "services", gk: schema.GroupKind{Kind: "Service"}, want: servicesGVR},
		{name: "deployments", gk: schema.GroupKind{Group: "apps", Kind: "Deployment"}, want: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}},
		{name: "autoscalers", gk: v1alpha1.GroupVersionKind.GroupKind(), want: v1alpha1.GroupVersionResource},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := c.Mapper.RESTMapping(tt.gk)
			if err != nil {
				t.Fatalf("RESTMapping: %v", err)
			}
			if m.Resource != tt.want {
				t.Errorf("resource %v, want %v", m.Resource, tt.want)
			}
		})
	}
	u, err := c.Dynamic.Resource(v1alpha1.GroupVersionResource).Namespace("demo").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get autoscaler: %v", err)
	}
	if u.GetUID() == "" || u.GetGeneration() != 1 {
		t.Errorf("autoscaler uid %q generation %d; want a uid and generation 1, which the scaler relies on", u.GetUID(), u.GetGeneration())
	}
}

func TestPatchUnsupported(t *testing.T) {
	c := newCluster(t, &fakeClock{now: time.Unix(1_800_000_000, 0)})
	_, err := c.Scales("demo").Patch(context.Background(), schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, "web", "", nil, metav1.PatchOptions{})
	if !errors.Is(err, ErrPatchUnsupported) {
		t.Errorf("Patch = %v, want ErrPatchUnsupported: the engine only reads and updates scales", err)
	}
}
