package loop

import (
	"context"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	discoveryfake "k8s.io/client-go/discovery/fake"
	clienttesting "k8s.io/client-go/testing"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsfake "k8s.io/metrics/pkg/client/clientset/versioned/fake"
)

func podMetrics(namespace, name, app string, ts time.Time, usage map[string]int64) metricsv1beta1.PodMetrics {
	m := metricsv1beta1.PodMetrics{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{"app": app}},
		Timestamp:  metav1.NewTime(ts),
		Window:     metav1.Duration{Duration: 30 * time.Second},
	}
	for c, milli := range usage {
		m.Containers = append(m.Containers, metricsv1beta1.ContainerMetrics{
			Name:  c,
			Usage: corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(milli, resource.DecimalSI)},
		})
	}
	return m
}

func servedDiscovery() *discoveryfake.FakeDiscovery {
	return &discoveryfake.FakeDiscovery{Fake: &clienttesting.Fake{Resources: []*metav1.APIResourceList{
		{GroupVersion: "metrics.k8s.io/v1beta1", APIResources: []metav1.APIResource{{Name: "nodes"}, {Name: "pods", Namespaced: true, Kind: "PodMetrics"}}},
	}}}
}

func TestResourceMetricsFromMetricsServer(t *testing.T) {
	c := newCluster()
	c.workload(t, "ns", "web", 2, cpuMetric(50))
	container := int32(50)
	c.workload(t, "ns", "api", 2, autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
		Name: corev1.ResourceCPU, Container: "main",
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &container},
	}})
	ts := t0.Add(-20 * time.Second)
	list := &metricsv1beta1.PodMetricsList{Items: []metricsv1beta1.PodMetrics{
		podMetrics("ns", "web-0", "web", ts, map[string]int64{"main": 80}),
		podMetrics("ns", "web-1", "web", ts, map[string]int64{"main": 40}),
		podMetrics("ns", "api-0", "api", ts, map[string]int64{"main": 80, "sidecar": 500}),
		podMetrics("ns", "api-1", "api", ts, map[string]int64{"main": 40}),
	}}
	client := metricsfake.NewSimpleClientset()
	var lists int
	client.PrependReactor("list", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		lists++
		return true, list, nil
	})
	l := newTestLoop(t, c, &clock{now: t0}, loopOptions{resources: NewResourceMetrics(client, servedDiscovery(), 0, func() time.Time { return t0 })})
	l.Cycle(context.Background())
	if lists != 1 {
		t.Errorf("PodMetrics lists = %d, want 1 for the namespace", lists)
	}
	tests := []struct {
		name        string
		wantUtil    int32
		wantDesired int32
	}{
		// (80+40)/(2 x 100) = 60% of a 50% target: ceil(2 x 1.2) = 3.
		{name: "web", wantUtil: 60, wantDesired: 3},
		// The main container only: the sidecar's 500m do not count.
		{name: "api", wantUtil: 60, wantDesired: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := l.Store().Get("ns", KindHPA, tt.name)
			if rec.Error != "" || len(rec.Result.Proposals) != 1 {
				t.Fatalf("recommendation %+v", rec)
			}
			p := rec.Result.Proposals[0]
			if p.Error != "" || p.Current.AverageUtilization == nil || *p.Current.AverageUtilization != tt.wantUtil || rec.Result.DesiredReplicas != tt.wantDesired {
				t.Errorf("proposal %+v, desired %d; want %d%% and %d", p, rec.Result.DesiredReplicas, tt.wantUtil, tt.wantDesired)
			}
			if !p.Timestamp.Equal(ts) {
				t.Errorf("timestamp %v, want the PodMetrics' %v", p.Timestamp, ts)
			}
		})
	}
}

func TestResourceObservation(t *testing.T) {
	ts := t0
	pods := []*corev1.Pod{readyPod("ns", "a", "web", 100), readyPod("ns", "b", "web", 100), readyPod("ns", "c", "web", 100)}
	r := &response{pods: &metricsv1beta1.PodMetricsList{Items: []metricsv1beta1.PodMetrics{
		podMetrics("ns", "a", "web", ts, map[string]int64{"main": 10, "side": 5}),
		podMetrics("ns", "b", "other", ts, map[string]int64{"main": 10}),                                                                    // relabelled: not selected
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c", Labels: map[string]string{"app": "web"}}, Timestamp: metav1.NewTime(ts)}, // no containers
	}}}
	sel := labelsFor(t, "app=web")
	tests := []struct {
		name      string
		container string
		want      map[string]int64
	}{
		{name: "pod sums its containers; a pod without containers is missing", want: map[string]int64{"a": 15}},
		{name: "one container", container: "side", want: map[string]int64{"a": 5}},
		{name: "a container no pod has", container: "nope", want: map[string]int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := resourceObservation(r, pods, sel, corev1.ResourceCPU, tt.container)
			got := map[string]int64{}
			for _, m := range obs.PodMetrics {
				got[m.Pod] = m.Value
				if m.Window.Duration != 30*time.Second && m.Pod == "a" {
					t.Errorf("window %v, want the PodMetrics' 30s", m.Window)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("values %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("values %v, want %v", got, tt.want)
				}
			}
			if obs.Error != "" {
				t.Errorf("error %q", obs.Error)
			}
		})
	}
}

func TestResourceMetricsDiscoveryCached(t *testing.T) {
	disc := servedDiscovery()
	served := disc.Resources
	disc.Resources = nil
	now := t0
	client := metricsfake.NewSimpleClientset()
	client.PrependReactor("list", "pods", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, &metricsv1beta1.PodMetricsList{}, nil
	})
	r := NewResourceMetrics(client, disc, time.Minute, func() time.Time { return now })
	if _, err := r.ListPodMetrics(context.Background(), "ns"); err == nil {
		t.Fatal("not served: no error")
	}
	disc.Resources = served
	if _, err := r.ListPodMetrics(context.Background(), "ns"); err == nil {
		t.Error("within the TTL the old answer should stand")
	}
	now = now.Add(time.Minute)
	if _, err := r.ListPodMetrics(context.Background(), "ns"); err != nil {
		t.Errorf("after the TTL: %v", err)
	}
}
