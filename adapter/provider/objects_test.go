package provider

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/hpa-engine/hpa-engine/adapter"
)

// runCache runs an ObjectCache over a fake metadata client until the test
// ends.
func runCache(t *testing.T, client *metadatafake.FakeMetadataClient, syncTimeout time.Duration) *ObjectCache {
	t.Helper()
	c := NewObjectCache(client, 0, syncTimeout)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	waitRunning(t, c)
	return c
}

func TestObjectNames(t *testing.T) {
	objects := []runtime.Object{
		object("Pod", "ns", "web-0", map[string]string{"app": "web", "track": "stable"}),
		object("Pod", "ns", "web-1", map[string]string{"app": "web", "track": "canary"}),
		object("Pod", "ns", "db-0", map[string]string{"app": "db"}),
		object("Pod", "other", "web-0", map[string]string{"app": "web"}),
		object("Node", "", "node-a", map[string]string{"zone": "a"}),
		object("Node", "", "node-b", map[string]string{"zone": "b"}),
	}
	client := metadatafake.NewSimpleMetadataClient(metadataScheme(), objects...)
	c := runCache(t, client, 5*time.Second)
	tests := []struct {
		name      string
		gvr       schema.GroupVersionResource
		namespace string
		selector  string
		want      []string
	}{
		{name: "equality in a namespace", gvr: podsGVR, namespace: "ns", selector: "app=web", want: []string{"web-0", "web-1"}},
		{name: "set-based", gvr: podsGVR, namespace: "ns", selector: "app=web,track notin (canary)", want: []string{"web-0"}},
		{name: "everything in a namespace", gvr: podsGVR, namespace: "ns", selector: "", want: []string{"db-0", "web-0", "web-1"}},
		{name: "another namespace", gvr: podsGVR, namespace: "other", selector: "app=web", want: []string{"web-0"}},
		{name: "nothing matches", gvr: podsGVR, namespace: "ns", selector: "app=none", want: []string{}},
		{name: "cluster-scoped", gvr: nodesGVR, selector: "zone=b", want: []string{"node-b"}},
		{name: "a resource without objects", gvr: servicesGVR, namespace: "ns", selector: "", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := labels.Parse(tt.selector)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.ObjectNames(context.Background(), tt.gvr, tt.namespace, sel)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestObjectNamesFromCache checks that requests are answered from the
// informer: one list and one watch per resource, whatever the number of
// requests, and that the cache follows changes.
func TestObjectNamesFromCache(t *testing.T) {
	client := metadatafake.NewSimpleMetadataClient(metadataScheme(), object("Pod", "ns", "web-0", map[string]string{"app": "web"}))
	c := runCache(t, client, 5*time.Second)
	sel := labels.SelectorFromSet(labels.Set{"app": "web"})
	for range 50 {
		if _, err := c.ObjectNames(context.Background(), podsGVR, "ns", sel); err != nil {
			t.Fatal(err)
		}
	}
	var lists int
	for _, a := range client.Actions() {
		if a.GetVerb() == "list" {
			lists++
		}
	}
	if lists != 1 {
		t.Errorf("%d LISTs for 50 requests, want 1 (the informer's)", lists)
	}

	if err := client.Tracker().Add(object("Pod", "ns", "web-1", map[string]string{"app": "web"})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		got, err := c.ObjectNames(context.Background(), podsGVR, "ns", sel)
		return err == nil && len(got) == 2
	})
}

func TestObjectNamesUnavailable(t *testing.T) {
	t.Run("not running", func(t *testing.T) {
		c := NewObjectCache(metadatafake.NewSimpleMetadataClient(metadataScheme()), 0, 100*time.Millisecond)
		_, err := c.ObjectNames(context.Background(), podsGVR, "ns", labels.Everything())
		if !errors.Is(err, adapter.ErrBackendUnavailable) {
			t.Errorf("err = %v, want ErrBackendUnavailable", err)
		}
	})
	t.Run("the API server refuses the list", func(t *testing.T) {
		client := metadatafake.NewSimpleMetadataClient(metadataScheme())
		client.PrependReactor("list", "*", func(clienttesting.Action) (bool, runtime.Object, error) {
			return true, nil, errors.New("connection refused")
		})
		c := runCache(t, client, 200*time.Millisecond)
		_, err := c.ObjectNames(context.Background(), podsGVR, "ns", labels.Everything())
		if !errors.Is(err, adapter.ErrBackendUnavailable) {
			t.Errorf("err = %v, want ErrBackendUnavailable", err)
		}
	})
	t.Run("prepare reports resources that do not sync", func(t *testing.T) {
		client := metadatafake.NewSimpleMetadataClient(metadataScheme())
		client.PrependReactor("list", "nodes", func(clienttesting.Action) (bool, runtime.Object, error) {
			return true, nil, errors.New("forbidden")
		})
		c := runCache(t, client, 200*time.Millisecond)
		err := c.Prepare(context.Background(), podsGVR, nodesGVR)
		if !errors.Is(err, adapter.ErrBackendUnavailable) {
			t.Errorf("err = %v, want ErrBackendUnavailable for nodes", err)
		}
		if _, err := c.ObjectNames(context.Background(), podsGVR, "ns", labels.Everything()); err != nil {
			t.Errorf("pods after Prepare: %v", err)
		}
	})
}

// TestObjectCacheKeepsOnlyWhatSelectionsNeed: annotations and managed fields
// are dropped before caching, names and labels kept.
func TestObjectCacheKeepsOnlyWhatSelectionsNeed(t *testing.T) {
	pod := object("Pod", "ns", "web-0", map[string]string{"app": "web"})
	pod.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": strings.Repeat("x", 4096)}
	pod.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
	pod.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-abc"}}
	c := runCache(t, metadatafake.NewSimpleMetadataClient(metadataScheme(), pod), 5*time.Second)
	inf, err := c.synced(context.Background(), podsGVR)
	if err != nil {
		t.Fatal(err)
	}
	got, err := inf.Lister().ByNamespace("ns").Get("web-0")
	if err != nil {
		t.Fatal(err)
	}
	m := got.(*metav1.PartialObjectMetadata)
	if len(m.Annotations) != 0 || len(m.ManagedFields) != 0 || len(m.OwnerReferences) != 0 {
		t.Errorf("cached object keeps %+v", m.ObjectMeta)
	}
	if m.Name != "web-0" || m.Namespace != "ns" || m.Labels["app"] != "web" {
		t.Errorf("cached object lost its identity or labels: %+v", m.ObjectMeta)
	}
}
