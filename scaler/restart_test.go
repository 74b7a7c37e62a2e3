package scaler

import (
	"context"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/hpa-engine/hpa-engine/recommender"
	"github.com/hpa-engine/hpa-engine/recommender/loop"
	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

// restartAutoscaler scales a Deployment on an External metric, 10 per
// replica, up by at most 4 pods a minute, down by at most half a minute
// after a 300 s window.
func restartAutoscaler() *v1alpha1.Autoscaler {
	a := newAutoscaler("web", deployRef("web"))
	window := int32(300)
	a.Spec.Metrics = []autoscalingv2.MetricSpec{{
		Type: autoscalingv2.ExternalMetricSourceType,
		External: &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: "qps"},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: resource.NewQuantity(10, resource.DecimalSI)},
		},
	}}
	a.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleUp: &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{pods(4, 60)}},
		ScaleDown: &autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: &window,
			Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 50, PeriodSeconds: 60}},
		},
	}
	return a
}

// cycle is what the loop does for an Autoscaler: its history comes from its
// status (through the source's HistoryFromStatus), never from memory.
func cycle(t *testing.T, a *v1alpha1.Autoscaler, replicas int32, qps int64, now time.Time, history *recommender.History) loop.Recommendation {
	t.Helper()
	h := v1alpha1.HistoryFromStatus(&a.Status)
	if history != nil {
		h = *history
	}
	res, err := recommender.Recommend(recommender.Input{
		Namespace:    a.Namespace,
		Name:         a.Name,
		Generation:   a.Generation,
		Spec:         a.Spec.ToHPASpec(),
		Status:       a.Status.ToHPAStatus(),
		Target:       recommender.Target{SpecReplicas: replicas, StatusReplicas: replicas, Selector: "app=web"},
		Observations: []recommender.Observation{{Values: []int64{qps * 1000}, Timestamp: now}},
		History:      h,
		Now:          now,
	})
	if err != nil {
		t.Fatalf("Recommend: %v", err)
	}
	return recFor(a, res, now)
}

// TestRestartResumesFromStatus runs the scaler, replaces it by a new one
// (a restarted or failed-over controller: no memory), and checks that the
// history written to status keeps both the scale-up budget and the
// scale-down window that began before the restart.
func TestRestartResumesFromStatus(t *testing.T) {
	a := restartAutoscaler()
	e := newEnv(t, a)
	const gr = "deployments.apps"
	e.scales.set(gr, "web", 4)

	steps := []struct {
		name    string
		at      time.Duration
		qps     int64
		restart bool
		want    int32
		action  Action
	}{
		{name: "scale up by the policy's 4 pods", at: 0, qps: 80, want: 8, action: ActionRescaled},
		{name: "after a restart the minute's budget is spent", at: 15 * time.Second, qps: 200, restart: true, want: 8, action: ActionHold},
		{name: "load drops: the window holds", at: 30 * time.Second, qps: 20, want: 8, action: ActionHold},
		{name: "restart inside the window: still held", at: 200 * time.Second, qps: 20, restart: true, want: 8, action: ActionHold},
		{name: "window over: down by half", at: 340 * time.Second, qps: 20, want: 4, action: ActionRescaled},
	}
	for _, st := range steps {
		if st.restart {
			s, err := New(e.s.cfg, e.s.deps)
			if err != nil {
				t.Fatal(err)
			}
			e.s = s
		}
		now := t0.Add(st.at)
		e.now = now.Add(500 * time.Millisecond)
		cur := e.read("web")
		rec := cycle(t, cur, e.scales.get(gr, "web"), st.qps, now, nil)
		out, err := e.s.Apply(context.Background(), cur, rec, true)
		if err != nil {
			t.Fatalf("%s: Apply: %v", st.name, err)
		}
		if out.Action != st.action || e.scales.get(gr, "web") != st.want {
			t.Fatalf("%s: action %s (%s), replicas %d; want %s, %d\nexplanation:\n%s", st.name, out.Action, out.Why, e.scales.get(gr, "web"), st.action, st.want, rec.Result)
		}
		if !out.StatusWritten {
			t.Errorf("%s: status not written", st.name)
		}
	}

	// The control: a controller that lost the history (upstream) would
	// have spent the budget again at 15 s.
	cur := e.read("web")
	cur.Status.History = nil
	rec := cycle(t, cur, 8, 200, t0.Add(15*time.Second), &recommender.History{})
	if rec.Result.DesiredReplicas != 12 {
		t.Errorf("without history, desired = %d, want 12 (which the status history prevents)", rec.Result.DesiredReplicas)
	}
}

// TestHistoryRoundTrip checks that the history written after a rescale reads
// back as exactly the history plus the scale event, as the loop will see it:
// to the microsecond, the API's precision for MicroTime (the seed the
// recommender puts 1 ns before now reads back up to 1 µs earlier).
func TestHistoryRoundTrip(t *testing.T) {
	a := restartAutoscaler()
	e := newEnv(t, a)
	e.scales.set("deployments.apps", "web", 4)
	e.now = t0.Add(1500 * time.Microsecond)
	rec := cycle(t, e.read("web"), 4, 80, t0, nil)
	if _, err := e.s.Apply(context.Background(), e.read("web"), rec, true); err != nil {
		t.Fatal(err)
	}
	want := recommender.RecordScaleEvent(rec.Result.History, a.Spec.Behavior, 4, 8, e.now)
	got := v1alpha1.HistoryFromStatus(&e.read("web").Status)
	if !sameHistory(got, want) {
		t.Errorf("history read back = %+v, want %+v", got, want)
	}
	if len(got.ScaleUpEvents) != 1 || got.ScaleUpEvents[0].ReplicaChange != 4 {
		t.Errorf("scale-up events = %+v, want one of +4", got.ScaleUpEvents)
	}
}

// sameHistory compares a history read back (a) with the one written (b).
func sameHistory(a, b recommender.History) bool {
	if len(a.Recommendations) != len(b.Recommendations) || len(a.ScaleUpEvents) != len(b.ScaleUpEvents) || len(a.ScaleDownEvents) != len(b.ScaleDownEvents) {
		return false
	}
	for i := range a.Recommendations {
		if a.Recommendations[i].Replicas != b.Recommendations[i].Replicas || !a.Recommendations[i].Timestamp.Equal(b.Recommendations[i].Timestamp.Truncate(time.Microsecond)) {
			return false
		}
	}
	for _, p := range [][2][]recommender.ScaleEvent{{a.ScaleUpEvents, b.ScaleUpEvents}, {a.ScaleDownEvents, b.ScaleDownEvents}} {
		for i := range p[0] {
			x, y := p[0][i], p[1][i]
			if x.ReplicaChange != y.ReplicaChange || x.Outdated != y.Outdated || !x.Timestamp.Equal(y.Timestamp.Truncate(time.Microsecond)) {
				return false
			}
		}
	}
	return true
}

// TestSelectorEvents: the selector problems the algorithm reports become
// upstream's events, and nothing is scaled.
func TestSelectorEvents(t *testing.T) {
	tests := []struct {
		name      string
		selector  string
		others    []string
		wantEvent string
	}{
		{name: "missing", selector: "", wantEvent: "Warning SelectorRequired selector is required"},
		{name: "invalid", selector: "app in (", wantEvent: "Warning InvalidSelector couldn't convert selector into a corresponding internal selector object"},
		{name: "ambiguous", selector: "app=web", others: []string{"ns/web", "ns/other"}, wantEvent: "Warning AmbiguousSelector pods by selector app=web are controlled by more than one HPA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := restartAutoscaler()
			e := newEnv(t, a)
			e.scales.set("deployments.apps", "web", 4)
			e.now = t0.Add(time.Second)
			cur := e.read("web")
			res, err := recommender.Recommend(recommender.Input{
				Namespace: ns, Name: "web", Generation: cur.Generation,
				Spec: cur.Spec.ToHPASpec(), Status: cur.Status.ToHPAStatus(),
				Target:       recommender.Target{SpecReplicas: 4, StatusReplicas: 4, Selector: tc.selector, SelectingAutoscalers: tc.others},
				Observations: []recommender.Observation{{Values: []int64{80000}, Timestamp: t0}},
				Now:          t0,
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.s.Apply(context.Background(), cur, recFor(cur, res, t0), true)
			if err != nil || out.Action != ActionHold {
				t.Fatalf("Apply = %+v, %v; want a hold", out, err)
			}
			events := e.events()
			if len(events) != 1 || !strings.HasPrefix(events[0], tc.wantEvent) {
				t.Errorf("events = %q, want one starting %q", events, tc.wantEvent)
			}
			if e.scales.updates != 0 {
				t.Errorf("%d scale updates, want none", e.scales.updates)
			}
		})
	}
}

// TestStaleCacheCannotSpendABudgetTwice: a recommendation the loop computed
// from an Autoscaler read before the last rescale's status reached the cache
// lacks that scale event, so its policies would allow the period's budget
// again; the scaler holds it instead.
func TestStaleCacheCannotSpendABudgetTwice(t *testing.T) {
	a := restartAutoscaler()
	e := newEnv(t, a)
	const gr = "deployments.apps"
	e.scales.set(gr, "web", 4)
	stale := e.read("web")

	e.now = t0.Add(500 * time.Millisecond)
	out, err := e.s.Apply(context.Background(), stale, cycle(t, stale, 4, 80, t0, nil), true)
	if err != nil || out.Action != ActionRescaled || e.scales.get(gr, "web") != 8 {
		t.Fatalf("first rescale: %s (%s), %v, replicas %d; want rescaled to 8", out.Action, out.Why, err, e.scales.get(gr, "web"))
	}

	// One second later, computed from the same stale object: its history
	// has no scale event, so the policy would allow 8 -> 12.
	rec := cycle(t, stale, 8, 200, t0.Add(time.Second), nil)
	if rec.Result.DesiredReplicas != 12 {
		t.Fatalf("the stale recommendation desires %d, want 12 (the double spend this test guards against)", rec.Result.DesiredReplicas)
	}
	e.now = t0.Add(1500 * time.Millisecond)
	out, err = e.s.Apply(context.Background(), stale, rec, true)
	if err != nil || out.Action != ActionNone || e.scales.get(gr, "web") != 8 {
		t.Fatalf("stale recommendation: %s (%s), %v, replicas %d; want held at 8", out.Action, out.Why, err, e.scales.get(gr, "web"))
	}

	// From the status the first rescale wrote, the budget is spent: hold.
	fresh := e.read("web")
	e.now = t0.Add(2500 * time.Millisecond)
	out, err = e.s.Apply(context.Background(), fresh, cycle(t, fresh, 8, 200, t0.Add(2*time.Second), nil), true)
	if err != nil || out.Action != ActionHold || e.scales.get(gr, "web") != 8 {
		t.Fatalf("fresh recommendation: %s (%s), %v, replicas %d; want hold at 8", out.Action, out.Why, err, e.scales.get(gr, "web"))
	}
}
