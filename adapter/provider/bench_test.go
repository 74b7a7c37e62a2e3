package provider

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/hpa-engine/hpa-engine/adapter"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
	"github.com/hpa-engine/hpa-engine/metrics/metricstest"
)

// BenchmarkGetMetricBySelector measures the provider's own cost of a Pods
// metric request (object names from the informer cache, rendering, the
// in-process filter, conversion) over a querier that answers at once, and
// reports the size of the query it sends: it stops growing past
// DefaultMaxQueryNames objects.
func BenchmarkGetMetricBySelector(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			answer := make([]hpametrics.Sample, n)
			for i := range answer {
				answer[i] = sample("pod", fmt.Sprintf("web-%d", i), float64(i), t0)
			}
			var queryBytes int
			q := &metricstest.Querier{QueryFunc: func(_ context.Context, query string, _ time.Time) ([]hpametrics.Sample, error) {
				queryBytes = len(query)
				return answer, nil
			}}
			f := newFixture(b, fixtureOptions{objects: pods("ns", "web", n, map[string]string{"app": "web"}), querier: q})
			sel := labels.SelectorFromSet(labels.Set{"app": "web"})
			info := adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"}
			// The first request waits for the informer's first sync.
			if _, err := f.p.GetMetricBySelector(context.Background(), "ns", sel, info, labels.Everything()); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				got, err := f.p.GetMetricBySelector(context.Background(), "ns", sel, info, labels.Everything())
				if err != nil || len(got) != n {
					b.Fatalf("got %d values, %v", len(got), err)
				}
			}
			b.ReportMetric(float64(queryBytes), "query-bytes")
		})
	}
}
