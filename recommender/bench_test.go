package recommender

import (
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// BenchmarkRecommend measures one target with two metrics (CPU utilization
// and a Pods metric) over 20 pods, with behavior and a full five-minute
// history: the per-target cost of a recommender cycle.
func BenchmarkRecommend(b *testing.B) {
	values := make([]int64, 20)
	qps := make([]int64, 20)
	for i := range values {
		values[i] = int64(400 + 10*i)
		qps[i] = int64(8000 + 100*i)
	}
	in := input(20, pods(20, "500m"), []autoscalingv2.MetricSpec{cpuUtilization(70), podsMetric("qps", "10")},
		samplesFor(values...), samplesFor(qps...))
	in.Spec.MaxReplicas = 100
	in.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{}
	for i := range 20 {
		in.History.Recommendations = append(in.History.Recommendations, TimestampedRecommendation{Replicas: 20, Timestamp: ago(time.Duration(i*15) * time.Second)})
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Recommend(in); err != nil {
			b.Fatal(err)
		}
	}
}
