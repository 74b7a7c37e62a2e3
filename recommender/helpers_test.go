package recommender

import (
	"fmt"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Builders for readable test inputs. Times are relative to testNow.

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return testNow.Add(-d) }

func ptr[T any](v T) *T { return &v }

func qty(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

// runningPod is a pod started 10 minutes ago, ready since 9 minutes ago,
// with one container "app" requesting cpu.
func runningPod(name, cpu string) Pod {
	return Pod{
		Name:      name,
		Phase:     corev1.PodRunning,
		Ready:     &PodReadyCondition{Status: corev1.ConditionTrue, LastTransitionTime: ago(9 * time.Minute)},
		StartTime: ptr(ago(10 * time.Minute)),
		Containers: []Container{{
			Name:     "app",
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)},
		}},
	}
}

// pods returns n running pods named pod-0..pod-n-1 requesting cpu each.
func pods(n int, cpu string) []Pod {
	out := make([]Pod, n)
	for i := range out {
		out[i] = runningPod(fmt.Sprintf("pod-%d", i), cpu)
	}
	return out
}

// samplesFor gives each named pod a sample with the given milli-values,
// taken 30 s ago over a 30 s window.
func samplesFor(values ...int64) Observation {
	var obs Observation
	for i, v := range values {
		obs.PodMetrics = append(obs.PodMetrics, PodMetric{
			Pod: fmt.Sprintf("pod-%d", i), Value: v, Timestamp: ago(30 * time.Second), Window: metav1.Duration{Duration: 30 * time.Second},
		})
	}
	return obs
}

func cpuUtilization(target int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{
			Name:   corev1.ResourceCPU,
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(target)},
		},
	}
}

func cpuAverageValue(target string) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{
			Name:   corev1.ResourceCPU,
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: qty(target)},
		},
	}
}

func containerCPUUtilization(container string, target int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ContainerResourceMetricSourceType,
		ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
			Name:      corev1.ResourceCPU,
			Container: container,
			Target:    autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(target)},
		},
	}
}

func podsMetric(name, average string) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.PodsMetricSourceType,
		Pods: &autoscalingv2.PodsMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: name},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: qty(average)},
		},
	}
}

func objectMetric(name string, target autoscalingv2.MetricTarget) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ObjectMetricSourceType,
		Object: &autoscalingv2.ObjectMetricSource{
			DescribedObject: autoscalingv2.CrossVersionObjectReference{Kind: "Service", Name: "frontend", APIVersion: "v1"},
			Metric:          autoscalingv2.MetricIdentifier{Name: name},
			Target:          target,
		},
	}
}

func externalMetric(name string, target autoscalingv2.MetricTarget) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ExternalMetricSourceType,
		External: &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: name},
			Target: target,
		},
	}
}

func valueTarget(v string) autoscalingv2.MetricTarget {
	return autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: qty(v)}
}

func averageTarget(v string) autoscalingv2.MetricTarget {
	return autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: qty(v)}
}

// input is an autoscaler in namespace "ns" with bounds 1..10 over a target
// with the given replicas and pods.
func input(replicas int32, podList []Pod, metrics []autoscalingv2.MetricSpec, obs ...Observation) Input {
	return Input{
		Namespace: "ns",
		Name:      "web",
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"},
			MinReplicas:    ptr(int32(1)),
			MaxReplicas:    10,
			Metrics:        metrics,
		},
		Target:       Target{SpecReplicas: replicas, StatusReplicas: replicas, Selector: "app=web", Pods: podList},
		Observations: obs,
		Now:          testNow,
	}
}

// cond is a condition's type, status and reason, for comparisons.
type cond struct {
	Type   autoscalingv2.HorizontalPodAutoscalerConditionType
	Status corev1.ConditionStatus
	Reason string
}

func condsOf(r Result) []cond {
	var out []cond
	for _, c := range r.Status.Conditions {
		out = append(out, cond{c.Type, c.Status, c.Reason})
	}
	return out
}

func recs(pairs ...any) []TimestampedRecommendation {
	var out []TimestampedRecommendation
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, TimestampedRecommendation{Replicas: int32(pairs[i].(int)), Timestamp: ago(pairs[i+1].(time.Duration))})
	}
	return out
}
