package adapter_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hpa-engine/hpa-engine/adapter"
	"github.com/hpa-engine/hpa-engine/adapter/adaptertest"
)

// BenchmarkPodsSelector measures the edge alone (routing, selector parsing,
// conversion, encoding) for a Pods metric over n pods, with an in-memory
// provider: the part of the adapter's latency that is not Prometheus.
func BenchmarkPodsSelector(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		objects := make([]adaptertest.Object, n)
		for i := range objects {
			objects[i] = object("Pod", "v1", "default", fmt.Sprintf("pod-%05d", i), map[string]string{"app": "web"}, float64(i)+0.5, time.Minute)
		}
		p := &adaptertest.Provider{Custom: map[adapter.CustomMetricInfo][]adaptertest.Object{podsHTTPRequests: objects}}
		h := adapter.NewAPIHandler(p, nil)
		for _, accept := range []string{"application/json", protobufType} {
			b.Run(fmt.Sprintf("pods=%d/%s", n, accept), func(b *testing.B) {
				var size int
				for b.Loop() {
					r := newRequest(b, http.MethodGet, customV1beta2+"/namespaces/default/pods/*/http_requests", "labelSelector=app%3Dweb")
					r.Header.Set("Accept", accept)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, r)
					if rec.Code != http.StatusOK {
						b.Fatalf("code %d: %s", rec.Code, rec.Body)
					}
					size = rec.Body.Len()
				}
				b.ReportMetric(float64(size), "resp-bytes")
			})
		}
	}
}
