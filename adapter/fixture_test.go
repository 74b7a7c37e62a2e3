package adapter_test

import (
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/hpa-engine/hpa-engine/adapter"
	"github.com/hpa-engine/hpa-engine/adapter/adaptertest"
)

// sampleTime is the samples' own timestamp; responses must carry it, not the
// time of the request.
var sampleTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var (
	podsHTTPRequests = adapter.CustomMetricInfo{GroupResource: schema.GroupResource{Resource: "pods"}, Namespaced: true, Metric: "http_requests"}
	podsNaNOnly      = adapter.CustomMetricInfo{GroupResource: schema.GroupResource{Resource: "pods"}, Namespaced: true, Metric: "nan_only"}
	servicesRPS      = adapter.CustomMetricInfo{GroupResource: schema.GroupResource{Resource: "services"}, Namespaced: true, Metric: "requests_per_second"}
	deploymentsWant  = adapter.CustomMetricInfo{GroupResource: schema.GroupResource{Group: "apps", Resource: "deployments"}, Namespaced: true, Metric: "replicas_wanted"}
	ingressesHits    = adapter.CustomMetricInfo{GroupResource: schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}, Namespaced: true, Metric: "hits"}
	nodesLoad        = adapter.CustomMetricInfo{GroupResource: schema.GroupResource{Resource: "nodes"}, Metric: "node_load"}
	namespacesQueue  = adapter.CustomMetricInfo{GroupResource: schema.GroupResource{Resource: "namespaces"}, Metric: "queue_depth"}
)

func object(kind, apiVersion, namespace, name string, labels map[string]string, value float64, window time.Duration) adaptertest.Object {
	return adaptertest.Object{
		Labels: labels,
		Value: adapter.CustomMetricValue{
			DescribedObject: corev1.ObjectReference{Kind: kind, APIVersion: apiVersion, Namespace: namespace, Name: name},
			Timestamp:       sampleTime,
			Window:          window,
			Value:           value,
		},
	}
}

// newFixture returns a fake provider with one metric per path form, a NaN
// sample, fractional values and a window.
func newFixture() *adaptertest.Provider {
	web := map[string]string{"app": "web"}
	return &adaptertest.Provider{
		Custom: map[adapter.CustomMetricInfo][]adaptertest.Object{
			podsHTTPRequests: {
				object("Pod", "v1", "default", "pod-a", web, 1.5, 2*time.Minute),
				object("Pod", "v1", "default", "pod-b", web, 3, 2*time.Minute),
				object("Pod", "v1", "default", "pod-c", map[string]string{"app": "db"}, 7, 2*time.Minute),
				object("Pod", "v1", "default", "pod-nan", web, math.NaN(), 2*time.Minute),
				object("Pod", "v1", "other", "pod-z", web, 100, 2*time.Minute),
			},
			podsNaNOnly: {
				object("Pod", "v1", "default", "pod-a", web, math.Inf(1), 0),
			},
			servicesRPS:     {object("Service", "v1", "default", "web", nil, 42, time.Minute)},
			deploymentsWant: {object("Deployment", "apps/v1", "default", "web", web, 0.25, 0)},
			ingressesHits:   {object("Ingress", "networking.k8s.io/v1", "default", "ing", nil, 10, 5*time.Minute)},
			nodesLoad:       {object("Node", "v1", "", "node-1", nil, 2.5, 0)},
			namespacesQueue: {object("Namespace", "v1", "", "default", nil, 7, 0)},
		},
		External: map[string][]adapter.ExternalMetricValue{
			"queue_messages_ready": {
				{Labels: map[string]string{"queue": "orders"}, Timestamp: sampleTime, Window: time.Minute, Value: 30},
				{Labels: map[string]string{"queue": "billing"}, Timestamp: sampleTime, Window: time.Minute, Value: 12.5},
				{Labels: map[string]string{"queue": "broken"}, Timestamp: sampleTime, Value: math.NaN()},
			},
			"empty_metric": {},
		},
	}
}
