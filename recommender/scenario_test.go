package recommender

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// randomInput builds a random but well-formed scenario from seed: every
// metric kind and target type, pods in every state, missing samples, fetch
// errors, behaviors and histories.
func randomInput(seed uint64) Input {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pick := func(n int) int { return rng.IntN(n) }
	current := int32(pick(12))
	nPods := pick(int(current) + 3)
	var ps []Pod
	for i := range nPods {
		p := runningPod(fmt.Sprintf("pod-%d", i), fmt.Sprintf("%dm", 100+pick(900)))
		switch pick(8) {
		case 0:
			p.Phase = corev1.PodPending
		case 1:
			p.Terminating = true
		case 2:
			p.Phase = corev1.PodFailed
		case 3:
			p.Ready = &PodReadyCondition{Status: corev1.ConditionFalse, LastTransitionTime: ago(time.Duration(pick(600)) * time.Second)}
		case 4:
			p.StartTime = ptr(ago(time.Duration(pick(400)) * time.Second))
			p.Ready.LastTransitionTime = ago(time.Duration(pick(400)) * time.Second)
		case 5:
			p.Ready = nil
		}
		ps = append(ps, p)
	}
	samples := func(scale int64) Observation {
		var obs Observation
		for _, p := range ps {
			if pick(6) == 0 {
				continue
			}
			obs.PodMetrics = append(obs.PodMetrics, PodMetric{Pod: p.Name, Value: rng.Int64N(scale), Timestamp: ago(time.Duration(pick(90)) * time.Second), Window: metav1.Duration{Duration: 30 * time.Second}})
		}
		return obs
	}
	var metrics []autoscalingv2.MetricSpec
	var obs []Observation
	for range 1 + pick(3) {
		var o Observation
		switch pick(7) {
		case 0:
			metrics = append(metrics, cpuUtilization(int32(10+pick(150))))
			o = samples(1500)
		case 1:
			metrics = append(metrics, cpuAverageValue(fmt.Sprintf("%dm", 50+pick(900))))
			o = samples(1500)
		case 2:
			metrics = append(metrics, containerCPUUtilization("app", int32(10+pick(150))))
			o = samples(1500)
		case 3:
			metrics = append(metrics, podsMetric("qps", fmt.Sprintf("%d", 1+pick(50))))
			o = samples(100000)
		case 4:
			t := valueTarget(fmt.Sprintf("%d", pick(100)))
			if pick(2) == 0 {
				t = averageTarget(fmt.Sprintf("%d", 1+pick(30)))
			}
			metrics = append(metrics, objectMetric("requests", t))
			o = Observation{Value: rng.Int64N(500000)}
		default:
			t := valueTarget(fmt.Sprintf("%d", 1+pick(100)))
			if pick(2) == 0 {
				t = averageTarget(fmt.Sprintf("%d", 1+pick(30)))
			}
			metrics = append(metrics, externalMetric("queue", t))
			for range pick(3) {
				o.Values = append(o.Values, rng.Int64N(300000))
			}
		}
		if pick(8) == 0 {
			o = Observation{Error: "fetch failed"}
		}
		obs = append(obs, o)
	}
	in := input(current, ps, metrics, obs...)
	in.Target.StatusReplicas = int32(nPods)
	in.Spec.MinReplicas = ptr(int32(pick(3)))
	in.Spec.MaxReplicas = int32(1 + pick(20))
	if pick(3) > 0 {
		sel := []autoscalingv2.ScalingPolicySelect{autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect, autoscalingv2.DisabledPolicySelect}
		rules := func() *autoscalingv2.HPAScalingRules {
			if pick(3) == 0 {
				return nil
			}
			r := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr(int32(pick(400)))}
			if pick(4) == 0 {
				r.SelectPolicy = ptr(sel[pick(3)])
			}
			for range pick(3) {
				typ := autoscalingv2.PodsScalingPolicy
				if pick(2) == 0 {
					typ = autoscalingv2.PercentScalingPolicy
				}
				r.Policies = append(r.Policies, autoscalingv2.HPAScalingPolicy{Type: typ, Value: int32(1 + pick(150)), PeriodSeconds: int32(1 + pick(120))})
			}
			if pick(3) == 0 {
				r.Tolerance = resource.NewMilliQuantity(int64(pick(300)), resource.DecimalSI)
			}
			return r
		}
		in.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rules(), ScaleDown: rules()}
	}
	for range pick(6) {
		in.History.Recommendations = append(in.History.Recommendations, TimestampedRecommendation{Replicas: int32(pick(15)), Timestamp: ago(time.Duration(pick(700)) * time.Second)})
	}
	for range pick(3) {
		in.History.ScaleUpEvents = append(in.History.ScaleUpEvents, ScaleEvent{ReplicaChange: int32(1 + pick(4)), Timestamp: ago(time.Duration(pick(200)) * time.Second)})
		in.History.ScaleDownEvents = append(in.History.ScaleDownEvents, ScaleEvent{ReplicaChange: int32(1 + pick(4)), Timestamp: ago(time.Duration(pick(200)) * time.Second)})
	}
	if pick(4) == 0 {
		in.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.ScaledToZero, Status: corev1.ConditionTrue, Reason: "ScaledToZero"}}
	}
	return in
}

// checkInvariants holds for every result, whatever the scenario.
func checkInvariants(t *testing.T, in Input, res Result) {
	t.Helper()
	if _, err := json.Marshal(res); err != nil {
		t.Fatalf("result does not encode: %v", err)
	}
	if !res.Rescale && res.DesiredReplicas != res.CurrentReplicas {
		t.Errorf("no rescale but desired %d != current %d", res.DesiredReplicas, res.CurrentReplicas)
	}
	if res.Rescale && res.DesiredReplicas == res.CurrentReplicas {
		t.Errorf("rescale to the current count %d", res.DesiredReplicas)
	}
	if res.Rescale && res.Status.DesiredReplicas != res.DesiredReplicas {
		t.Errorf("status desired %d != desired %d", res.Status.DesiredReplicas, res.DesiredReplicas)
	}
	if len(res.Proposals) > 0 && len(res.Proposals) != len(DefaultSpec(in.Spec, time.Minute).Metrics) {
		t.Errorf("%d proposals for %d metrics", len(res.Proposals), len(in.Spec.Metrics))
	}
	if n := len(res.History.Recommendations); n == 0 || n > max(len(in.History.Recommendations), 1)+1 {
		t.Errorf("history has %d recommendations from %d", n, len(in.History.Recommendations))
	}
	seen := map[autoscalingv2.HorizontalPodAutoscalerConditionType]bool{}
	for _, c := range res.Status.Conditions {
		if seen[c.Type] {
			t.Errorf("condition %s twice", c.Type)
		}
		seen[c.Type] = true
	}
	if !seen[autoscalingv2.AbleToScale] {
		t.Errorf("no AbleToScale condition")
	}
	// A scale-down never happens while a metric failed.
	if res.Rescale && res.DesiredReplicas < res.CurrentReplicas && res.MetricIndex >= 0 {
		for _, p := range res.Proposals {
			if p.Rule == RuleFailed {
				t.Errorf("scaled down from %d to %d with a failed metric", res.CurrentReplicas, res.DesiredReplicas)
			}
		}
	}
	if res.String() == "" {
		t.Errorf("empty explanation")
	}
}

func TestRandomScenarios(t *testing.T) {
	for seed := range uint64(3000) {
		in := randomInput(seed)
		before, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Recommend(in)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		checkInvariants(t, in, res)
		after, _ := json.Marshal(in)
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("seed %d: Recommend modified its input", seed)
		}
		// Compared as JSON: NaN ratios are never DeepEqual, and quantities
		// cache their text when printed.
		again, _ := Recommend(in)
		first, _ := json.Marshal(res)
		second, _ := json.Marshal(again)
		if string(first) != string(second) {
			t.Fatalf("seed %d: two runs differ", seed)
		}
		if t.Failed() {
			t.Fatalf("seed %d:\n%s", seed, res)
		}
	}
}

// FuzzRecommendScenario explores random scenarios beyond the fixed seeds of
// TestRandomScenarios.
func FuzzRecommendScenario(f *testing.F) {
	f.Add(uint64(1))
	f.Fuzz(func(t *testing.T, seed uint64) {
		in := randomInput(seed)
		res, err := Recommend(in)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		checkInvariants(t, in, res)
	})
}
