package adapter

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// CustomMetricInfo names one metric of one kind of object, as the custom
// metrics API exposes it: discovery lists it as "<resource>/<metric>".
type CustomMetricInfo struct {
	// GroupResource is the described objects' resource, group-qualified when
	// it has a group ("pods", "deployments.apps").
	GroupResource schema.GroupResource
	// Namespaced says whether the objects live in a namespace. The metric of
	// a namespace itself is not namespaced (namespaces are cluster-scoped).
	Namespaced bool
	// Metric is the metric's name as clients ask for it.
	Metric string
}

// String returns the name discovery uses for the metric, "<resource>/<metric>".
func (i CustomMetricInfo) String() string {
	return i.GroupResource.String() + "/" + i.Metric
}

// ExternalMetricInfo names one metric of the external metrics API.
type ExternalMetricInfo struct {
	// Metric is the metric's name as clients ask for it.
	Metric string
}

// CustomMetricValue is one sample of a custom metric for one object,
// independent of the API version it is served in.
type CustomMetricValue struct {
	// DescribedObject is the object the value is about; the provider fills
	// Kind, APIVersion, Namespace and Name because it owns the resource
	// mapping.
	DescribedObject corev1.ObjectReference
	// Timestamp is the sample's own time, not the time of the request.
	Timestamp time.Time
	// Window is the range the value was computed over (a rule's rate window);
	// zero for an instantaneous value, which the wire types omit.
	Window time.Duration
	// Value is the sample. NaN and ±Inf are not values: a provider should
	// drop them, and the edge drops any that reach it.
	Value float64
}

// ExternalMetricValue is one series of an external metric.
type ExternalMetricValue struct {
	// Labels identify the series.
	Labels map[string]string
	// Timestamp is the sample's own time.
	Timestamp time.Time
	// Window is the range the value was computed over, or zero.
	Window time.Duration
	// Value is the sample; non-finite values are dropped like for custom
	// metrics.
	Value float64
}

// CustomMetricsProvider serves custom.metrics.k8s.io. Errors wrap the
// sentinels of errors.go so the edge can pick the status code.
type CustomMetricsProvider interface {
	// GetMetricByName returns the metric of one object. For cluster-scoped
	// resources object.Namespace is empty; for the metric of a namespace
	// itself info.GroupResource is "namespaces" and object.Name the
	// namespace. metricSelector narrows the metric's own series (the HPA's
	// metric.selector) and is labels.Everything() when absent.
	GetMetricByName(ctx context.Context, object types.NamespacedName, info CustomMetricInfo, metricSelector labels.Selector) (CustomMetricValue, error)
	// GetMetricBySelector returns the metric of every object of the resource
	// in namespace ("" when cluster-scoped) matched by selector.
	GetMetricBySelector(ctx context.Context, namespace string, selector labels.Selector, info CustomMetricInfo, metricSelector labels.Selector) ([]CustomMetricValue, error)
	// ListAllMetrics returns what discovery advertises. It must not block on
	// the backend: it is called for every discovery request.
	ListAllMetrics() []CustomMetricInfo
}

// ExternalMetricsProvider serves external.metrics.k8s.io.
type ExternalMetricsProvider interface {
	// GetExternalMetric returns the series of the metric in namespace
	// matched by metricSelector.
	GetExternalMetric(ctx context.Context, namespace string, metricSelector labels.Selector, info ExternalMetricInfo) ([]ExternalMetricValue, error)
	// ListAllExternalMetrics returns what discovery advertises, without
	// blocking on the backend.
	ListAllExternalMetrics() []ExternalMetricInfo
}
