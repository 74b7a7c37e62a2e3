package loop

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
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
# HELP hpa_engine_recommender_queries_per_cycle Metric source calls (custom, external and resource metrics) the last cycle made after batching.
# TYPE hpa_engine_recommender_queries_per_cycle gauge
hpa_engine_recommender_queries_per_cycle 2
# HELP hpa_engine_recommender_target_errors_total Targets for which a cycle could not compute a usable recommendation, by reason.
# TYPE hpa_engine_recommender_target_errors_total counter
hpa_engine_recommender_target_errors_total{reason="FailedComputeReplicas"} 1
`
	names := []string{
		"hpa_engine_recommender_current_replicas", "hpa_engine_recommender_desired_replicas",
		"hpa_engine_recommender_metric_proposal_replicas", "hpa_engine_recommender_queries_per_cycle",
		"hpa_engine_recommender_target_errors_total",
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
	for _, name := range []string{"hpa_engine_recommender_desired_replicas", "hpa_engine_recommender_current_replicas", "hpa_engine_recommender_metric_proposal_replicas"} {
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
