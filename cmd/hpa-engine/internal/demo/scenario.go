package demo

import (
	_ "embed"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/cmd/hpa-engine/internal/demo/cluster"
	"github.com/hpa-engine/hpa-engine/cmd/hpa-engine/internal/demo/load"
	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

// adapterConfig is the adapter configuration of the scenario, embedded so
// that the demo needs no file.
//
//go:embed config.yaml
var adapterConfig []byte

// AdapterConfig returns the adapter configuration file's content.
func AdapterConfig() []byte { return append([]byte(nil), adapterConfig...) }

// Namespace holds every object of the scenario.
const Namespace = "demo"

// Queue is the External metric's queue.
const Queue = "jobs"

// Target is one demo service: its Deployment, its load and its Autoscaler.
type Target struct {
	Name string
	// Metric says what the Autoscaler scales on, for the terminal.
	Metric string
	// Unit is the load's unit, for the terminal.
	Unit     string
	Load     load.Service
	Workload cluster.Workload
	// Autoscaler builds the target's Autoscaler with the given scale-down
	// stabilization window.
	Autoscaler func(scaleDownWindow time.Duration) *v1alpha1.Autoscaler
}

// Targets are the scenario's three services: web scales on a Pods metric,
// api on an Object metric of its Service, worker on an External queue
// length.
func Targets() []Target {
	return []Target{
		{
			Name: "web", Metric: "pods/http_requests_per_second", Unit: "req/s",
			Load:     load.Service{Name: "web", Kind: load.PerPod, Low: 12, High: 120},
			Workload: cluster.Workload{Name: "web", Replicas: 1},
			Autoscaler: func(w time.Duration) *v1alpha1.Autoscaler {
				return autoscaler("web", 1, 15, w, autoscalingv2.MetricSpec{
					Type: autoscalingv2.PodsMetricSourceType,
					Pods: &autoscalingv2.PodsMetricSource{
						Metric: autoscalingv2.MetricIdentifier{Name: "http_requests_per_second"},
						Target: averageValue("10"),
					},
				})
			},
		},
		{
			Name: "api", Metric: "service/requests_per_second", Unit: "req/s",
			Load:     load.Service{Name: "api", Kind: load.PerService, Low: 30, High: 400},
			Workload: cluster.Workload{Name: "api", Replicas: 1},
			Autoscaler: func(w time.Duration) *v1alpha1.Autoscaler {
				return autoscaler("api", 1, 10, w, autoscalingv2.MetricSpec{
					Type: autoscalingv2.ObjectMetricSourceType,
					Object: &autoscalingv2.ObjectMetricSource{
						DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "v1", Kind: "Service", Name: "api"},
						Metric:          autoscalingv2.MetricIdentifier{Name: "requests_per_second"},
						Target:          averageValue("50"),
					},
				})
			},
		},
		{
			Name: "worker", Metric: "external/queue_messages_ready", Unit: "msgs",
			Load:     load.Service{Name: "worker", Kind: load.Queue, Queue: Queue, Low: 10, High: 180},
			Workload: cluster.Workload{Name: "worker", Replicas: 1},
			Autoscaler: func(w time.Duration) *v1alpha1.Autoscaler {
				return autoscaler("worker", 1, 10, w, autoscalingv2.MetricSpec{
					Type: autoscalingv2.ExternalMetricSourceType,
					External: &autoscalingv2.ExternalMetricSource{
						Metric: autoscalingv2.MetricIdentifier{
							Name:     "queue_messages_ready",
							Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"queue": Queue}},
						},
						Target: averageValue("20"),
					},
				})
			},
		},
	}
}

func averageValue(q string) autoscalingv2.MetricTarget {
	v := resource.MustParse(q)
	return autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &v}
}

// autoscaler scales Deployment name; scale-ups are immediate and scale-downs
// wait for the window, short enough for the demo to show them.
func autoscaler(name string, minReplicas, maxReplicas int32, scaleDownWindow time.Duration, metric autoscalingv2.MetricSpec) *v1alpha1.Autoscaler {
	up, down := int32(0), int32(scaleDownWindow/time.Second)
	return &v1alpha1.Autoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: v1alpha1.Kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: name},
		Spec: v1alpha1.AutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
			MinReplicas:    &minReplicas,
			MaxReplicas:    maxReplicas,
			Metrics:        []autoscalingv2.MetricSpec{metric},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp:   &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &up},
				ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &down},
			},
		},
	}
}
