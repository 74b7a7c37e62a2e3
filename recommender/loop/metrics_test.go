package loop

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hpa-engine/hpa-engine/recommender"
)

func TestMetricsExportedAndDeleted(t *testing.T) {
	c := newCluster()
	web := c.workload(t, "ns", "web", 2, podsMetric("rps", 100), externalMetric("queue", nil, 10))
	c.workload(t, "ns", "api", 3, podsMetric("rps", 100))
	src := &fakeSource{custom: podValues(map[string]float64{"ns/web-0": 100, "ns/web-1": 100, "ns/api-0": 150, "ns/api-1": 150, "ns/api-2": 150}, t0)}
	reg := newRegistry()
	l := newTestLoop(t, c, &clock{now: t0}, loopOptions{source: src, inst: NewMetrics(reg)})
	l.Cycle(context.Background())

	// The external metric has no values: its proposal failed, so only the
	// pods metric of web has a series.
	want := `
# HELP hpa_engine_recommender_current_replicas Replica count of a target's scale (spec.replicas) in the last cycle.
# TYPE hpa_engine_recommender_current_replicas gauge
hpa_engine_recommender_current_replicas{kind="HorizontalPodAutoscaler",name="api",namespace="ns"} 3
hpa_engine_recommender_current_replicas{kind="HorizontalPodAutoscaler",name="web",namespace="ns"} 2
# HELP hpa_engine_recommender_desired_replicas Replica count the recommender computed for a target in the last cycle.
# TYPE hpa_engine_recommender_desired_replicas gauge
hpa_engine_recommender_desired_replicas{kind="HorizontalPodAutoscaler",name="api",namespace="ns"} 5
hpa_engine_recommender_desired_replicas{kind="HorizontalPodAutoscaler",name="web",namespace="ns"} 2
# HELP hpa_engine_recommender_metric_proposal_replicas Replica count one metric of a target proposed in the last cycle, before the max, bounds and behavior.
# TYPE hpa_engine_recommender_metric_proposal_replicas gauge
hpa_engine_recommender_metric_proposal_replicas{kind="HorizontalPodAutoscaler",metric="pods/rps",name="api",namespace="ns"} 5
hpa_engine_recommender_metric_proposal_replicas{kind="HorizontalPodAutoscaler",metric="pods/rps",name="web",namespace="ns"} 2
# HELP hpa_engine_recommender_recommended_replicas Largest valid per-metric proposal of a target in the last cycle, before bounds, stabilization and policies; absent when no metric was computed.
# TYPE hpa_engine_recommender_recommended_replicas gauge
hpa_engine_recommender_recommended_replicas{kind="HorizontalPodAutoscaler",name="api",namespace="ns"} 5
hpa_engine_recommender_recommended_replicas{kind="HorizontalPodAutoscaler",name="web",namespace="ns"} 2
# HELP hpa_engine_recommender_limit_info 1 for what last held a target's desired replicas away from its metrics' recommendation in the last cycle, by reason (ScaleUpStabilized, ScaleDownStabilized, TooManyReplicas, TooFewReplicas, ScaleUpLimit, ScaleDownLimit, CurrentAboveMax, CurrentBelowMin, FromZeroMinReplicas, ScalingDisabled) or None.
# TYPE hpa_engine_recommender_limit_info gauge
hpa_engine_recommender_limit_info{kind="HorizontalPodAutoscaler",name="api",namespace="ns",reason="None"} 1
hpa_engine_recommender_limit_info{kind="HorizontalPodAutoscaler",name="web",namespace="ns",reason="None"} 1
# HELP hpa_engine_recommender_queries_per_cycle Metric source calls (custom, external and resource metrics) the last cycle made after batching.
# TYPE hpa_engine_recommender_queries_per_cycle gauge
hpa_engine_recommender_queries_per_cycle 2
# HELP hpa_engine_recommender_target_errors_total Targets for which a cycle could not compute a usable recommendation, by reason.
# TYPE hpa_engine_recommender_target_errors_total counter
hpa_engine_recommender_target_errors_total{reason="FailedComputeReplicas"} 1
hpa_engine_recommender_target_errors_total{reason="FailedGetScale"} 0
hpa_engine_recommender_target_errors_total{reason="FailedListPods"} 0
hpa_engine_recommender_target_errors_total{reason="FailedListTargets"} 0
hpa_engine_recommender_target_errors_total{reason="InvalidInput"} 0
`
	names := []string{
		"hpa_engine_recommender_current_replicas", "hpa_engine_recommender_desired_replicas",
		"hpa_engine_recommender_metric_proposal_replicas", "hpa_engine_recommender_queries_per_cycle",
		"hpa_engine_recommender_target_errors_total", "hpa_engine_recommender_recommended_replicas",
		"hpa_engine_recommender_limit_info",
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(l.deps.Instruments.duration); n != 1 {
		t.Errorf("cycle duration series = %d, want 1", n)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}

	// web vanishes: every series of it goes.
	c.remove(t, web)
	l.Cycle(context.Background())
	for _, name := range []string{
		"hpa_engine_recommender_desired_replicas", "hpa_engine_recommender_current_replicas", "hpa_engine_recommender_metric_proposal_replicas",
		"hpa_engine_recommender_recommended_replicas", "hpa_engine_recommender_limit_info",
	} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n != 1 {
			t.Errorf("%s: %d series after web vanished (%v), want api's only", name, n, err)
		}
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.observeTarget("ns", KindHPA, "x", Recommendation{}, nil)
	m.forgetMetric("ns", KindHPA, "x", "pods/rps")
	m.forgetTarget("ns", KindHPA, "x")
	m.targetError(ReasonFailedGetScale)
	m.sourceCallDone("custom", nil)
	m.cycleDone(0, 0, 0, t0)
	// And a nil registerer registers nothing but works.
	NewMetrics(nil).targetError(ReasonFailedGetScale)
}

func TestLimitReason(t *testing.T) {
	tests := []struct {
		name  string
		steps []recommender.Step
		want  string
	}{
		{name: "no steps", want: LimitNone},
		{name: "hold only", steps: []recommender.Step{{Kind: recommender.StepHold, From: 3, To: 3}}, want: LimitNone},
		{
			name:  "stabilized",
			steps: []recommender.Step{{Kind: recommender.StepStabilized, From: 2, To: 5, Reason: "ScaleDownStabilized"}},
			want:  "ScaleDownStabilized",
		},
		{
			name: "a policy after stabilization wins",
			steps: []recommender.Step{
				{Kind: recommender.StepStabilized, From: 9, To: 8, Reason: "ScaleUpStabilized"},
				{Kind: recommender.StepLimited, From: 8, To: 6, Reason: "ScaleUpLimit"},
			},
			want: "ScaleUpLimit",
		},
		{
			name: "a step that changed nothing does not count",
			steps: []recommender.Step{
				{Kind: recommender.StepLimited, From: 8, To: 10, Reason: "TooFewReplicas"},
				{Kind: recommender.StepStabilized, From: 10, To: 10, Reason: "ScaleUpStabilized"},
			},
			want: "TooFewReplicas",
		},
		{name: "above max has no reason: its kind", steps: []recommender.Step{{Kind: recommender.StepAboveMax, From: 12, To: 10}}, want: "CurrentAboveMax"},
		{name: "from zero", steps: []recommender.Step{{Kind: recommender.StepFromZeroMin, From: 1, To: 2}}, want: "FromZeroMinReplicas"},
		{name: "scaling disabled", steps: []recommender.Step{{Kind: recommender.StepScalingDisabled, Reason: "ScalingDisabled"}}, want: "ScalingDisabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := limitReason(tt.steps); got != tt.want {
				t.Errorf("limitReason = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLimitInfoOneSeriesPerTarget checks that a target's reason replaces the
// previous one rather than adding a series.
func TestLimitInfoOneSeriesPerTarget(t *testing.T) {
	reg := newRegistry()
	m := NewMetrics(reg)
	limited := Recommendation{Result: recommender.Result{
		CurrentReplicas: 2, DesiredReplicas: 4, MetricDesiredReplicas: 9,
		Proposals: []recommender.Proposal{{Replicas: 9}},
		Steps:     []recommender.Step{{Kind: recommender.StepLimited, From: 9, To: 4, Reason: "ScaleUpLimit"}},
	}}
	m.observeTarget("ns", KindAutoscaler, "web", limited, []string{"pods/rps"})
	free := limited
	free.Result.Steps = nil
	m.observeTarget("ns", KindAutoscaler, "web", free, []string{"pods/rps"})
	want := `
# HELP hpa_engine_recommender_limit_info 1 for what last held a target's desired replicas away from its metrics' recommendation in the last cycle, by reason (ScaleUpStabilized, ScaleDownStabilized, TooManyReplicas, TooFewReplicas, ScaleUpLimit, ScaleDownLimit, CurrentAboveMax, CurrentBelowMin, FromZeroMinReplicas, ScalingDisabled) or None.
# TYPE hpa_engine_recommender_limit_info gauge
hpa_engine_recommender_limit_info{kind="Autoscaler",name="web",namespace="ns",reason="None"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "hpa_engine_recommender_limit_info"); err != nil {
		t.Error(err)
	}
	// Without a valid proposal there is no recommendation to show.
	failed := free
	failed.Result.Proposals = []recommender.Proposal{{Error: "no data"}}
	m.observeTarget("ns", KindAutoscaler, "web", failed, []string{"pods/rps"})
	if n, err := testutil.GatherAndCount(reg, "hpa_engine_recommender_recommended_replicas"); err != nil || n != 0 {
		t.Errorf("recommended series = %d (%v), want 0 when every proposal failed", n, err)
	}
}
