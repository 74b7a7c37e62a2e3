package simulate

import (
	"bytes"
	"math"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// BenchmarkReplayDay replays a day at 15 s (5,761 steps) of a daily wave
// with bursts over a spec with two metrics and a behavior, and reports the
// steps per second; the history is in memory, so this is the replay alone
// (the range queries are one per metric whatever the length).
func BenchmarkReplayDay(b *testing.B) {
	r := Range{From: stepFrom, To: stepFrom.Add(24 * time.Hour), Step: 15 * time.Second}
	n := r.Len()
	pods := Series{Model: ModelTotal, Values: make([][]float64, n)}
	queue := Series{Model: ModelValues, Values: make([][]float64, n)}
	for i := range n {
		h := float64(i) * 15 / 3600
		v := 1000 + 800*math.Sin(2*math.Pi*h/24)
		if i%600 < 20 {
			v *= 2.5
		}
		pods.Values[i] = []float64{v}
		queue.Values[i] = []float64{v / 50, v / 100}
	}
	window, up := int32(120), int32(60)
	s := spec(2, 40, podsMetric("rps", "100"), external("queue", "5"))
	s.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleUp:   &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: up}}},
		ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &window, Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 50, PeriodSeconds: 60}}},
	}
	cfg := Config{Target: Target{Kind: KindHPA, Namespace: "ns", Name: "web", Spec: s}, Range: r}
	series := []Series{pods, queue}
	b.ReportAllocs()
	var tl *Timeline
	for b.Loop() {
		var err error
		if tl, err = Replay(cfg, series); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "steps/s")
	var csv, svg bytes.Buffer
	if err := WriteCSV(&csv, tl); err != nil {
		b.Fatal(err)
	}
	if err := WriteSVG(&svg, tl); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(csv.Len()), "csv-bytes")
	b.ReportMetric(float64(svg.Len()), "svg-bytes")
}
