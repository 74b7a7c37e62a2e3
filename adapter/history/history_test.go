package history

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/hpa-engine/hpa-engine/adapter/config"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
	"github.com/hpa-engine/hpa-engine/metrics/metricstest"
)

const testConfig = `rules:
- seriesQuery: 'http_load{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
- seriesQuery: 'svc_latency{namespace!="",service!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      service: {resource: "service"}
  metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
- seriesQuery: 'ns_budget{namespace!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
externalRules:
- seriesQuery: 'queue_length{namespace!="",queue!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)'
`

var (
	t0   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	step = 15 * time.Second
)

// discovered is what /api/v1/series returns for each seriesQuery.
var discovered = map[string][]map[string]string{
	`http_load{namespace!="",pod!=""}`: {
		{"__name__": "http_load", "namespace": "shop", "pod": "web-1"},
		{"__name__": "http_load", "namespace": "shop", "pod": "web-2"},
	},
	`svc_latency{namespace!="",service!=""}`: {{"__name__": "svc_latency", "namespace": "shop", "service": "web"}},
	`ns_budget{namespace!=""}`:               {{"__name__": "ns_budget", "namespace": "shop"}},
	`queue_length{namespace!="",queue!=""}`:  {{"__name__": "queue_length", "namespace": "shop", "queue": "a"}},
}

func newTestHistory(t *testing.T, cfg Config, ranges map[string][]hpametrics.Series, errs map[string]error) (*History, *metricstest.Querier) {
	t.Helper()
	rules, err := config.Load([]byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Rules = rules
	q := &metricstest.Querier{SeriesSets: discovered, Ranges: ranges, Errors: errs}
	h, err := New(cfg, Deps{Querier: q})
	if err != nil {
		t.Fatal(err)
	}
	return h, q
}

func pts(vals ...float64) []hpametrics.Point {
	out := make([]hpametrics.Point, 0, len(vals))
	for i, v := range vals {
		out = append(out, hpametrics.Point{Timestamp: t0.Add(time.Duration(i) * step), Value: v})
	}
	return out
}

func req(m autoscalingv2.MetricSpec) Request {
	return Request{
		Namespace:      "shop",
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
		Metric:         m,
		From:           t0,
		To:             t0.Add(3 * step),
		Step:           step,
	}
}

func podsMetric(name string, sel *metav1.LabelSelector) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: name, Selector: sel}}}
}

func objectMetric(apiVersion, kind, name, metric string) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
		DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: apiVersion, Kind: kind, Name: name},
		Metric:          autoscalingv2.MetricIdentifier{Name: metric},
	}}
}

func externalMetric(name string) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: name}}}
}

const podsQuery = `sum(http_load{namespace="shop",pod!=""}) by (pod)`

func TestRange(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		req    Request
		ranges map[string][]hpametrics.Series
		want   Result
	}{
		{
			name: "pods: the target's pods summed per step, others, NaN and off-grid points left out",
			req:  req(podsMetric("http_load", nil)),
			ranges: map[string][]hpametrics.Series{podsQuery: {
				{Labels: map[string]string{"pod": "web-1"}, Points: pts(1, 2, math.NaN(), 4)},
				{Labels: map[string]string{"pod": "web-2"}, Points: append(pts(10, 20), hpametrics.Point{Timestamp: t0.Add(2*step + time.Second), Value: 99})},
				{Labels: map[string]string{"pod": "worker-1"}, Points: pts(100, 100, 100, 100)},
				{Labels: map[string]string{"pod": "web"}, Points: pts(1000, 1000, 1000, 1000)},
			}},
			want: Result{Query: podsQuery, Values: [][]float64{{11}, {22}, nil, {4}}, Series: 2},
		},
		{
			name: "pods: a pod name pattern and a series selector chosen by the operator",
			cfg:  Config{PodName: "worker-[0-9]+", SeriesSelector: labels.SelectorFromSet(labels.Set{"app": "worker"})},
			req:  req(podsMetric("http_load", &metav1.LabelSelector{MatchLabels: map[string]string{"verb": "GET"}})),
			ranges: map[string][]hpametrics.Series{`sum(http_load{app="worker",verb="GET",namespace="shop",pod!=""}) by (pod)`: {
				{Labels: map[string]string{"pod": "worker-1"}, Points: pts(5, 5, 5, 5)},
				{Labels: map[string]string{"pod": "worker-1x"}, Points: pts(7, 7, 7, 7)},
			}},
			want: Result{Query: `sum(http_load{app="worker",verb="GET",namespace="shop",pod!=""}) by (pod)`, Values: [][]float64{{5}, {5}, {5}, {5}}, Series: 1},
		},
		{
			name: "object: the object's series",
			req:  req(objectMetric("v1", "Service", "web", "svc_latency")),
			ranges: map[string][]hpametrics.Series{`max(svc_latency{namespace="shop",service="web"}) by (service)`: {
				{Labels: map[string]string{"service": "web"}, Points: pts(0.5, 0.25)},
			}},
			want: Result{Query: `max(svc_latency{namespace="shop",service="web"}) by (service)`, Values: [][]float64{{0.5}, {0.25}, nil, nil}, Series: 1},
		},
		{
			name: "object: one series without the label answers for the object",
			req:  req(objectMetric("v1", "Service", "web", "svc_latency")),
			ranges: map[string][]hpametrics.Series{`max(svc_latency{namespace="shop",service="web"}) by (service)`: {
				{Labels: map[string]string{}, Points: pts(3, 3, 3, 3)},
			}},
			want: Result{Query: `max(svc_latency{namespace="shop",service="web"}) by (service)`, Values: [][]float64{{3}, {3}, {3}, {3}}, Series: 1},
		},
		{
			name: "object: a namespace is the autoscaler's own, whatever the reference's name",
			req:  req(objectMetric("v1", "Namespace", "elsewhere", "ns_budget")),
			ranges: map[string][]hpametrics.Series{`sum(ns_budget{namespace="shop"}) by (namespace)`: {
				{Labels: map[string]string{"namespace": "shop"}, Points: pts(8, 8, 8, 8)},
			}},
			want: Result{Query: `sum(ns_budget{namespace="shop"}) by (namespace)`, Values: [][]float64{{8}, {8}, {8}, {8}}, Series: 1},
		},
		{
			name: "external: every series' value per step",
			req:  req(externalMetric("queue_length")),
			ranges: map[string][]hpametrics.Series{`sum(queue_length{namespace="shop"}) by (queue)`: {
				{Labels: map[string]string{"queue": "a"}, Points: pts(1, 2, 3, 4)},
				{Labels: map[string]string{"queue": "b"}, Points: pts(10, 20)},
			}},
			want: Result{Query: `sum(queue_length{namespace="shop"}) by (queue)`, Values: [][]float64{{1, 10}, {2, 20}, {3}, {4}}, Series: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, q := newTestHistory(t, tt.cfg, tt.ranges, nil)
			got, err := h.Range(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			var ranges int
			for _, c := range q.Calls() {
				if c.Kind == hpametrics.KindQueryRange {
					ranges++
					if !c.Start.Equal(tt.req.From) || !c.End.Equal(tt.req.To) || c.Step != tt.req.Step {
						t.Errorf("range query %s to %s by %s, want the request's", c.Start, c.End, c.Step)
					}
				}
				if c.Kind == hpametrics.KindSeries && (!c.Start.Equal(tt.req.From) || !c.End.Equal(tt.req.To)) {
					t.Errorf("series listed from %s to %s, want the request's range", c.Start, c.End)
				}
			}
			if ranges != 1 {
				t.Errorf("%d range queries, want 1 for the whole range", ranges)
			}
		})
	}
}

func TestRangeErrors(t *testing.T) {
	down := fmt.Errorf("query: %w: connection refused", hpametrics.ErrUnavailable)
	cpu := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu"}}
	tests := []struct {
		name string
		req  Request
		errs map[string]error
		want error
	}{
		{name: "resource metrics", req: req(cpu), want: ErrUnsupported},
		{name: "unknown kind", req: req(objectMetric("example.com/v1", "Widget", "w", "svc_latency")), want: ErrUnsupported},
		{name: "no rule", req: req(podsMetric("nope", nil)), want: ErrNoRule},
		{name: "no rule for the object's resource", req: req(objectMetric("apps/v1", "Deployment", "web", "svc_latency")), want: ErrNoRule},
		{name: "external without rule", req: req(externalMetric("nope")), want: ErrNoRule},
		{name: "selector PromQL cannot express", req: req(podsMetric("http_load", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a.b/c", Operator: metav1.LabelSelectorOpExists}}})), want: ErrBadRequest},
		{name: "invalid selector", req: req(podsMetric("http_load", &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Near"}}})), want: ErrBadRequest},
		{name: "empty range", req: func() Request { r := req(podsMetric("http_load", nil)); r.To = r.From.Add(-time.Second); return r }(), want: ErrBadRequest},
		{name: "no target name", req: func() Request { r := req(podsMetric("http_load", nil)); r.ScaleTargetRef.Name = ""; return r }(), want: ErrBadRequest},
		{name: "prometheus down on the range query", req: req(podsMetric("http_load", nil)), errs: map[string]error{podsQuery: down}, want: ErrUnavailable},
		{name: "prometheus down on discovery", req: req(podsMetric("http_load", nil)), errs: map[string]error{`http_load{namespace!="",pod!=""}`: down}, want: ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHistory(t, Config{}, nil, tt.errs)
			_, err := h.Range(context.Background(), tt.req)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDiscoveryOncePerRange(t *testing.T) {
	h, q := newTestHistory(t, Config{}, nil, nil)
	for range 3 {
		if _, err := h.Range(context.Background(), req(podsMetric("http_load", nil))); err != nil {
			t.Fatal(err)
		}
	}
	var series int
	for _, c := range q.Calls() {
		if c.Kind == hpametrics.KindSeries {
			series++
		}
	}
	if want := len(discovered); series != want {
		t.Errorf("%d series listings, want %d (one per seriesQuery, once)", series, want)
	}
}

func TestNewRejects(t *testing.T) {
	rules, err := config.Load([]byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		deps Deps
	}{
		{name: "no rules", cfg: Config{}, deps: Deps{Querier: &metricstest.Querier{}}},
		{name: "no querier", cfg: Config{Rules: rules}},
		{name: "bad pod pattern", cfg: Config{Rules: rules, PodName: "web-("}, deps: Deps{Querier: &metricstest.Querier{}}},
		{name: "series selector PromQL cannot express", cfg: Config{Rules: rules, SeriesSelector: labels.SelectorFromSet(labels.Set{"__name__": "x"})}, deps: Deps{Querier: &metricstest.Querier{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg, tt.deps); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
}
