package provider

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/hpa-engine/hpa-engine/adapter"
)

// DefaultCacheSyncTimeout bounds how long a request waits for the first
// sync of a resource's informer.
const DefaultCacheSyncTimeout = 10 * time.Second

// ObjectCache answers ObjectNames from metadata-only informers, one per
// resource, started on first use and kept running: object names and labels
// are all a selection needs, so neither specs nor statuses are held.
type ObjectCache struct {
	factory     metadatainformer.SharedInformerFactory
	syncTimeout time.Duration

	// running is closed by Run once informers may be started; requests
	// that come before wait for it like for a sync.
	running chan struct{}

	mu        sync.Mutex
	stop      <-chan struct{} // nil until Run
	informers map[schema.GroupVersionResource]informers.GenericInformer
}

var _ ObjectLister = (*ObjectCache)(nil)

// NewObjectCache returns a cache over the metadata client. resync is the
// informers' resync period (0 for none); syncTimeout bounds a request's
// wait for a new informer's first list (DefaultCacheSyncTimeout when 0).
func NewObjectCache(client metadata.Interface, resync, syncTimeout time.Duration) *ObjectCache {
	if syncTimeout <= 0 {
		syncTimeout = DefaultCacheSyncTimeout
	}
	return &ObjectCache{
		factory:     metadatainformer.NewSharedInformerFactoryWithOptions(client, resync, metadatainformer.WithTransform(slimObject)),
		syncTimeout: syncTimeout,
		running:     make(chan struct{}),
		informers:   map[schema.GroupVersionResource]informers.GenericInformer{},
	}
}

// Run lets the cache start informers, and stops them all when ctx is done.
// A cache runs once: a second Run is an error.
func (c *ObjectCache) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.stop != nil {
		c.mu.Unlock()
		return errors.New("object cache: already running")
	}
	c.stop = ctx.Done()
	c.factory.Start(c.stop)
	c.mu.Unlock()
	close(c.running)
	<-ctx.Done()
	c.factory.Shutdown()
	return nil
}

// Prepare starts the informers of resources requests will ask for (pods,
// typically) and waits for their first sync, so the first requests do not
// wait. It waits for Run like requests do.
func (c *ObjectCache) Prepare(ctx context.Context, resources ...schema.GroupVersionResource) error {
	var errs []error
	for _, gvr := range resources {
		if _, err := c.synced(ctx, gvr); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ObjectNames implements ObjectLister from the informer of the resource.
// An informer that does not sync in time (the API server is down, or RBAC
// forbids the list) is adapter.ErrBackendUnavailable.
func (c *ObjectCache) ObjectNames(ctx context.Context, gvr schema.GroupVersionResource, namespace string, selector labels.Selector) ([]string, error) {
	inf, err := c.synced(ctx, gvr)
	if err != nil {
		return nil, err
	}
	var objs []runtime.Object
	if namespace != "" {
		objs, err = inf.Lister().ByNamespace(namespace).List(selector)
	} else {
		objs, err = inf.Lister().List(selector)
	}
	if err != nil {
		return nil, fmt.Errorf("list %s from cache: %w", gvr.GroupResource(), err)
	}
	names := make([]string, 0, len(objs))
	for _, o := range objs {
		acc, err := meta.Accessor(o)
		if err != nil {
			continue
		}
		names = append(names, acc.GetName())
	}
	return names, nil
}

// slimObject keeps what a selection needs of an object, its name,
// namespace and labels (and what the informer needs to follow it), and drops
// the rest before it is cached: managed fields and annotations such as
// kubectl's last-applied-configuration are most of an object's metadata, and
// the cache holds every pod of the cluster.
func slimObject(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return obj, nil // a tombstone or another type: keep as is
	}
	return &metav1.PartialObjectMetadata{
		TypeMeta: m.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name:              m.Name,
			Namespace:         m.Namespace,
			UID:               m.UID,
			ResourceVersion:   m.ResourceVersion,
			Labels:            m.Labels,
			DeletionTimestamp: m.DeletionTimestamp,
		},
	}, nil
}

// synced returns the resource's informer once it has synced, starting it on
// first use. Both the wait for Run and the wait for the sync are bounded by
// the sync timeout.
func (c *ObjectCache) synced(ctx context.Context, gvr schema.GroupVersionResource) (informers.GenericInformer, error) {
	wctx, cancel := context.WithTimeout(ctx, c.syncTimeout)
	defer cancel()
	select {
	case <-c.running:
	case <-wctx.Done():
		return nil, fmt.Errorf("object cache of %s is not running: %w", gvr.GroupResource(), adapter.ErrBackendUnavailable)
	}
	c.mu.Lock()
	inf, ok := c.informers[gvr]
	if !ok {
		inf = c.factory.ForResource(gvr)
		inf.Informer() // registers the informer so that Start runs it
		c.factory.Start(c.stop)
		c.informers[gvr] = inf
		klog.V(2).InfoS("Started object informer", "resource", gvr.String())
	}
	c.mu.Unlock()

	informer := inf.Informer()
	if informer.HasSynced() {
		return inf, nil
	}
	if !cache.WaitForCacheSync(wctx.Done(), informer.HasSynced) {
		return nil, fmt.Errorf("objects of %s not synced from the API server within %s: %w", gvr.GroupResource(), c.syncTimeout, adapter.ErrBackendUnavailable)
	}
	return inf, nil
}
