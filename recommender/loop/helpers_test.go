package loop

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	discoveryfake "k8s.io/client-go/discovery/fake"
	appsv1listers "k8s.io/client-go/listers/apps/v1"
	autoscalingv2listers "k8s.io/client-go/listers/autoscaling/v2"
	corev1listers "k8s.io/client-go/listers/core/v1"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	cmv1beta2 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	emv1beta1 "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// clock is a settable fake clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Step(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeSource is a MetricSource answering from functions and recording calls.
type fakeSource struct {
	custom   func(namespace string, gr schema.GroupResource, name, metric string) (*cmv1beta2.MetricValueList, error)
	external func(namespace, metric string, sel labels.Selector) (*emv1beta1.ExternalMetricValueList, error)

	mu    sync.Mutex
	calls []string
}

func (f *fakeSource) GetCustomMetrics(_ context.Context, namespace string, gr schema.GroupResource, name string, selector labels.Selector, metric string, metricSelector labels.Selector) (*cmv1beta2.MetricValueList, error) {
	f.record(fmt.Sprintf("custom %s %s %s %s labels=%q metric=%q", namespace, gr, name, metric, selector, metricSelector))
	if f.custom == nil {
		return &cmv1beta2.MetricValueList{}, nil
	}
	return f.custom(namespace, gr, name, metric)
}

func (f *fakeSource) GetExternalMetrics(_ context.Context, namespace, metric string, metricSelector labels.Selector) (*emv1beta1.ExternalMetricValueList, error) {
	f.record(fmt.Sprintf("external %s %s metric=%q", namespace, metric, metricSelector))
	if f.external == nil {
		return &emv1beta1.ExternalMetricValueList{}, nil
	}
	return f.external(namespace, metric, metricSelector)
}

func (f *fakeSource) record(c string) {
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
}

// Calls returns the recorded calls sorted, and forgets them.
func (f *fakeSource) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	sort.Strings(out)
	return out
}

// podValues answers Pods metrics from a table of pod name -> value.
func podValues(values map[string]float64, ts time.Time) func(string, schema.GroupResource, string, string) (*cmv1beta2.MetricValueList, error) {
	return func(namespace string, gr schema.GroupResource, _, metric string) (*cmv1beta2.MetricValueList, error) {
		out := &cmv1beta2.MetricValueList{}
		names := make([]string, 0, len(values))
		for n := range values {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			ns, name, _ := strings.Cut(n, "/")
			if ns != namespace {
				continue
			}
			out.Items = append(out.Items, cmv1beta2.MetricValue{
				DescribedObject: corev1.ObjectReference{Kind: kindOf(gr), Namespace: ns, Name: name},
				Metric:          cmv1beta2.MetricIdentifier{Name: metric},
				Timestamp:       metav1.NewTime(ts),
				Value:           *resource.NewMilliQuantity(int64(values[n]*1000), resource.DecimalSI),
			})
		}
		return out, nil
	}
}

func kindOf(gr schema.GroupResource) string {
	switch gr.Resource {
	case "pods":
		return "Pod"
	case "deployments":
		return "Deployment"
	}
	return gr.Resource
}

// cluster is a fake cluster: indexers behind listers, as informers fill them.
type cluster struct {
	hpas, deployments, pods cache.Indexer
}

func newCluster() *cluster {
	nsIndex := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	return &cluster{
		hpas:        cache.NewIndexer(cache.MetaNamespaceKeyFunc, nsIndex),
		deployments: cache.NewIndexer(cache.MetaNamespaceKeyFunc, nsIndex),
		pods:        cache.NewIndexer(cache.MetaNamespaceKeyFunc, nsIndex),
	}
}

func (c *cluster) add(t testing.TB, objs ...any) {
	t.Helper()
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *autoscalingv2.HorizontalPodAutoscaler:
			err = c.hpas.Add(o)
		case *appsv1.Deployment:
			err = c.deployments.Add(o)
		case *corev1.Pod:
			err = c.pods.Add(o)
		default:
			t.Fatalf("unexpected object %T", o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (c *cluster) update(t testing.TB, o any) {
	t.Helper()
	var err error
	switch o := o.(type) {
	case *autoscalingv2.HorizontalPodAutoscaler:
		err = c.hpas.Update(o)
	case *appsv1.Deployment:
		err = c.deployments.Update(o)
	default:
		t.Fatalf("unexpected object %T", o)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func (c *cluster) remove(t testing.TB, o any) {
	t.Helper()
	var err error
	switch o := o.(type) {
	case *autoscalingv2.HorizontalPodAutoscaler:
		err = c.hpas.Delete(o)
	default:
		t.Fatalf("unexpected object %T", o)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func (c *cluster) hpaLister() autoscalingv2listers.HorizontalPodAutoscalerLister {
	return autoscalingv2listers.NewHorizontalPodAutoscalerLister(c.hpas)
}

func (c *cluster) podLister() corev1listers.PodLister { return corev1listers.NewPodLister(c.pods) }

func (c *cluster) scales() *Scales {
	return NewScales(WorkloadListers{Deployments: appsv1listers.NewDeploymentLister(c.deployments)}, nil, nil)
}

// deployment returns a Deployment selecting app=name.
func deployment(namespace, name string, replicas, status int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
		},
		Status: appsv1.DeploymentStatus{Replicas: status},
	}
}

// readyPod returns a running, ready pod labelled app=app, started long ago,
// requesting cpuMilli of CPU.
func readyPod(namespace, name, app string, cpuMilli int64) *corev1.Pod {
	start := metav1.NewTime(t0.Add(-time.Hour))
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{"app": app}, UID: types.UID(namespace + "/" + name)},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:      "main",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(cpuMilli, resource.DecimalSI)}},
		}}},
		Status: corev1.PodStatus{
			Phase:     corev1.PodRunning,
			StartTime: &start,
			Conditions: []corev1.PodCondition{{
				Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: start,
			}},
		},
	}
}

// hpa returns an HPA on the Deployment name with the metrics.
func hpa(namespace, name string, maxReplicas int32, metrics ...autoscalingv2.MetricSpec) *autoscalingv2.HorizontalPodAutoscaler {
	one := int32(1)
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID("uid-" + namespace + "-" + name), Generation: 1},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
			MinReplicas:    &one,
			MaxReplicas:    maxReplicas,
			Metrics:        metrics,
		},
	}
}

func podsMetric(name string, avg int64) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: name},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewQuantity(avg, resource.DecimalSI)},
	}}
}

func objectMetric(name, deploymentName string, value int64) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
		DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: deploymentName},
		Metric:          autoscalingv2.MetricIdentifier{Name: name},
		Target:          autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: resource.NewQuantity(value, resource.DecimalSI)},
	}}
}

func externalMetric(name string, sel map[string]string, avg int64) autoscalingv2.MetricSpec {
	var ls *metav1.LabelSelector
	if sel != nil {
		ls = &metav1.LabelSelector{MatchLabels: sel}
	}
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: name, Selector: ls},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewQuantity(avg, resource.DecimalSI)},
	}}
}

func cpuMetric(utilization int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name:   corev1.ResourceCPU,
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &utilization},
	}}
}

// workload adds a Deployment with n ready pods (app=name) and an HPA on it.
func (c *cluster) workload(t testing.TB, namespace, name string, n int32, metrics ...autoscalingv2.MetricSpec) *autoscalingv2.HorizontalPodAutoscaler {
	t.Helper()
	h := hpa(namespace, name, 20, metrics...)
	c.add(t, deployment(namespace, name, n, n), h)
	for i := range n {
		c.add(t, readyPod(namespace, fmt.Sprintf("%s-%d", name, i), name, 100))
	}
	return h
}

type loopOptions struct {
	source    MetricSource
	resources PodMetricsLister
	inst      *Metrics
}

func newTestLoop(t testing.TB, c *cluster, clk *clock, o loopOptions) *Loop {
	t.Helper()
	var src MetricSource
	if o.source != nil {
		src = o.source
	}
	l, err := New(Config{Workers: 4}, Deps{
		Sources:         []TargetSource{NewHPASource(c.hpaLister())},
		Scales:          c.scales(),
		Pods:            c.podLister(),
		Metrics:         src,
		ResourceMetrics: o.resources,
		Mapper:          testMapper(),
		Instruments:     o.inst,
		Now:             clk.Now,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return l
}

func testMapper() RESTMapper {
	core := schema.GroupVersion{Version: "v1"}
	apps := schema.GroupVersion{Group: "apps", Version: "v1"}
	m := meta.NewDefaultRESTMapper([]schema.GroupVersion{core, apps})
	m.Add(core.WithKind("Pod"), meta.RESTScopeNamespace)
	m.Add(core.WithKind("Service"), meta.RESTScopeNamespace)
	m.Add(core.WithKind("Namespace"), meta.RESTScopeRoot)
	m.Add(apps.WithKind("Deployment"), meta.RESTScopeNamespace)
	return m
}

func objectName(namespace, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: namespace, Name: name}
}

// notServedDiscovery is a cluster without metrics.k8s.io.
func notServedDiscovery(t testing.TB) ResourceDiscovery {
	t.Helper()
	return &discoveryfake.FakeDiscovery{Fake: &clienttesting.Fake{Resources: []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{{Name: "pods", Namespaced: true, Kind: "Pod"}}},
	}}}
}

func newRegistry() *prometheus.Registry { return prometheus.NewPedanticRegistry() }

func labelsFor(t testing.TB, s string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}
