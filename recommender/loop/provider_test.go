package loop_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	appsv1listers "k8s.io/client-go/listers/apps/v1"
	autoscalingv2listers "k8s.io/client-go/listers/autoscaling/v2"
	corev1listers "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/hpa-engine/hpa-engine/adapter/config"
	"github.com/hpa-engine/hpa-engine/adapter/inprocess"
	"github.com/hpa-engine/hpa-engine/adapter/provider"
	"github.com/hpa-engine/hpa-engine/adapter/rules"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
	"github.com/hpa-engine/hpa-engine/metrics/metricstest"
	"github.com/hpa-engine/hpa-engine/recommender/loop"
)

// The in-process source is the loop's metric source.
var _ loop.MetricSource = (*inprocess.Source)(nil)

// benchRules expose pods/http_requests_per_second (a rate) and
// deployments.apps/queue_depth (a gauge per Deployment).
const benchRules = `
rules:
- seriesQuery: 'http_requests_total{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  name:
    matches: "^(.*)_total$"
    as: "${1}_per_second"
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'
- seriesQuery: 'queue_depth{namespace!="",deployment!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
      deployment: {group: apps, resource: deployment}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
`

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// bed is a fake cluster of workloads, each a Deployment with its pods and an
// HPA on a Pods metric and an Object metric, served by the adapter's real
// Prometheus-backed provider over a fake Prometheus that counts queries.
type bed struct {
	loop    *loop.Loop
	queries atomic.Int64
	now     time.Time
}

type objectNames struct {
	pods        corev1listers.PodLister
	deployments appsv1listers.DeploymentLister
}

func (o objectNames) ObjectNames(_ context.Context, gvr schema.GroupVersionResource, namespace string, selector labels.Selector) ([]string, error) {
	var names []string
	switch gvr.Resource {
	case "pods":
		pods, err := o.pods.Pods(namespace).List(selector)
		if err != nil {
			return nil, err
		}
		for _, p := range pods {
			names = append(names, p.Name)
		}
	case "deployments":
		ds, err := o.deployments.Deployments(namespace).List(selector)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			names = append(names, d.Name)
		}
	default:
		return nil, fmt.Errorf("no objects of %s", gvr)
	}
	return names, nil
}

var namespaceMatcher = regexp.MustCompile(`namespace="([^"]+)"`)

func newBed(tb testing.TB, namespaces, perNamespace, podsPerTarget int) *bed {
	tb.Helper()
	nsIndex := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	hpas := cache.NewIndexer(cache.MetaNamespaceKeyFunc, nsIndex)
	deployments := cache.NewIndexer(cache.MetaNamespaceKeyFunc, nsIndex)
	pods := cache.NewIndexer(cache.MetaNamespaceKeyFunc, nsIndex)
	rng := rand.New(rand.NewPCG(1, 2))

	podSamples := map[string][]hpametrics.Sample{}
	objectSamples := map[string][]hpametrics.Sample{}
	start := metav1.NewTime(t0.Add(-time.Hour))
	one := int32(1)
	for n := range namespaces {
		ns := fmt.Sprintf("ns-%03d", n)
		for w := range perNamespace {
			name := fmt.Sprintf("app-%03d", w)
			replicas := int32(podsPerTarget)
			must(tb, deployments.Add(&appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec:       appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}},
				Status:     appsv1.DeploymentStatus{Replicas: replicas},
			}))
			for i := range podsPerTarget {
				pod := &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", name, i), UID: types.UID(fmt.Sprintf("%s-%s-%d", ns, name, i)), Labels: map[string]string{"app": name, "tier": "web"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")},
					}}}},
					Status: corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &start, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: start}}},
				}
				must(tb, pods.Add(pod))
				podSamples[ns] = append(podSamples[ns], hpametrics.Sample{Labels: map[string]string{"pod": pod.Name}, Value: 5 + 10*rng.Float64(), Timestamp: t0})
			}
			objectSamples[ns] = append(objectSamples[ns], hpametrics.Sample{Labels: map[string]string{"deployment": name}, Value: float64(rng.IntN(100)), Timestamp: t0})
			must(tb, hpas.Add(&autoscalingv2.HorizontalPodAutoscaler{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + "/" + name), Generation: 1},
				Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
					ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
					MinReplicas:    &one,
					MaxReplicas:    50,
					Metrics: []autoscalingv2.MetricSpec{
						{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
							Metric: autoscalingv2.MetricIdentifier{Name: "http_requests_per_second"},
							Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewQuantity(10, resource.DecimalSI)},
						}},
						{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
							DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
							Metric:          autoscalingv2.MetricIdentifier{Name: "queue_depth"},
							Target:          autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: resource.NewQuantity(50, resource.DecimalSI)},
						}},
					},
				},
			}))
		}
	}

	b := &bed{now: t0}
	q := &metricstest.Querier{
		SeriesFunc: func(_ context.Context, match string, _, _ time.Time) ([]map[string]string, error) {
			switch {
			case strings.HasPrefix(match, "http_requests_total"):
				return []map[string]string{{"__name__": "http_requests_total", "namespace": "ns-000", "pod": "app-000-0"}}, nil
			case strings.HasPrefix(match, "queue_depth"):
				return []map[string]string{{"__name__": "queue_depth", "namespace": "ns-000", "deployment": "app-000"}}, nil
			}
			return nil, nil
		},
		QueryFunc: func(_ context.Context, query string, _ time.Time) ([]hpametrics.Sample, error) {
			b.queries.Add(1)
			m := namespaceMatcher.FindStringSubmatch(query)
			if m == nil {
				return nil, nil
			}
			switch {
			case strings.Contains(query, "http_requests_total"):
				return podSamples[m[1]], nil
			case strings.Contains(query, "queue_depth"):
				return objectSamples[m[1]], nil
			}
			return nil, nil
		},
	}
	cfg, err := config.Load([]byte(benchRules))
	must(tb, err)
	podLister := corev1listers.NewPodLister(pods)
	deploymentLister := appsv1listers.NewDeploymentLister(deployments)
	p, err := provider.New(provider.Config{Rules: cfg}, provider.Deps{
		Querier: q,
		Mapper:  func(context.Context) (provider.Mapper, error) { return rules.BuiltinMapper(), nil },
		Objects: objectNames{pods: podLister, deployments: deploymentLister},
		Now:     func() time.Time { return t0 },
	})
	must(tb, err)
	must(tb, p.Relist(context.Background()))

	l, err := loop.New(loop.Config{}, loop.Deps{
		Sources: []loop.TargetSource{loop.NewHPASource(autoscalingv2listers.NewHorizontalPodAutoscalerLister(hpas))},
		Scales:  loop.NewScales(loop.WorkloadListers{Deployments: deploymentLister}, nil, nil),
		Pods:    podLister,
		Metrics: inprocess.New(p, p),
		Mapper:  rules.BuiltinMapper(),
		Now:     func() time.Time { return b.now },
	})
	must(tb, err)
	b.loop = l
	return b
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// TestCycleOverProvider runs cycles through the adapter's real provider:
// one Prometheus query per rule and namespace, whatever the number of
// targets, and every target gets a recommendation from both metrics.
func TestCycleOverProvider(t *testing.T) {
	tests := []struct {
		name                         string
		namespaces, perNS, podsPerNS int
		wantQueries                  int64
	}{
		{name: "one namespace", namespaces: 1, perNS: 5, podsPerNS: 2, wantQueries: 2},
		{name: "three namespaces, more pods than queried by name", namespaces: 3, perNS: 40, podsPerNS: 3, wantQueries: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBed(t, tt.namespaces, tt.perNS, tt.podsPerNS)
			for cycle := range 2 {
				b.queries.Store(0)
				stats := b.loop.Cycle(context.Background())
				if got := b.queries.Load(); got != tt.wantQueries {
					t.Errorf("cycle %d: %d Prometheus queries, want %d", cycle, got, tt.wantQueries)
				}
				if stats.Errors != 0 || stats.Targets != tt.namespaces*tt.perNS {
					t.Errorf("cycle %d: stats %+v", cycle, stats)
				}
				b.now = b.now.Add(15 * time.Second)
			}
			recs := b.loop.Store().List("", loop.KindHPA)
			if len(recs) != tt.namespaces*tt.perNS {
				t.Fatalf("%d recommendations, want %d", len(recs), tt.namespaces*tt.perNS)
			}
			for _, r := range recs {
				if r.Error != "" || r.Result.Error != "" || len(r.Result.Proposals) != 2 {
					t.Fatalf("%s/%s: %q %q %+v", r.Namespace, r.Name, r.Error, r.Result.Error, r.Result.Proposals)
				}
				if p := r.Result.Proposals[0]; p.ReadyPods != tt.podsPerNS {
					t.Errorf("%s/%s: pods metric over %d pods, want %d", r.Namespace, r.Name, p.ReadyPods, tt.podsPerNS)
				}
			}
		})
	}
}
