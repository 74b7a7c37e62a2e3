//go:build integration

package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/test/testbed"
)

// createDeployment creates a Deployment whose pods carry app=<name>.
func createDeployment(ctx context.Context, t *testing.T, ns, name string, replicas int32) {
	t.Helper()
	labels := map[string]string{"app": name}
	_, err := cp.Client.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// fastBehavior lets the HPA move as far as it wants every sync, so a test
// sees each step of the algorithm within one 2 s sync period.
func fastBehavior() *autoscalingv2.HorizontalPodAutoscalerBehavior {
	zero := int32(0)
	rules := func() *autoscalingv2.HPAScalingRules {
		return &autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: &zero,
			Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 100, PeriodSeconds: 1}},
		}
	}
	return &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rules(), ScaleDown: rules()}
}

func createHPA(ctx context.Context, t *testing.T, ns, deployment string, minR, maxR int32, metric autoscalingv2.MetricSpec) {
	t.Helper()
	_, err := cp.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: deployment},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: deployment},
			MinReplicas:    &minR,
			MaxReplicas:    maxR,
			Metrics:        []autoscalingv2.MetricSpec{metric},
			Behavior:       fastBehavior(),
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func averageValue(v string) autoscalingv2.MetricTarget {
	q := resource.MustParse(v)
	return autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q}
}

// waitReplicas waits until the HPA has set the Deployment's replicas to want
// and that many pods are Ready.
func waitReplicas(ctx context.Context, t *testing.T, ns, deployment string, want int32) {
	t.Helper()
	testbed.Eventually(ctx, t, fmt.Sprintf("%s/%s at %d ready replicas", ns, deployment, want), func() error {
		d, err := cp.Client.AppsV1().Deployments(ns).Get(ctx, deployment, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if *d.Spec.Replicas != want || d.Status.ReadyReplicas != want {
			return fmt.Errorf("spec.replicas=%d ready=%d; hpa: %s", *d.Spec.Replicas, d.Status.ReadyReplicas, hpaSummary(ctx, ns, deployment))
		}
		return nil
	})
}

func hpaSummary(ctx context.Context, ns, name string) string {
	h, err := cp.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	s := fmt.Sprintf("current=%d desired=%d", h.Status.CurrentReplicas, h.Status.DesiredReplicas)
	for _, c := range h.Status.Conditions {
		s += fmt.Sprintf(" [%s=%s %s: %s]", c.Type, c.Status, c.Reason, c.Message)
	}
	return s
}

func hpaCondition(ctx context.Context, ns, name string, typ autoscalingv2.HorizontalPodAutoscalerConditionType) (autoscalingv2.HorizontalPodAutoscalerCondition, error) {
	h, err := cp.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return autoscalingv2.HorizontalPodAutoscalerCondition{}, err
	}
	for _, c := range h.Status.Conditions {
		if c.Type == typ {
			return c, nil
		}
	}
	return autoscalingv2.HorizontalPodAutoscalerCondition{}, fmt.Errorf("no %s condition yet: %s", typ, hpaSummary(ctx, ns, name))
}

// loadPusher pushes, every second, one sample per series it is told about,
// the way an exporter scraped every second would. Per-pod series follow the
// pods of a Deployment as it scales.
type loadPusher struct {
	mu        sync.Mutex
	podLoad   map[string]float64 // app label -> value of e2e_pod_load for each of its pods
	namespace string
	series    map[string]float64 // other series: key built by seriesKey
	labels    map[string]map[string]string
}

func startPusher(t *testing.T, ns string) *loadPusher {
	p := &loadPusher{podLoad: map[string]float64{}, namespace: ns, series: map[string]float64{}, labels: map[string]map[string]string{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			p.push(ctx)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

// SetPodLoad sets e2e_pod_load of every pod of the app.
func (p *loadPusher) SetPodLoad(app string, v float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.podLoad[app] = v
}

// Set sets a series by its labels (namespace is added).
func (p *loadPusher) Set(labels map[string]string, v float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := map[string]string{"namespace": p.namespace}
	key := ""
	for k, val := range labels {
		l[k] = val
	}
	for _, k := range []string{"__name__", "service", "queue", "pod"} {
		key += l[k] + "|"
	}
	p.series[key] = v
	p.labels[key] = l
}

func (p *loadPusher) push(ctx context.Context) {
	p.mu.Lock()
	var samples []testbed.Sample
	now := time.Now()
	for key, v := range p.series {
		samples = append(samples, testbed.Sample{Labels: p.labels[key], Value: v, Time: now})
	}
	apps := map[string]float64{}
	for k, v := range p.podLoad {
		apps[k] = v
	}
	p.mu.Unlock()
	for app, v := range apps {
		pods, err := cp.Client.CoreV1().Pods(p.namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			continue
		}
		for _, pod := range pods.Items {
			samples = append(samples, testbed.Sample{
				Labels: map[string]string{"__name__": "e2e_pod_load", "namespace": p.namespace, "pod": pod.Name},
				Value:  v, Time: now,
			})
		}
	}
	// Errors are expected while a test has Prometheus stopped.
	_ = prom.Push(ctx, samples...)
}
