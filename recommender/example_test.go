package recommender_test

import (
	"fmt"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// A Deployment of three pods serving 30 requests per second each against a
// target of 10: the Pods metric asks for 9 replicas, and without behavior the
// legacy limit allows max(2 x 3, 4) = 6 in one step.
func ExampleRecommend() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	target := resource.MustParse("10")
	in := recommender.Input{
		Namespace: "shop",
		Name:      "web",
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas:    20,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.PodsMetricSourceType,
				Pods: &autoscalingv2.PodsMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "http_requests_per_second"},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &target},
				},
			}},
		},
		Target: recommender.Target{SpecReplicas: 3, StatusReplicas: 3, Selector: "app=web"},
		Now:    now,
	}
	var obs recommender.Observation
	for _, name := range []string{"web-a", "web-b", "web-c"} {
		in.Target.Pods = append(in.Target.Pods, recommender.Pod{Name: name, Phase: corev1.PodRunning,
			Ready: &recommender.PodReadyCondition{Status: corev1.ConditionTrue, LastTransitionTime: now.Add(-time.Hour)}})
		obs.PodMetrics = append(obs.PodMetrics, recommender.PodMetric{Pod: name, Value: 30000, Timestamp: now, Window: metav1.Duration{Duration: time.Minute}})
	}
	in.Observations = []recommender.Observation{obs}

	res, err := recommender.Recommend(in)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(res)
	// Output:
	// desired replicas: 6 (current 3): scale, pods metric http_requests_per_second above target
	// metric 1/1 Pods http_requests_per_second: current 30 per pod, target 10 per pod, ratio 3.000: ceil(ratio x 3 ready pods) = 9
	//   pods: 3 ready, 0 unready, 0 missing, 0 ignored
	// largest proposal: 9 from metric 1 (pods metric http_requests_per_second)
	// limited from 9 to 6 by legacy scale-up limit max(2 x 3, 4) = 6 (ScaleUpLimit)
	// condition AbleToScale=True SucceededRescale: the HPA controller was able to update the target scale to 6
	// condition ScalingActive=True ValidMetricFound: the HPA was able to successfully calculate a replica count from pods metric http_requests_per_second
	// condition ScalingLimited=True ScaleUpLimit: the desired replica count is increasing faster than the maximum scale rate
	// condition ScaledToZero=False NotScaledToZero: the HPA controller did not scale the workload to zero
}
