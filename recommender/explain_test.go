package recommender

import (
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// explanationCases are rendered to testdata/explain/<name>.txt.
func explanationCases() map[string]Input {
	scaleUp := withPods(input(4, nil, []autoscalingv2.MetricSpec{cpuUtilization(50), podsMetric("qps", "10")},
		samplesFor(900, 900, 900), Observation{Error: "no metrics returned from custom metrics API"}),
		[]Pod{runningPod("pod-0", "1"), runningPod("pod-1", "1"), runningPod("pod-2", "1"), pending(runningPod("pod-3", "1"))})

	down := withBehavior(withHistory(input(8, pods(8, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10"), externalMetric("queue", averageTarget("5"))},
		samplesFor(2000, 2000, 2000, 2000, 2000, 2000, 2000), Observation{Values: []int64{12000}}),
		History{Recommendations: recs(6, 2*time.Minute, 9, 10*time.Minute)}),
		&autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: ptr(int32(180)),
			Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 60}},
		}})

	failed := input(3, pods(3, "1"), []autoscalingv2.MetricSpec{objectMetric("requests", valueTarget("100"))},
		Observation{Error: "the server could not find the requested resource"})

	return map[string]Input{
		"scale-up-with-missing-unready-and-failed-metric": scaleUp,
		"scale-down-stabilized-and-limited":               down,
		"all-metrics-failed":                              failed,
		"scaling-disabled-at-zero":                        input(0, nil, []autoscalingv2.MetricSpec{cpuUtilization(50)}, Observation{}),
	}
}

func TestExplanationGolden(t *testing.T) {
	for name, in := range explanationCases() {
		t.Run(name, func(t *testing.T) {
			res, err := Recommend(in)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "explain", name+".txt")
			got := res.String()
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("explanation differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
			}
		})
	}
}

func TestResultJSONRoundTrip(t *testing.T) {
	// A zero target gives an infinite ratio, which plain float64 JSON refuses.
	in := input(2, pods(2, "1"), []autoscalingv2.MetricSpec{objectMetric("requests", valueTarget("0"))}, Observation{Value: 5000})
	res, err := Recommend(in)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(float64(res.Proposals[0].UsageRatio), 1) {
		t.Fatalf("ratio = %v, want +Inf", res.Proposals[0].UsageRatio)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if !math.IsInf(float64(back.Proposals[0].UsageRatio), 1) || back.DesiredReplicas != res.DesiredReplicas {
		t.Errorf("round trip lost data: %+v", back)
	}
	if !reflect.DeepEqual(back.History, res.History) {
		t.Errorf("history %+v, want %+v", back.History, res.History)
	}

	inJSON, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var inBack Input
	if err := json.Unmarshal(inJSON, &inBack); err != nil {
		t.Fatal(err)
	}
	again, err := Recommend(inBack)
	if err != nil || again.DesiredReplicas != res.DesiredReplicas {
		t.Errorf("input round trip: %v, desired %d want %d", err, again.DesiredReplicas, res.DesiredReplicas)
	}
}

func TestRatioJSON(t *testing.T) {
	tests := []struct {
		name string
		in   Ratio
		want string
	}{
		{name: "finite", in: 1.25, want: `1.25`},
		{name: "nan", in: Ratio(math.NaN()), want: `"NaN"`},
		{name: "inf", in: Ratio(math.Inf(1)), want: `"+Inf"`},
		{name: "minus inf", in: Ratio(math.Inf(-1)), want: `"-Inf"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.in)
			if err != nil || string(b) != tt.want {
				t.Fatalf("marshal = %s, %v; want %s", b, err, tt.want)
			}
			var back Ratio
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if !(back == tt.in || (math.IsNaN(float64(back)) && math.IsNaN(float64(tt.in)))) {
				t.Errorf("round trip = %v, want %v", back, tt.in)
			}
		})
	}
	var r Ratio
	if err := json.Unmarshal([]byte(`"many"`), &r); err == nil {
		t.Errorf("want an error for a non-number string")
	}
}

func TestRescaleFailed(t *testing.T) {
	in := input(4, pods(4, "500m"), []autoscalingv2.MetricSpec{cpuUtilization(100)}, samplesFor(600, 600, 600, 600))
	in.Status.DesiredReplicas = 4
	res, err := RescaleFailed(in, errors.New("conflict"))
	if err != nil {
		t.Fatal(err)
	}
	want := []cond{{autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedUpdateScale"}, activeValid, limitedNo}
	if got := condsOf(res); !reflect.DeepEqual(got, want) {
		t.Errorf("conditions = %v, want %v", got, want)
	}
	if res.Status.DesiredReplicas != 4 || res.Status.LastScaleTime != nil || res.DesiredReplicas != 5 {
		t.Errorf("status desired %d, last scale %v, attempted %d; want 4, nil, 5", res.Status.DesiredReplicas, res.Status.LastScaleTime, res.DesiredReplicas)
	}
	if msg := res.Status.Conditions[0].Message; msg != "the HPA controller was unable to update the target scale: conflict" {
		t.Errorf("message = %q", msg)
	}
}
