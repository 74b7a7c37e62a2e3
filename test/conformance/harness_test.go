package conformance

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// These tests cover the harness itself; the differential test is
// TestConformance (build tag conformance, run by run.sh).

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

func TestGenerateIsReproducible(t *testing.T) {
	for i := range 50 {
		a, b := mustJSON(t, Generate(7, i)), mustJSON(t, Generate(7, i))
		if a != b {
			t.Fatalf("scenario %d differs between two generations", i)
		}
		if a == mustJSON(t, Generate(8, i)) {
			t.Errorf("scenario %d is the same under seeds 7 and 8", i)
		}
	}
}

// TestGenerateKeepsClockComparisonsOffBoundaries checks the property the
// comparison with upstream's real clock relies on: every time upstream
// compares with time.Now() lies whole seconds plus half a second before now.
func TestGenerateKeepsClockComparisonsOffBoundaries(t *testing.T) {
	offBoundary := func(now, ts time.Time) bool {
		return now.Sub(ts)%time.Second == 500*time.Millisecond
	}
	for i := range 500 {
		in := Generate(1, i)
		for _, p := range in.Target.Pods {
			if p.StartTime != nil && !offBoundary(in.Now, *p.StartTime) {
				t.Fatalf("scenario %d: pod %s starts at %s", i, p.Name, rel(in.Now, *p.StartTime))
			}
		}
		for _, r := range in.History.Recommendations {
			if !offBoundary(in.Now, r.Timestamp) {
				t.Fatalf("scenario %d: recommendation at %s", i, rel(in.Now, r.Timestamp))
			}
		}
		for _, e := range append(append([]recommender.ScaleEvent(nil), in.History.ScaleUpEvents...), in.History.ScaleDownEvents...) {
			if !offBoundary(in.Now, e.Timestamp) {
				t.Fatalf("scenario %d: scale event at %s", i, rel(in.Now, e.Timestamp))
			}
		}
		if len(in.Observations) != len(HPAFor(in).Spec.Metrics) {
			t.Fatalf("scenario %d: %d observations for %d metrics", i, len(in.Observations), len(HPAFor(in).Spec.Metrics))
		}
	}
}

func TestRebaseMovesEveryTime(t *testing.T) {
	in := Generate(3, 11)
	for i := 0; len(in.Target.Pods) == 0 || len(in.History.Recommendations) == 0; i++ {
		in = Generate(3, 12+i)
	}
	const d = 90 * time.Minute
	out := Rebase(in, d)
	if got := out.Now.Sub(in.Now); got != d {
		t.Errorf("now moved by %s, want %s", got, d)
	}
	if got := out.History.Recommendations[0].Timestamp.Sub(in.History.Recommendations[0].Timestamp); got != d {
		t.Errorf("recommendation moved by %s, want %s", got, d)
	}
	for j, p := range in.Target.Pods {
		if p.StartTime != nil {
			if got := out.Target.Pods[j].StartTime.Sub(*p.StartTime); got != d {
				t.Errorf("pod %s start moved by %s, want %s", p.Name, got, d)
			}
		}
	}
	if mustJSON(t, Rebase(out, -d)) != mustJSON(t, in) {
		t.Errorf("rebasing back does not give the input")
	}
	if Render(in) != Render(out) {
		t.Errorf("rendering depends on the base time:\n%s\n---\n%s", Render(in), Render(out))
	}
}

func TestDiff(t *testing.T) {
	now := BaseNow
	cond := func(typ autoscalingv2.HorizontalPodAutoscalerConditionType, status corev1.ConditionStatus, reason, msg string, at time.Time) autoscalingv2.HorizontalPodAutoscalerCondition {
		return autoscalingv2.HorizontalPodAutoscalerCondition{Type: typ, Status: status, Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(at)}
	}
	base := func() Outcome {
		return Outcome{
			Rescale: true, Desired: 4,
			Status: autoscalingv2.HorizontalPodAutoscalerStatus{
				CurrentReplicas: 2, DesiredReplicas: 4,
				Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{
					cond(autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededRescale", "scaled", now),
					cond(autoscalingv2.ScalingActive, corev1.ConditionFalse, "FailedGetResourceMetric", "missing request for cpu in container app of Pod pod-1", now),
				},
			},
			History: recommender.History{Recommendations: []recommender.TimestampedRecommendation{{Replicas: 4, Timestamp: now}}},
		}
	}
	tests := []struct {
		name     string
		edit     func(o *Outcome)
		fields   []string
		critical bool
	}{
		{name: "identical", edit: func(*Outcome) {}},
		{name: "desired replicas", edit: func(o *Outcome) { o.Desired = 5 }, fields: []string{"desiredReplicas (scale)"}, critical: true},
		{name: "condition reason", edit: func(o *Outcome) { o.Status.Conditions[0].Reason = "ReadyForNewScale" }, fields: []string{"status.conditions"}, critical: true},
		{name: "condition order", edit: func(o *Outcome) {
			c := o.Status.Conditions
			c[0], c[1] = c[1], c[0]
		}, fields: []string{"status.conditions"}, critical: true},
		{name: "message", edit: func(o *Outcome) { o.Status.Conditions[0].Message = "other" }, fields: []string{"status.conditions[AbleToScale].message"}},
		{name: "message naming another pod", edit: func(o *Outcome) {
			o.Status.Conditions[1].Message = "container app not found in Pod pod-7"
		}},
		{name: "transition time within clock slack", edit: func(o *Outcome) {
			o.Status.Conditions[0].LastTransitionTime = metav1.NewTime(now.Add(clockSlack / 2))
		}},
		{name: "transition time beyond clock slack", edit: func(o *Outcome) {
			o.Status.Conditions[0].LastTransitionTime = metav1.NewTime(now.Add(-time.Second))
		}, fields: []string{"status.conditions[AbleToScale].lastTransitionTime"}},
		{name: "history value", edit: func(o *Outcome) { o.History.Recommendations[0].Replicas = 3 }, fields: []string{"history.recommendations"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ours := base()
			tt.edit(&ours)
			ds := Diff(base(), ours, now)
			var fields []string
			critical := false
			for _, d := range ds {
				fields = append(fields, d.Field)
				critical = critical || d.Critical
			}
			if strings.Join(fields, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("fields = %v, want %v", fields, tt.fields)
			}
			if critical != tt.critical {
				t.Errorf("critical = %v, want %v", critical, tt.critical)
			}
		})
	}
}

func TestShrinkKeepsTheFailure(t *testing.T) {
	in := Generate(5, 0)
	for i := 1; len(in.Target.Pods) < 4; i++ {
		in = Generate(5, i)
	}
	culprit := in.Target.Pods[2].Name
	fails := func(c recommender.Input) bool {
		for _, p := range c.Target.Pods {
			if p.Name == culprit {
				return true
			}
		}
		return false
	}
	out := Shrink(in, fails)
	if !fails(out) {
		t.Fatalf("shrunk scenario no longer fails")
	}
	if len(out.Target.Pods) != 1 {
		t.Errorf("shrunk to %d pods, want 1", len(out.Target.Pods))
	}
	if len(Render(out)) >= len(Render(in)) {
		t.Errorf("shrinking did not make the scenario smaller")
	}
}

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestRenderGolden pins the readable form mismatches are reported in.
func TestRenderGolden(t *testing.T) {
	for _, i := range []int{3, 8} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			got := Render(Generate(42, i))
			path := filepath.Join("testdata", fmt.Sprintf("render-42-%d.golden", i))
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("Render differs from %s:\n%s", path, got)
			}
		})
	}
}

func TestWithAPIStatusTimesTruncatesToSeconds(t *testing.T) {
	in := Generate(1, 0)
	at := metav1.NewTime(BaseNow.Add(-1500 * time.Millisecond))
	in.Status.LastScaleTime = &at
	in.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.AbleToScale, LastTransitionTime: at}}
	out := WithAPIStatusTimes(in)
	want := BaseNow.Add(-2 * time.Second)
	if !out.Status.LastScaleTime.Time.Equal(want) || !out.Status.Conditions[0].LastTransitionTime.Time.Equal(want) {
		t.Errorf("status times = %s, %s; want %s", out.Status.LastScaleTime, out.Status.Conditions[0].LastTransitionTime, want)
	}
	if !in.Status.LastScaleTime.Time.Equal(at.Time) {
		t.Errorf("the input was modified")
	}
}
