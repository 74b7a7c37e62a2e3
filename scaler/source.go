package scaler

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/hpa-engine/hpa-engine/recommender/loop"
	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

// AutoscalerSource lists the engine's Autoscaler objects from a dynamic
// informer's lister (no generated clientset: objects are converted from
// unstructured with the default converter). It is the recommender loop's
// TargetSource for kind Autoscaler, and gives the scaler the same typed
// objects, so one informer serves both.
//
// Each target carries the history stored in the object's status, so that a
// restarted controller resumes the stabilization windows and policy periods
// where the previous one left them.
type AutoscalerSource struct {
	lister cache.GenericLister

	// mu guards converted: the typed form of each object by UID, reused
	// while its resourceVersion is unchanged, so that a cycle over
	// thousands of Autoscalers does not convert each of them again.
	mu        sync.Mutex
	converted map[types.UID]convertedAutoscaler
}

type convertedAutoscaler struct {
	resourceVersion string
	obj             *v1alpha1.Autoscaler
	target          loop.Target
}

var (
	_ loop.TargetSource = (*AutoscalerSource)(nil)
	_ AutoscalerLister  = (*AutoscalerSource)(nil)
)

// NewAutoscalerSource returns a source over the lister of a dynamic informer
// for v1alpha1.GroupVersionResource, which its caller starts and syncs
// (NewAutoscalerInformer builds one).
func NewAutoscalerSource(lister cache.GenericLister) *AutoscalerSource {
	return &AutoscalerSource{lister: lister, converted: map[types.UID]convertedAutoscaler{}}
}

// Kind implements loop.TargetSource.
func (s *AutoscalerSource) Kind() string { return loop.KindAutoscaler }

// Targets implements loop.TargetSource: every Autoscaler, paused and dry-run
// ones included (the loop recommends for them; the scaler decides what to
// do), sorted by namespace and name. The spec and status share memory with
// the cached object and must not be modified.
func (s *AutoscalerSource) Targets() ([]loop.Target, error) {
	entries, err := s.list()
	if err != nil {
		return nil, err
	}
	out := make([]loop.Target, len(entries))
	for i, e := range entries {
		out[i] = e.target
	}
	return out, nil
}

// List returns every Autoscaler, sorted by namespace and name. The objects
// are shared with the source's cache and must not be modified.
func (s *AutoscalerSource) List() ([]*v1alpha1.Autoscaler, error) {
	entries, err := s.list()
	if err != nil {
		return nil, err
	}
	out := make([]*v1alpha1.Autoscaler, len(entries))
	for i, e := range entries {
		out[i] = e.obj
	}
	return out, nil
}

// Get returns one Autoscaler from the informer's cache, converted afresh:
// the caller owns the result.
func (s *AutoscalerSource) Get(namespace, name string) (*v1alpha1.Autoscaler, error) {
	obj, err := s.lister.ByNamespace(namespace).Get(name)
	if err != nil {
		return nil, fmt.Errorf("get autoscaler %s/%s: %w", namespace, name, err)
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, fmt.Errorf("autoscaler %s/%s: unexpected type %T in the cache", namespace, name, obj)
	}
	return convertAutoscaler(u)
}

// list converts what changed since the previous call and returns every
// object that converts. One that does not (the CRD's schema makes that
// unlikely) is logged and left out, rather than failing the whole list and
// with it every other Autoscaler's recommendation.
func (s *AutoscalerSource) list() ([]convertedAutoscaler, error) {
	objs, err := s.lister.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list autoscalers: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := make(map[types.UID]bool, len(objs))
	out := make([]convertedAutoscaler, 0, len(objs))
	for _, obj := range objs {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			klog.ErrorS(nil, "Skipping an object of unexpected type in the autoscaler cache", "type", fmt.Sprintf("%T", obj))
			continue
		}
		uid, rv := u.GetUID(), u.GetResourceVersion()
		seen[uid] = true
		if c, ok := s.converted[uid]; ok && rv != "" && c.resourceVersion == rv {
			out = append(out, c)
			continue
		}
		a, err := convertAutoscaler(u)
		if err != nil {
			klog.ErrorS(err, "Skipping autoscaler", "autoscaler", klog.KObj(u))
			delete(s.converted, uid)
			continue
		}
		c := convertedAutoscaler{resourceVersion: rv, obj: a, target: targetOf(a)}
		s.converted[uid] = c
		out = append(out, c)
	}
	for uid := range s.converted {
		if !seen[uid] {
			delete(s.converted, uid)
		}
	}
	slices.SortFunc(out, func(a, b convertedAutoscaler) int {
		return cmp.Or(cmp.Compare(a.obj.Namespace, b.obj.Namespace), cmp.Compare(a.obj.Name, b.obj.Name))
	})
	return out, nil
}

// NewAutoscalerInformer returns a dynamic informer over the Autoscalers of
// namespace (all when ""), indexed by namespace as Get needs. Its caller
// starts it and waits for it to sync; its Lister feeds NewAutoscalerSource.
func NewAutoscalerInformer(client dynamic.Interface, namespace string, resync time.Duration) informers.GenericInformer {
	return dynamicinformer.NewFilteredDynamicInformer(client, v1alpha1.GroupVersionResource, namespace, resync,
		cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}, nil)
}

// targetOf is the loop's view of an Autoscaler. History is always set, empty
// for an Autoscaler that has none yet: the loop then seeds it and leaves
// scale events to the scaler.
func targetOf(a *v1alpha1.Autoscaler) loop.Target {
	h := v1alpha1.HistoryFromStatus(&a.Status)
	return loop.Target{
		Kind:       loop.KindAutoscaler,
		Namespace:  a.Namespace,
		Name:       a.Name,
		UID:        a.UID,
		Generation: a.Generation,
		Spec:       a.Spec.ToHPASpec(),
		Status:     a.Status.ToHPAStatus(),
		History:    &h,
	}
}

// convertAutoscaler converts an object of the dynamic informer's cache into
// a new typed Autoscaler; the cache's object is not modified.
func convertAutoscaler(u *unstructured.Unstructured) (*v1alpha1.Autoscaler, error) {
	var a v1alpha1.Autoscaler
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.UnstructuredContent(), &a); err != nil {
		return nil, fmt.Errorf("convert autoscaler %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	return &a, nil
}
