package loop

import (
	"context"
	"net/http"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	cmv1beta2 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	emv1beta1 "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"
)

// MetricSource answers the custom and external metrics APIs, in-process or
// over HTTP. Its signatures use the wire types the HPA consumes, so that the
// loop converts values exactly as upstream's metrics client does. Returned
// lists may be shared between callers and must not be modified.
type MetricSource interface {
	// GetCustomMetrics is the custom metrics API: the metric of the objects
	// of resource in namespace ("" when cluster-scoped). name is one object
	// or "*" for every object selector matches; the metric of a namespace
	// itself is resource "namespaces", namespace "" and name the namespace.
	// metricSelector narrows the metric's own series.
	GetCustomMetrics(ctx context.Context, namespace string, resource schema.GroupResource, name string, selector labels.Selector, metric string, metricSelector labels.Selector) (*cmv1beta2.MetricValueList, error)
	// GetExternalMetrics is the external metrics API: the series of metric
	// in namespace that metricSelector matches.
	GetExternalMetrics(ctx context.Context, namespace, metric string, metricSelector labels.Selector) (*emv1beta1.ExternalMetricValueList, error)
}

// PodMetricsLister lists the resource metrics (metrics.k8s.io PodMetrics) of
// every pod of a namespace; the loop asks once per namespace and cycle and
// matches each target's selector itself.
type PodMetricsLister interface {
	ListPodMetrics(ctx context.Context, namespace string) (*metricsv1beta1.PodMetricsList, error)
}

// DefaultDiscoveryTTL is how long ResourceMetrics trusts an answer of
// discovery about metrics.k8s.io.
const DefaultDiscoveryTTL = 30 * time.Second

// podMetricsResource is what upstream's resource metrics client lists.
var podMetricsResource = schema.GroupResource{Group: metricsv1beta1.SchemeGroupVersion.Group, Resource: "pods"}

// ResourceMetrics lists PodMetrics through the k8s.io/metrics clientset when
// discovery shows metrics.k8s.io/v1beta1 is served. When it is not, it
// returns the error upstream's client gets from the API server (a 404 for
// the group), so targets read the same condition as on a cluster without
// metrics-server.
type ResourceMetrics struct {
	client    metricsclient.Interface
	discovery ResourceDiscovery
	ttl       time.Duration
	now       func() time.Time

	mu      sync.Mutex
	checked time.Time
	served  bool
}

var _ PodMetricsLister = (*ResourceMetrics)(nil)

// ResourceDiscovery is the part of client-go's discovery client that tells
// whether metrics.k8s.io is served.
type ResourceDiscovery interface {
	ServerResourcesForGroupVersionWithContext(ctx context.Context, groupVersion string) (*metav1.APIResourceList, error)
}

// NewResourceMetrics returns a lister over client, checking disc for the
// group at most every ttl (DefaultDiscoveryTTL when 0).
func NewResourceMetrics(client metricsclient.Interface, disc ResourceDiscovery, ttl time.Duration, now func() time.Time) *ResourceMetrics {
	if ttl <= 0 {
		ttl = DefaultDiscoveryTTL
	}
	if now == nil {
		now = time.Now
	}
	return &ResourceMetrics{client: client, discovery: disc, ttl: ttl, now: now}
}

// ListPodMetrics implements PodMetricsLister.
func (r *ResourceMetrics) ListPodMetrics(ctx context.Context, namespace string) (*metricsv1beta1.PodMetricsList, error) {
	if err := r.available(ctx); err != nil {
		return nil, err
	}
	return r.client.MetricsV1beta1().PodMetricses(namespace).List(ctx, metav1.ListOptions{})
}

// available answers from discovery, cached for ttl.
func (r *ResourceMetrics) available(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if r.checked.IsZero() || now.Sub(r.checked) >= r.ttl {
		r.checked = now
		r.served = r.check(ctx)
	}
	if !r.served {
		return errResourceMetricsNotServed()
	}
	return nil
}

func (r *ResourceMetrics) check(ctx context.Context) bool {
	list, err := r.discovery.ServerResourcesForGroupVersionWithContext(ctx, metricsv1beta1.SchemeGroupVersion.String())
	switch {
	case apierrors.IsNotFound(err):
		return false
	case err != nil:
		// Discovery itself failed (an aggregated API down answers 503 here):
		// let the list call report what upstream's client would get.
		return true
	}
	for _, res := range list.APIResources {
		if res.Name == podMetricsResource.Resource {
			return true
		}
	}
	return false
}

// errResourceMetricsNotServed is the error client-go returns for a list of
// PodMetrics when the API server does not serve metrics.k8s.io: its text is
// "the server could not find the requested resource (get pods.metrics.k8s.io)".
func errResourceMetricsNotServed() error {
	return apierrors.NewGenericServerResponse(http.StatusNotFound, http.MethodGet, podMetricsResource, "", "404 page not found", 0, true)
}
