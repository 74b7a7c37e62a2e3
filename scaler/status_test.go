package scaler

import (
	"context"
	"errors"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clienttesting "k8s.io/client-go/testing"

	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

func TestSameStatus(t *testing.T) {
	base := v1alpha1.AutoscalerStatus{
		CurrentReplicas: 3,
		DesiredReplicas: 3,
		LastScaleTime:   &metav1.Time{Time: t0},
		Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{
			{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "ReadyForNewScale", LastTransitionTime: metav1.Time{Time: t0}},
		},
		History: &v1alpha1.AutoscalerHistory{Recommendations: []v1alpha1.TimestampedRecommendation{{Replicas: 3, Timestamp: metav1.MicroTime{Time: t0.Add(time.Microsecond)}}}},
	}
	tests := []struct {
		name string
		edit func(s *v1alpha1.AutoscalerStatus)
		same bool
	}{
		{name: "identical", edit: func(*v1alpha1.AutoscalerStatus) {}, same: true},
		{name: "nanoseconds the API does not keep", edit: func(s *v1alpha1.AutoscalerStatus) {
			s.LastScaleTime = &metav1.Time{Time: t0.Add(300 * time.Millisecond)}
			s.History.Recommendations[0].Timestamp = metav1.MicroTime{Time: t0.Add(time.Microsecond + 999)}
		}, same: true},
		{name: "a recommendation a microsecond later", edit: func(s *v1alpha1.AutoscalerStatus) {
			s.History.Recommendations[0].Timestamp = metav1.MicroTime{Time: t0.Add(2 * time.Microsecond)}
		}},
		{name: "a condition message", edit: func(s *v1alpha1.AutoscalerStatus) { s.Conditions[0].Message = "x" }},
		{name: "desired replicas", edit: func(s *v1alpha1.AutoscalerStatus) { s.DesiredReplicas = 4 }},
		{name: "explanation", edit: func(s *v1alpha1.AutoscalerStatus) { s.LastExplanation = &v1alpha1.Explanation{MetricIndex: -1} }},
		{name: "history dropped", edit: func(s *v1alpha1.AutoscalerStatus) { s.History = nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next := base.DeepCopy()
			tc.edit(next)
			same, err := sameStatus(&base, next)
			if err != nil {
				t.Fatal(err)
			}
			if same != tc.same {
				t.Errorf("sameStatus = %v, want %v", same, tc.same)
			}
		})
	}
}

// TestStatusWrittenOnlyWhenChanged applies the same state twice: the second
// time nothing is written.
func TestStatusWrittenOnlyWhenChanged(t *testing.T) {
	tests := []struct {
		name string
		edit func(a *v1alpha1.Autoscaler)
	}{
		{name: "paused", edit: func(a *v1alpha1.Autoscaler) { a.Spec.Paused = true }},
		{name: "same recommendation", edit: func(*v1alpha1.Autoscaler) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAutoscaler("web", deployRef("web"))
			tc.edit(a)
			e := newEnv(t, a)
			e.scales.set("deployments.apps", "web", 3)
			rec := recFor(a, result(1, 3, 3, true, t0), t0)
			for i, want := range []bool{true, false} {
				e.now = t0.Add(time.Duration(i+1) * time.Second)
				out, err := e.s.Apply(context.Background(), e.read("web"), rec, true)
				if err != nil {
					t.Fatal(err)
				}
				if out.StatusWritten != want {
					t.Errorf("apply %d: status written %v, want %v", i, out.StatusWritten, want)
				}
			}
			if n := e.statusUpdates(); n != 1 {
				t.Errorf("%d status updates, want 1", n)
			}
		})
	}
}

// TestStatusConflictAndRetry: a conflicting status update is retried on a
// fresh read; a failed one is kept and written at the next sync, scale
// event included, without scaling again.
func TestStatusConflictAndRetry(t *testing.T) {
	a := newAutoscaler("web", deployRef("web"))
	a.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{pods(10, 60)}}}
	e := newEnv(t, a)
	e.scales.set("deployments.apps", "web", 2)
	failures := 0
	e.dyn.PrependReactor("update", "autoscalers", func(act clienttesting.Action) (bool, runtime.Object, error) {
		if act.GetSubresource() != "status" || failures >= 6 {
			return false, nil, nil
		}
		failures++
		if failures == 1 {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Group: v1alpha1.GroupName, Resource: "autoscalers"}, "web", errors.New("modified"))
		}
		return true, nil, apierrors.NewServiceUnavailable("etcd is sad")
	})
	e.now = t0.Add(time.Second)
	rec := recFor(a, result(1, 2, 5, true, t0), t0)
	e.store.Put(rec)
	out, err := e.s.Apply(context.Background(), e.read("web"), rec, true)
	if err == nil || out.Action != ActionRescaled || out.StatusWritten {
		t.Fatalf("Apply = %+v, %v; want a rescale whose status write failed", out, err)
	}
	if e.scales.get("deployments.apps", "web") != 5 {
		t.Fatalf("replicas = %d, want 5", e.scales.get("deployments.apps", "web"))
	}
	for range 5 {
		e.s.Sync(context.Background())
	}
	st := e.read("web").Status
	if st.DesiredReplicas != 5 || st.History == nil || len(st.History.ScaleUpEvents) != 1 {
		t.Errorf("status after retries = %+v, want desired 5 with the scale event", st)
	}
	if e.scales.updates != 1 {
		t.Errorf("%d scale updates, want 1", e.scales.updates)
	}
	// A later cycle computed from a status that lacks the event (a lagging
	// cache) keeps the event this leader recorded.
	e.now = t0.Add(16 * time.Second)
	next := recFor(a, result(1, 5, 5, true, t0.Add(15*time.Second)), t0.Add(15*time.Second))
	if _, err := e.s.Apply(context.Background(), e.read("web"), next, true); err != nil {
		t.Fatal(err)
	}
	if h := e.read("web").Status.History; h == nil || len(h.ScaleUpEvents) != 1 {
		t.Errorf("history after the next cycle = %+v, want the scale event kept", h)
	}
}

func TestNewRejectsMissingDeps(t *testing.T) {
	if _, err := New(Config{}, Deps{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New with no deps = %v, want ErrInvalidConfig", err)
	}
}
