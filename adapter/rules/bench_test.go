package rules

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/hpa-engine/hpa-engine/adapter/config"
)

// BenchmarkRenderCustom measures rendering a Pods-metric query by name for
// growing selections, and by namespace, and reports the query's size: the
// by-name form grows with the selection (what prometheus-adapter always
// sends), the by-namespace form does not.
func BenchmarkRenderCustom(b *testing.B) {
	cfg, err := config.Load([]byte("rules:\n- seriesQuery: up\n  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'\n"))
	if err != nil {
		b.Fatal(err)
	}
	m := &CustomMetric{Resource: schema.GroupResource{Resource: "pods"}, Metric: "rps", Namespaced: true,
		Series: "http_requests_total", ResourceLabel: "pod", NamespaceLabel: "namespace", Rule: cfg.Rules[0]}
	sel, err := labels.Parse("verb in (GET,POST)")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10, 100, 1000, 10000} {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("web-7d9f8c6b5d-%05d", i)
		}
		b.Run(fmt.Sprintf("names=%d", n), func(b *testing.B) {
			var q string
			for b.Loop() {
				if q, err = RenderCustom(m, CustomQuery{Namespace: "default", Names: names, MetricSelector: sel}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(q)), "query-bytes")
		})
	}
	b.Run("namespace", func(b *testing.B) {
		var q string
		for b.Loop() {
			if q, err = RenderCustom(m, CustomQuery{Namespace: "default", AllObjects: true, MetricSelector: sel}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(q)), "query-bytes")
	})
}
