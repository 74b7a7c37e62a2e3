package adapter_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hpa-engine/hpa-engine/adapter"
	"github.com/hpa-engine/hpa-engine/adapter/adaptertest"
)

// TestProviderCalls checks what each path form asks the provider for: the
// resource, namespace scoping, object name and both selectors.
func TestProviderCalls(t *testing.T) {
	tests := []struct {
		name  string
		path  string
		query string
		want  adaptertest.Call
	}{
		{
			name: "namespaced by selector", path: customV1beta2 + "/namespaces/default/pods/*/http_requests",
			query: "labelSelector=app%3Dweb&metricLabelSelector=verb%3DGET",
			want:  adaptertest.Call{Method: "GetMetricBySelector", Namespace: "default", Info: podsHTTPRequests, Selector: "app=web", MetricSelector: "verb=GET"},
		},
		{
			name: "namespaced by name ignores labelSelector", path: customV1beta1 + "/namespaces/default/pods/pod-a/http_requests",
			query: "labelSelector=app%3Ddb",
			want:  adaptertest.Call{Method: "GetMetricByName", Namespace: "default", Name: "pod-a", Info: podsHTTPRequests, MetricSelector: ""},
		},
		{
			name: "group-qualified resource", path: customV1beta2 + "/namespaces/default/deployments.apps/web/replicas_wanted",
			want: adaptertest.Call{Method: "GetMetricByName", Namespace: "default", Name: "web", Info: deploymentsWant},
		},
		{
			name: "root-scoped", path: customV1beta2 + "/nodes/node-1/node_load",
			want: adaptertest.Call{Method: "GetMetricByName", Name: "node-1", Info: nodesLoad},
		},
		{
			name: "namespace object", path: customV1beta2 + "/namespaces/default/metrics/queue_depth",
			want: adaptertest.Call{Method: "GetMetricByName", Name: "default", Info: namespacesQueue},
		},
		{
			name: "external selector", path: externalV1beta1 + "/namespaces/prod/queue_messages_ready", query: "labelSelector=queue+in+%28orders%29",
			want: adaptertest.Call{Method: "GetExternalMetric", Namespace: "prod", External: adapter.ExternalMetricInfo{Metric: "queue_messages_ready"}, MetricSelector: "queue in (orders)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newFixture()
			rec := httptest.NewRecorder()
			adapter.NewAPIHandler(p, p).ServeHTTP(rec, newRequest(t, http.MethodGet, tt.path, tt.query))
			calls := p.Calls()
			if len(calls) != 1 {
				t.Fatalf("calls = %+v, want exactly one (code %d: %s)", calls, rec.Code, rec.Body)
			}
			if calls[0] != tt.want {
				t.Errorf("call = %+v, want %+v", calls[0], tt.want)
			}
		})
	}
}
