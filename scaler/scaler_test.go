package scaler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/hpa-engine/hpa-engine/recommender/loop"
	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

func pods(n int32, period int32) autoscalingv2.HPAScalingPolicy {
	return autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PodsScalingPolicy, Value: n, PeriodSeconds: period}
}

func TestApply(t *testing.T) {
	behavior := &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleUp:   &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{pods(10, 60)}},
		ScaleDown: &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{pods(10, 60)}},
	}
	widget := autoscalingv2.CrossVersionObjectReference{APIVersion: "example.com/v1", Kind: "Widget", Name: "w"}
	sts := autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "db"}
	tests := []struct {
		name   string
		ref    autoscalingv2.CrossVersionObjectReference
		edit   func(a *v1alpha1.Autoscaler)
		scale  int32 // the target's replicas; 0 means the target does not exist
		rec    func(a *v1alpha1.Autoscaler) loop.Recommendation
		noRec  bool
		setup  func(f *fakeScales)
		action Action
		// wantErr is checked with errors.Is when set, and err must be nil
		// otherwise.
		wantErr       bool
		wantReplicas  int32
		wantUpdates   int
		wantGets      int
		wantStatus    bool
		wantEvents    []string
		check         func(t *testing.T, st v1alpha1.AutoscalerStatus)
		wantUpEvents  int
		wantDownEvent int
	}{
		{
			name: "scale up a deployment", scale: 2,
			rec:    func(a *v1alpha1.Autoscaler) loop.Recommendation { return recFor(a, result(1, 2, 5, true, t0), t0) },
			action: ActionRescaled, wantReplicas: 5, wantUpdates: 1, wantGets: 1, wantStatus: true,
			wantEvents: []string{"Normal SuccessfulRescale New size: 5; reason: external metric qps above target"},
			check: func(t *testing.T, st v1alpha1.AutoscalerStatus) {
				if st.DesiredReplicas != 5 || st.CurrentReplicas != 2 {
					t.Errorf("current/desired = %d/%d, want 2/5", st.CurrentReplicas, st.DesiredReplicas)
				}
				if st.LastScaleTime == nil || !st.LastScaleTime.Time.Equal(t0.Add(time.Second)) {
					t.Errorf("lastScaleTime = %v, want %v", st.LastScaleTime, t0.Add(time.Second))
				}
				if c := condition(st, autoscalingv2.AbleToScale); c.Reason != "SucceededRescale" {
					t.Errorf("AbleToScale reason %q, want SucceededRescale", c.Reason)
				}
				if st.LastExplanation == nil || st.LastExplanation.Message != "external metric qps above target" || !st.LastExplanation.Rescale {
					t.Errorf("lastExplanation = %+v", st.LastExplanation)
				}
				if st.LastRecommendationTime == nil || !st.LastRecommendationTime.Time.Equal(t0) {
					t.Errorf("lastRecommendationTime = %v, want %v", st.LastRecommendationTime, t0)
				}
			},
			wantUpEvents: 1,
		},
		{
			name: "scale down a statefulset", ref: sts, scale: 8,
			rec:    func(a *v1alpha1.Autoscaler) loop.Recommendation { return recFor(a, result(1, 8, 3, true, t0), t0) },
			action: ActionRescaled, wantReplicas: 3, wantUpdates: 1, wantGets: 1, wantStatus: true,
			wantEvents:    []string{"Normal SuccessfulRescale New size: 3; reason: external metric qps above target"},
			wantDownEvent: 1,
		},
		{
			name: "scale a custom resource with /scale", ref: widget, scale: 1,
			rec:    func(a *v1alpha1.Autoscaler) loop.Recommendation { return recFor(a, result(1, 1, 4, true, t0), t0) },
			action: ActionRescaled, wantReplicas: 4, wantUpdates: 1, wantGets: 1, wantStatus: true,
			wantEvents:   []string{"Normal SuccessfulRescale New size: 4; reason: external metric qps above target"},
			wantUpEvents: 1,
		},
		{
			name: "conflicts are retried with a fresh read", scale: 2,
			setup:  func(f *fakeScales) { f.conflicts = 2 },
			rec:    func(a *v1alpha1.Autoscaler) loop.Recommendation { return recFor(a, result(1, 2, 5, true, t0), t0) },
			action: ActionRescaled, wantReplicas: 5, wantUpdates: 3, wantGets: 3, wantStatus: true,
			wantEvents:   []string{"Normal SuccessfulRescale New size: 5; reason: external metric qps above target"},
			wantUpEvents: 1,
		},
		{
			name: "conflicts past the retries: FailedRescale", scale: 2,
			setup:  func(f *fakeScales) { f.conflicts = 100 },
			rec:    func(a *v1alpha1.Autoscaler) loop.Recommendation { return recFor(a, result(1, 2, 5, true, t0), t0) },
			action: ActionFailed, wantErr: true, wantReplicas: 2, wantUpdates: 5, wantGets: 6, wantStatus: true,
			wantEvents: []string{"Warning FailedRescale New size: 5; reason: external metric qps above target; error: Operation cannot be fulfilled"},
			check: func(t *testing.T, st v1alpha1.AutoscalerStatus) {
				if c := condition(st, autoscalingv2.AbleToScale); c.Reason != ReasonFailedUpdateScale {
					t.Errorf("AbleToScale = %+v, want FailedUpdateScale", c)
				}
			},
		},
		{
			name: "a conflict from somebody else's scale stops without status", scale: 2,
			setup:  func(f *fakeScales) { f.conflicts, f.bumpTo = 1, 7 },
			rec:    func(a *v1alpha1.Autoscaler) loop.Recommendation { return recFor(a, result(1, 2, 5, true, t0), t0) },
			action: ActionNone, wantReplicas: 7, wantUpdates: 1, wantGets: 2,
		},
		{
			name: "target already at another count (applied by a previous leader)", scale: 5,
			rec:    func(a *v1alpha1.Autoscaler) loop.Recommendation { return recFor(a, result(1, 2, 5, true, t0), t0) },
			action: ActionNone, wantReplicas: 5, wantGets: 1,
		},
		{
			name: "dry run records the would-be scale and never touches it", scale: 2,
			edit:   func(a *v1alpha1.Autoscaler) { a.Spec.DryRun = true },
			rec:    func(a *v1alpha1.Autoscaler) loop.Recommendation { return recFor(a, result(1, 2, 5, true, t0), t0) },
			action: ActionDryRun, wantReplicas: 2, wantStatus: true,
			wantEvents: []string{"Normal DryRunRescale New size: 5; reason: external metric qps above target; dry run, the scale was not changed"},
			check: func(t *testing.T, st v1alpha1.AutoscalerStatus) {
				if st.DesiredReplicas != 5 {
					t.Errorf("desired = %d, want the would-be 5", st.DesiredReplicas)
				}
				if st.LastScaleTime != nil {
					t.Errorf("lastScaleTime = %v, want unset", st.LastScaleTime)
				}
				c := condition(st, autoscalingv2.AbleToScale)
				if c.Status != corev1.ConditionTrue || c.Reason != ReasonDryRunRescale || !strings.Contains(c.Message, "from 2 to 5") {
					t.Errorf("AbleToScale = %+v", c)
				}
			},
		},
		{
			name: "paused applies nothing and says so", scale: 2,
			edit:   func(a *v1alpha1.Autoscaler) { a.Spec.Paused = true },
			rec:    func(a *v1alpha1.Autoscaler) loop.Recommendation { return recFor(a, result(1, 2, 5, true, t0), t0) },
			action: ActionPaused, wantReplicas: 2, wantStatus: true,
			check: func(t *testing.T, st v1alpha1.AutoscalerStatus) {
				c := condition(st, autoscalingv2.AbleToScale)
				if c.Status != corev1.ConditionFalse || c.Reason != ReasonScalingPaused {
					t.Errorf("AbleToScale = %+v, want False/%s", c, ReasonScalingPaused)
				}
				if st.DesiredReplicas != 0 || st.History != nil {
					t.Errorf("paused status took the recommendation: desired %d, history %+v", st.DesiredReplicas, st.History)
				}
			},
		},
		{
			name: "stale recommendation does nothing", scale: 2,
			rec: func(a *v1alpha1.Autoscaler) loop.Recommendation {
				return recFor(a, result(1, 2, 5, true, t0.Add(-40*time.Second)), t0.Add(-40*time.Second))
			},
			action: ActionNone, wantReplicas: 2,
		},
		{
			name: "no recommendation does nothing", scale: 2, noRec: true,
			action: ActionNone, wantReplicas: 2,
		},
		{
			name: "recommendation for an older spec does nothing", scale: 2,
			edit:   func(a *v1alpha1.Autoscaler) { a.Generation = 2 },
			rec:    func(a *v1alpha1.Autoscaler) loop.Recommendation { return recFor(a, result(1, 2, 5, true, t0), t0) },
			action: ActionNone, wantReplicas: 2,
		},
		{
			name: "recommendation for another target does nothing", scale: 2,
			rec: func(a *v1alpha1.Autoscaler) loop.Recommendation {
				r := recFor(a, result(1, 2, 5, true, t0), t0)
				r.ScaleTargetRef.Name = "other"
				return r
			},
			action: ActionNone, wantReplicas: 2,
		},
		{
			name: "invalid observations hold and say why", scale: 2,
			rec: func(a *v1alpha1.Autoscaler) loop.Recommendation {
				res := result(1, 2, 2, false, t0)
				res.Rescale = true // even a result asking to rescale is not applied
				res.DesiredReplicas = 5
				return recFor(a, res, t0)
			},
			action: ActionHold, wantReplicas: 2, wantStatus: true,
			wantEvents: []string{
				"Warning FailedGetExternalMetric unable to get external metric ns/qps",
				"Warning FailedComputeMetricsReplicas invalid metrics (1 invalid out of 1), first error is: unable to get external metric ns/qps",
			},
			check: func(t *testing.T, st v1alpha1.AutoscalerStatus) {
				if c := condition(st, autoscalingv2.ScalingActive); c.Status != corev1.ConditionFalse {
					t.Errorf("ScalingActive = %+v, want False", c)
				}
				if st.LastScaleTime != nil {
					t.Errorf("lastScaleTime = %v, want unset", st.LastScaleTime)
				}
			},
		},
		{
			name: "loop error holds with an event and a condition", scale: 2,
			rec: func(a *v1alpha1.Autoscaler) loop.Recommendation {
				return loop.Recommendation{Namespace: ns, Kind: loop.KindAutoscaler, Name: a.Name, ScaleTargetRef: a.Spec.ScaleTargetRef, ComputedAt: t0, Error: "unable to list the pods"}
			},
			action: ActionHold, wantReplicas: 2, wantStatus: true,
			wantEvents: []string{"Warning FailedGetRecommendation unable to list the pods"},
			check: func(t *testing.T, st v1alpha1.AutoscalerStatus) {
				if c := condition(st, autoscalingv2.ScalingActive); c.Status != corev1.ConditionFalse || c.Reason != ReasonFailedGetRecommendation {
					t.Errorf("ScalingActive = %+v", c)
				}
			},
		},
		{
			name: "hold writes the status without touching the scale", scale: 3,
			rec:    func(a *v1alpha1.Autoscaler) loop.Recommendation { return recFor(a, result(1, 3, 3, true, t0), t0) },
			action: ActionHold, wantReplicas: 3, wantStatus: true,
			check: func(t *testing.T, st v1alpha1.AutoscalerStatus) {
				if st.History == nil || len(st.History.Recommendations) != 1 {
					t.Errorf("history = %+v, want the cycle's recommendation", st.History)
				}
			},
		},
		{
			name: "missing target: FailedGetScale", scale: 0,
			rec:    func(a *v1alpha1.Autoscaler) loop.Recommendation { return recFor(a, result(1, 2, 5, true, t0), t0) },
			action: ActionFailed, wantErr: true, wantGets: 1, wantStatus: true,
			wantEvents: []string{"Warning FailedGetScale deployments.apps \"web\" not found"},
			check: func(t *testing.T, st v1alpha1.AutoscalerStatus) {
				c := condition(st, autoscalingv2.AbleToScale)
				if c.Status != corev1.ConditionFalse || c.Reason != ReasonFailedGetScale || !strings.HasPrefix(c.Message, "the HPA controller was unable to get the target's current scale: ") {
					t.Errorf("AbleToScale = %+v", c)
				}
				if st.LastScaleTime != nil || st.DesiredReplicas != 0 {
					t.Errorf("failed rescale recorded: lastScaleTime %v desired %d", st.LastScaleTime, st.DesiredReplicas)
				}
			},
		},
		{
			name: "unknown kind: FailedGetScale", ref: autoscalingv2.CrossVersionObjectReference{APIVersion: "example.com/v1", Kind: "Gadget", Name: "g"}, scale: 2,
			rec:    func(a *v1alpha1.Autoscaler) loop.Recommendation { return recFor(a, result(1, 2, 5, true, t0), t0) },
			action: ActionFailed, wantErr: true, wantStatus: true,
			wantEvents: []string{"Warning FailedGetScale unable to determine resource for scale target reference"},
		},
		{
			name: "update refused: FailedRescale", scale: 2,
			setup: func(f *fakeScales) {
				f.updateErr = apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web", errors.New("no"))
			},
			rec:    func(a *v1alpha1.Autoscaler) loop.Recommendation { return recFor(a, result(1, 2, 5, true, t0), t0) },
			action: ActionFailed, wantErr: true, wantReplicas: 2, wantUpdates: 1, wantGets: 1, wantStatus: true,
			wantEvents: []string{"Warning FailedRescale New size: 5; reason: external metric qps above target; error: deployments.apps \"web\" is forbidden"},
			check: func(t *testing.T, st v1alpha1.AutoscalerStatus) {
				c := condition(st, autoscalingv2.AbleToScale)
				if c.Status != corev1.ConditionFalse || c.Reason != ReasonFailedUpdateScale || !strings.HasPrefix(c.Message, "the HPA controller was unable to update the target scale: ") {
					t.Errorf("AbleToScale = %+v", c)
				}
				if st.History == nil || len(st.History.ScaleUpEvents) != 0 {
					t.Errorf("history = %+v, want no scale event", st.History)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ref := tc.ref
			if ref.Kind == "" {
				ref = deployRef("web")
			}
			a := newAutoscaler("web", ref)
			a.Spec.Behavior = behavior
			if tc.edit != nil {
				tc.edit(a)
			}
			e := newEnv(t, a)
			e.now = t0.Add(time.Second)
			gr := map[string]string{"Deployment": "deployments.apps", "StatefulSet": "statefulsets.apps", "Widget": "widgets.example.com"}[ref.Kind]
			if tc.scale != 0 {
				e.scales.set(gr, ref.Name, tc.scale)
			}
			if tc.setup != nil {
				tc.setup(e.scales)
			}
			var rec loop.Recommendation
			if !tc.noRec {
				rec = tc.rec(a)
			}
			out, err := e.s.Apply(context.Background(), e.read("web"), rec, !tc.noRec)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Apply error = %v, want error %v", err, tc.wantErr)
			}
			if out.Action != tc.action {
				t.Errorf("action = %s (%s), want %s", out.Action, out.Why, tc.action)
			}
			if gr != "" && e.scales.get(gr, ref.Name) != tc.wantReplicas {
				t.Errorf("replicas = %d, want %d", e.scales.get(gr, ref.Name), tc.wantReplicas)
			}
			if e.scales.updates != tc.wantUpdates || e.scales.gets != tc.wantGets {
				t.Errorf("scale gets/updates = %d/%d, want %d/%d", e.scales.gets, e.scales.updates, tc.wantGets, tc.wantUpdates)
			}
			if out.StatusWritten != tc.wantStatus || (e.statusUpdates() == 1) != tc.wantStatus {
				t.Errorf("status written = %v (%d updates), want %v", out.StatusWritten, e.statusUpdates(), tc.wantStatus)
			}
			events := e.events()
			if len(events) != len(tc.wantEvents) {
				t.Fatalf("events = %q, want %q", events, tc.wantEvents)
			}
			for i, want := range tc.wantEvents {
				if !strings.HasPrefix(events[i], want) {
					t.Errorf("event %d = %q, want prefix %q", i, events[i], want)
				}
			}
			st := e.read("web").Status
			if tc.check != nil {
				tc.check(t, st)
			}
			var up, down int
			if st.History != nil {
				up, down = len(st.History.ScaleUpEvents), len(st.History.ScaleDownEvents)
			}
			if up != tc.wantUpEvents || down != tc.wantDownEvent {
				t.Errorf("scale events up/down in status = %d/%d, want %d/%d", up, down, tc.wantUpEvents, tc.wantDownEvent)
			}
		})
	}
}

// TestRun applies the store's recommendation once per computation, however
// often Run wakes up, and stops with its context.
func TestRun(t *testing.T) {
	a := newAutoscaler("web", deployRef("web"))
	e := newEnv(t, a)
	e.scales.set("deployments.apps", "web", 2)
	s, err := New(Config{Interval: 10 * time.Millisecond, StaleAfter: time.Hour}, e.s.deps)
	if err != nil {
		t.Fatal(err)
	}
	e.store.Put(recFor(a, result(1, 2, 5, true, t0), t0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for e.scales.get("deployments.apps", "web") != 5 {
		if time.Now().After(deadline) {
			t.Fatal("never rescaled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	<-done
	e.scales.mu.Lock()
	updates := e.scales.updates
	e.scales.mu.Unlock()
	if updates != 1 {
		t.Errorf("%d scale updates, want 1", updates)
	}
}

// TestSyncManyTargets: one sync rescales every Autoscaler with a fresh
// recommendation, workers in parallel, and leaves the others alone.
func TestSyncManyTargets(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f"}
	var objs []*v1alpha1.Autoscaler
	for _, n := range names {
		objs = append(objs, newAutoscaler(n, deployRef(n)))
	}
	e := newEnv(t, objs...)
	e.now = t0.Add(time.Second)
	for i, a := range objs {
		e.scales.set("deployments.apps", a.Spec.ScaleTargetRef.Name, 2)
		if i%2 == 0 {
			e.store.Put(recFor(a, result(1, 2, int32(3+i), true, t0), t0))
		}
	}
	e.s.Sync(context.Background())
	for i, a := range objs {
		want := int32(2)
		if i%2 == 0 {
			want = int32(3 + i)
		}
		if got := e.scales.get("deployments.apps", a.Spec.ScaleTargetRef.Name); got != want {
			t.Errorf("%s: replicas %d, want %d", a.Name, got, want)
		}
	}
	if n := e.statusUpdates(); n != 3 {
		t.Errorf("%d status updates, want 3", n)
	}
}
