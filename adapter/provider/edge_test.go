package provider

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cmv1beta1 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta1"
	cmv1beta2 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	emv1beta1 "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"

	"github.com/hpa-engine/hpa-engine/adapter"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
	"github.com/hpa-engine/hpa-engine/metrics/metricstest"
)

// TestThroughTheEdge serves the provider with the adapter's HTTP handler,
// as the HPA's clients see it: the path forms reach the right rule, values
// keep their timestamps and windows, fractions become milli-units, and
// missing or non-finite data and an unreachable Prometheus are the right
// Status codes.
func TestThroughTheEdge(t *testing.T) {
	const (
		byNames   = `sum(rate(http_requests_total{namespace="ns",pod=~"web-0|web-1"}[2m])) by (pod)`
		byName    = `sum(rate(http_requests_total{namespace="ns",pod="web-0"}[2m])) by (pod)`
		nanName   = `sum(rate(http_requests_total{namespace="ns",pod="web-1"}[2m])) by (pod)`
		downName  = `sum(rate(http_requests_total{namespace="ns",pod="web-2"}[2m])) by (pod)`
		namespace = `sum(rate(http_requests_total{namespace="ns"}[2m])) by (namespace)`
		external  = `sum(queue_messages_ready{namespace="ns"}) by (queue)`
	)
	q := &metricstest.Querier{
		Samples: map[string][]hpametrics.Sample{
			byNames:   {sample("pod", "web-0", 0.25, ts1), sample("pod", "web-1", math.NaN(), ts1)},
			byName:    {sample("pod", "web-0", 0.25, ts1)},
			nanName:   {sample("pod", "web-1", math.NaN(), ts1)},
			namespace: {sample("namespace", "ns", 12, ts2)},
			external:  {{Labels: map[string]string{"queue": "orders"}, Value: 1.5, Timestamp: ts2}},
		},
		Errors: map[string]error{downName: errUnavailable},
	}
	web := map[string]string{"app": "web"}
	f := newFixture(t, fixtureOptions{querier: q, objects: pods("ns", "web", 2, web)})
	h := adapter.NewAPIHandler(f.p, f.p)
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	window := int64(120)

	t.Run("v1beta2 pods by selector", func(t *testing.T) {
		rec := get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/*/http_requests_per_second?labelSelector=app%3Dweb")
		var list cmv1beta2.MetricValueList
		decode(t, rec, http.StatusOK, &list)
		if len(list.Items) != 1 {
			t.Fatalf("items %+v, want web-0 only (web-1 is NaN)", list.Items)
		}
		it := list.Items[0]
		if it.DescribedObject.Name != "web-0" || it.DescribedObject.Kind != "Pod" || it.DescribedObject.APIVersion != "v1" ||
			!it.Timestamp.Equal(&metav1.Time{Time: ts1}) || it.WindowSeconds == nil || *it.WindowSeconds != window ||
			it.Value.Cmp(resource.MustParse("250m")) != 0 {
			t.Errorf("item %+v", it)
		}
	})
	t.Run("v1beta1 pod by name", func(t *testing.T) {
		var list cmv1beta1.MetricValueList
		decode(t, get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/pods/web-0/http_requests_per_second"), http.StatusOK, &list)
		if len(list.Items) != 1 || list.Items[0].Value.MilliValue() != 250 || list.Items[0].WindowSeconds == nil || *list.Items[0].WindowSeconds != window {
			t.Errorf("items %+v", list.Items)
		}
	})
	t.Run("the metric of a namespace", func(t *testing.T) {
		var list cmv1beta2.MetricValueList
		decode(t, get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/metrics/http_requests_per_second"), http.StatusOK, &list)
		if len(list.Items) != 1 || list.Items[0].DescribedObject.Kind != "Namespace" || list.Items[0].DescribedObject.Name != "ns" || list.Items[0].Value.Value() != 12 {
			t.Errorf("items %+v", list.Items)
		}
	})
	t.Run("external", func(t *testing.T) {
		var list emv1beta1.ExternalMetricValueList
		decode(t, get("/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue_messages_ready"), http.StatusOK, &list)
		if len(list.Items) != 1 || list.Items[0].MetricLabels["queue"] != "orders" || list.Items[0].Value.MilliValue() != 1500 {
			t.Errorf("items %+v", list.Items)
		}
	})
	for _, tt := range []struct {
		name, path string
		code       int
	}{
		{name: "NaN by name is 404, never 0", path: "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/web-1/http_requests_per_second", code: http.StatusNotFound},
		{name: "Prometheus down is 503", path: "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/web-2/http_requests_per_second", code: http.StatusServiceUnavailable},
		{name: "unknown metric is 404", path: "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/web-0/nope", code: http.StatusNotFound},
		{name: "unexpressible selector is 400", path: "/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns/pods/web-0/http_requests_per_second?metricLabelSelector=code%3E499", code: http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var st metav1.Status
			decode(t, get(tt.path), tt.code, &st)
			if st.Code != int32(tt.code) {
				t.Errorf("status %+v", st)
			}
		})
	}
	t.Run("discovery lists what the relist found", func(t *testing.T) {
		var list metav1.APIResourceList
		decode(t, get("/apis/custom.metrics.k8s.io/v1beta2"), http.StatusOK, &list)
		if len(list.APIResources) != len(testCustomMetrics) {
			t.Errorf("resources %+v", list.APIResources)
		}
	})
}

func decode(t *testing.T, rec *httptest.ResponseRecorder, code int, into any) {
	t.Helper()
	if rec.Code != code {
		t.Fatalf("code %d, want %d: %s", rec.Code, code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), into); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
}
