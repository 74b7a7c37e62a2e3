package recommender

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition lists used by many cases, in upstream's order of first setting.
var (
	ableRescaled   = cond{autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededRescale"}
	ableReady      = cond{autoscalingv2.AbleToScale, corev1.ConditionTrue, "ReadyForNewScale"}
	ableGotScale   = cond{autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededGetScale"}
	ableDownStab   = cond{autoscalingv2.AbleToScale, corev1.ConditionTrue, "ScaleDownStabilized"}
	ableUpStab     = cond{autoscalingv2.AbleToScale, corev1.ConditionTrue, "ScaleUpStabilized"}
	activeValid    = cond{autoscalingv2.ScalingActive, corev1.ConditionTrue, "ValidMetricFound"}
	limitedNo      = cond{autoscalingv2.ScalingLimited, corev1.ConditionFalse, "DesiredWithinRange"}
	notScaledToZer = cond{autoscalingv2.ScaledToZero, corev1.ConditionFalse, "NotScaledToZero"}
)

func scaled(limited cond) []cond { return []cond{ableRescaled, activeValid, limited, notScaledToZer} }
func unchanged(able cond) []cond { return []cond{able, activeValid, limitedNo} }
func limitedTrue(reason string) cond {
	return cond{autoscalingv2.ScalingLimited, corev1.ConditionTrue, reason}
}

// oldHistory is a recommendation older than every window, so that the
// downscale stabilization does not hold a scale-down.
func oldHistory(replicas int) History {
	return History{Recommendations: recs(replicas, 10*time.Minute)}
}

func withHistory(in Input, h History) Input { in.History = h; return in }

func withBehavior(in Input, b *autoscalingv2.HorizontalPodAutoscalerBehavior) Input {
	in.Spec.Behavior = b
	return in
}

func withPods(in Input, p []Pod) Input { in.Target.Pods = p; return in }

func pending(p Pod) Pod { p.Phase = corev1.PodPending; p.Ready = nil; return p }

func TestRecommend(t *testing.T) {
	tests := []struct {
		name        string
		in          Input
		wantDesired int32
		wantRules   []Rule
		wantConds   []cond
		check       func(t *testing.T, r Result)
	}{
		// Tolerance.
		{
			name:        "within tolerance keeps current",
			in:          input(4, pods(4, "500m"), []autoscalingv2.MetricSpec{cpuUtilization(100)}, samplesFor(525, 525, 525, 525)),
			wantDesired: 4, wantRules: []Rule{RuleWithinTolerance}, wantConds: unchanged(ableReady),
		},
		{
			name:        "beyond tolerance scales up by ceil(ratio x ready)",
			in:          input(4, pods(4, "500m"), []autoscalingv2.MetricSpec{cpuUtilization(100)}, samplesFor(600, 600, 600, 600)),
			wantDesired: 5, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedNo),
			check: func(t *testing.T, r Result) {
				cur := r.Status.CurrentMetrics[0].Resource.Current
				if *cur.AverageUtilization != 120 || cur.AverageValue.MilliValue() != 600 {
					t.Errorf("current metric = %d%% %v, want 120%% 600m", *cur.AverageUtilization, cur.AverageValue)
				}
				if r.RescaleReason != "cpu resource utilization (percentage of request) above target" {
					t.Errorf("rescale reason = %q", r.RescaleReason)
				}
			},
		},
		{
			name:        "default tolerance scales down at ratio 0.85",
			in:          withHistory(input(10, pods(10, "500m"), []autoscalingv2.MetricSpec{cpuUtilization(100)}, samplesFor(425, 425, 425, 425, 425, 425, 425, 425, 425, 425)), oldHistory(10)),
			wantDesired: 9, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedNo),
		},
		{
			name: "scale-down tolerance from behavior keeps current at ratio 0.85",
			in: withBehavior(withHistory(input(10, pods(10, "500m"), []autoscalingv2.MetricSpec{cpuUtilization(100)}, samplesFor(425, 425, 425, 425, 425, 425, 425, 425, 425, 425)), oldHistory(10)),
				&autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{Tolerance: qty("0.2")}}),
			wantDesired: 10, wantRules: []Rule{RuleWithinTolerance}, wantConds: unchanged(ableReady),
		},
		{
			name: "scale-up tolerance from behavior keeps current at ratio 1.2",
			in: withBehavior(input(4, pods(4, "500m"), []autoscalingv2.MetricSpec{cpuUtilization(100)}, samplesFor(600, 600, 600, 600)),
				&autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{Tolerance: qty("0.25")}}),
			wantDesired: 4, wantRules: []Rule{RuleWithinTolerance}, wantConds: unchanged(ableReady),
		},

		// Missing pods.
		{
			name: "missing pods on scale-down of a Pods metric assume the target value",
			in: withHistory(input(4, pods(4, "500m"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")},
				samplesFor(2000, 2000, 2000)), oldHistory(4)),
			wantDesired: 2, wantRules: []Rule{RuleAdjustedRatio}, wantConds: scaled(limitedNo),
			check: func(t *testing.T, r Result) {
				p := r.Proposals[0]
				if p.Missing != MissingAtTarget || p.MissingPods != 1 || float64(*p.AdjustedRatio) != 0.4 {
					t.Errorf("proposal = %+v, want 1 missing pod at target, adjusted ratio 0.4", p)
				}
				if got := r.Status.CurrentMetrics[0].Pods.Current.AverageValue.MilliValue(); got != 2000 {
					t.Errorf("current average = %dm, want 2000m (before adjustment)", got)
				}
			},
		},
		{
			name: "missing pods on scale-down of a utilization metric assume 100% of request",
			in: withHistory(input(4, pods(4, "1"), []autoscalingv2.MetricSpec{cpuUtilization(50)},
				samplesFor(100, 100, 100)), oldHistory(4)),
			wantDesired: 3, wantRules: []Rule{RuleAdjustedRatio}, wantConds: scaled(limitedNo),
			check: func(t *testing.T, r Result) {
				if p := r.Proposals[0]; p.Missing != MissingAtRequest || float64(*p.AdjustedRatio) != 0.64 {
					t.Errorf("proposal = %+v, want missing at request, adjusted ratio 0.64", p)
				}
			},
		},
		{
			name: "missing pods on scale-down of a utilization metric above 100% assume the target",
			in: withHistory(input(4, pods(4, "1"), []autoscalingv2.MetricSpec{cpuUtilization(150)},
				samplesFor(100, 100, 100)), oldHistory(4)),
			wantDesired: 2, wantRules: []Rule{RuleAdjustedRatio}, wantConds: scaled(limitedNo),
			check: func(t *testing.T, r Result) {
				if p := r.Proposals[0]; float64(*p.AdjustedRatio) != 0.3 {
					t.Errorf("adjusted ratio = %v, want 0.3 (missing pods at 150%%)", *p.AdjustedRatio)
				}
			},
		},
		{
			name: "missing pods on scale-up count as zero",
			in: input(4, pods(4, "500m"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")},
				samplesFor(20000, 20000, 20000)),
			wantDesired: 6, wantRules: []Rule{RuleAdjustedRatio}, wantConds: scaled(limitedNo),
			check: func(t *testing.T, r Result) {
				if p := r.Proposals[0]; p.Missing != MissingAtZero || float64(*p.AdjustedRatio) != 1.5 {
					t.Errorf("proposal = %+v, want missing at zero, adjusted ratio 1.5", p)
				}
			},
		},

		// Unready pods.
		{
			name: "unready pods count as zero on scale-up",
			in: withPods(input(4, nil, []autoscalingv2.MetricSpec{cpuUtilization(50)}, samplesFor(500, 500)),
				[]Pod{runningPod("pod-0", "500m"), runningPod("pod-1", "500m"), pending(runningPod("pod-2", "500m")), pending(runningPod("pod-3", "500m"))}),
			wantDesired: 4, wantRules: []Rule{RuleAdjustedWithinTolerance}, wantConds: unchanged(ableReady),
			check: func(t *testing.T, r Result) {
				if p := r.Proposals[0]; !p.UnreadyAsZero || p.UnreadyPods != 2 || float64(p.UsageRatio) != 2 {
					t.Errorf("proposal = %+v, want 2 unready pods counted as zero, ratio 2", p)
				}
			},
		},
		{
			name: "unready pods are left out on scale-down",
			in: withHistory(withPods(input(4, nil, []autoscalingv2.MetricSpec{cpuUtilization(50)}, samplesFor(100, 100)),
				[]Pod{runningPod("pod-0", "500m"), runningPod("pod-1", "500m"), pending(runningPod("pod-2", "500m")), pending(runningPod("pod-3", "500m"))}), oldHistory(4)),
			wantDesired: 1, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedNo),
			check: func(t *testing.T, r Result) {
				if p := r.Proposals[0]; p.UnreadyAsZero || p.ReadyPods != 2 {
					t.Errorf("proposal = %+v, want 2 ready pods and no unready adjustment", p)
				}
			},
		},
		{
			name: "direction flip after filling in missing pods holds",
			in: withHistory(input(4, pods(4, "1"), []autoscalingv2.MetricSpec{cpuUtilization(50)},
				samplesFor(400, 400)), oldHistory(4)),
			wantDesired: 4, wantRules: []Rule{RuleDirectionFlip}, wantConds: unchanged(ableReady),
		},
		{
			name: "replica count pointing the other way holds",
			in: func() Input {
				in := withHistory(input(2, pods(4, "500m"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")},
					samplesFor(5000, 5000, 5000)), oldHistory(2))
				return in
			}(),
			wantDesired: 2, wantRules: []Rule{RuleCountFlip}, wantConds: unchanged(ableReady),
		},

		// CPU initialization period and initial readiness delay.
		{
			name: "cpu sample from before readiness plus window during initialization is unready",
			in: func() Input {
				young := runningPod("pod-1", "1")
				young.StartTime = ptr(ago(time.Minute))
				young.Ready.LastTransitionTime = ago(40 * time.Second)
				return withPods(input(2, nil, []autoscalingv2.MetricSpec{cpuUtilization(50)}, samplesFor(800, 800)),
					[]Pod{runningPod("pod-0", "1"), young})
			}(),
			wantDesired: 2, wantRules: []Rule{RuleDirectionFlip}, wantConds: unchanged(ableReady),
			check: func(t *testing.T, r Result) {
				if p := r.Proposals[0]; p.UnreadyPods != 1 {
					t.Errorf("unready pods = %d, want 1", p.UnreadyPods)
				}
			},
		},
		{
			name: "cpu sample covering a full window after readiness during initialization counts",
			in: func() Input {
				young := runningPod("pod-1", "1")
				young.StartTime = ptr(ago(3 * time.Minute))
				young.Ready.LastTransitionTime = ago(2 * time.Minute)
				return withPods(input(2, nil, []autoscalingv2.MetricSpec{cpuUtilization(50)}, samplesFor(800, 800)),
					[]Pod{runningPod("pod-0", "1"), young})
			}(),
			wantDesired: 4, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedNo),
		},
		{
			name: "cpu of a pod never ready within the initial readiness delay is unready",
			in: func() Input {
				p := runningPod("pod-1", "1")
				p.Ready = &PodReadyCondition{Status: corev1.ConditionFalse, LastTransitionTime: ago(10*time.Minute - 10*time.Second)}
				return withPods(input(2, nil, []autoscalingv2.MetricSpec{cpuUtilization(50)}, samplesFor(800, 800)),
					[]Pod{runningPod("pod-0", "1"), p})
			}(),
			wantDesired: 2, wantRules: []Rule{RuleDirectionFlip}, wantConds: unchanged(ableReady),
		},
		{
			name: "cpu of a pod that turned unready after the readiness delay counts",
			in: func() Input {
				p := runningPod("pod-1", "1")
				p.Ready = &PodReadyCondition{Status: corev1.ConditionFalse, LastTransitionTime: ago(5 * time.Minute)}
				return withPods(input(2, nil, []autoscalingv2.MetricSpec{cpuUtilization(50)}, samplesFor(800, 800)),
					[]Pod{runningPod("pod-0", "1"), p})
			}(),
			wantDesired: 4, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedNo),
		},
		{
			name: "readiness rules do not apply to non-cpu metrics",
			in: func() Input {
				p := runningPod("pod-1", "1")
				p.Ready = &PodReadyCondition{Status: corev1.ConditionFalse, LastTransitionTime: ago(10*time.Minute - 10*time.Second)}
				return withPods(input(2, nil, []autoscalingv2.MetricSpec{podsMetric("qps", "400m")}, samplesFor(800, 800)),
					[]Pod{runningPod("pod-0", "1"), p})
			}(),
			wantDesired: 4, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedNo),
		},
		{
			name: "terminating and failed pods are ignored",
			in: func() Input {
				gone := runningPod("pod-2", "1")
				gone.Terminating = true
				failed := runningPod("pod-3", "1")
				failed.Phase = corev1.PodFailed
				return withPods(input(4, nil, []autoscalingv2.MetricSpec{cpuUtilization(50)}, samplesFor(800, 800, 800, 800)),
					[]Pod{runningPod("pod-0", "1"), runningPod("pod-1", "1"), gone, failed})
			}(),
			wantDesired: 4, wantRules: []Rule{RuleRatio}, wantConds: unchanged(ableReady),
			check: func(t *testing.T, r Result) {
				if p := r.Proposals[0]; p.IgnoredPods != 2 || p.ReadyPods != 2 {
					t.Errorf("proposal = %+v, want 2 ready and 2 ignored", p)
				}
			},
		},

		// Metric kinds and target types.
		{
			name:        "resource average value",
			in:          input(4, pods(4, "1"), []autoscalingv2.MetricSpec{cpuAverageValue("400m")}, samplesFor(600, 600, 600, 600)),
			wantDesired: 6, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedNo),
			check: func(t *testing.T, r Result) {
				if r.Metric != "cpu resource" {
					t.Errorf("metric = %q", r.Metric)
				}
			},
		},
		{
			name: "container resource utilization uses the container's request",
			in: func() Input {
				ps := pods(4, "500m")
				for i := range ps {
					ps[i].Containers = append(ps[i].Containers, Container{Name: "sidecar", Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}})
				}
				return input(4, ps, []autoscalingv2.MetricSpec{containerCPUUtilization("app", 50)}, samplesFor(400, 400, 400, 400))
			}(),
			wantDesired: 7, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedNo),
			check: func(t *testing.T, r Result) {
				if r.Metric != "cpu container resource utilization (percentage of request)" {
					t.Errorf("metric = %q", r.Metric)
				}
				if c := r.Status.CurrentMetrics[0].ContainerResource; c == nil || c.Container != "app" || *c.Current.AverageUtilization != 80 {
					t.Errorf("current metric = %+v", r.Status.CurrentMetrics[0])
				}
			},
		},
		{
			name:        "object value scales the ready pods by the ratio",
			in:          input(4, pods(4, "1"), []autoscalingv2.MetricSpec{objectMetric("requests", valueTarget("100"))}, Observation{Value: 150000}),
			wantDesired: 6, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedNo),
			check: func(t *testing.T, r Result) {
				if r.Metric != "Service metric requests" || r.Status.CurrentMetrics[0].Object.Current.Value.MilliValue() != 150000 {
					t.Errorf("metric %q, status %+v", r.Metric, r.Status.CurrentMetrics[0].Object)
				}
			},
		},
		{
			name:        "object average value divides by status replicas",
			in:          input(4, pods(4, "1"), []autoscalingv2.MetricSpec{objectMetric("requests", averageTarget("10"))}, Observation{Value: 60000}),
			wantDesired: 6, wantRules: []Rule{RuleTotalOverAverage}, wantConds: scaled(limitedNo),
			check: func(t *testing.T, r Result) {
				if got := r.Status.CurrentMetrics[0].Object.Current.AverageValue.MilliValue(); got != 15000 {
					t.Errorf("current average = %dm, want 15000m", got)
				}
			},
		},
		{
			name:        "object value within tolerance keeps current",
			in:          input(4, pods(4, "1"), []autoscalingv2.MetricSpec{objectMetric("requests", valueTarget("100"))}, Observation{Value: 105000}),
			wantDesired: 4, wantRules: []Rule{RuleWithinTolerance}, wantConds: unchanged(ableReady),
		},
		{
			name:        "external value sums the values and scales the ready pods",
			in:          input(4, pods(4, "1"), []autoscalingv2.MetricSpec{externalMetric("queue", valueTarget("25"))}, Observation{Values: []int64{30000, 20000}}),
			wantDesired: 8, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedNo),
			check: func(t *testing.T, r Result) {
				if got := r.Status.CurrentMetrics[0].External.Current.Value.MilliValue(); got != 50000 {
					t.Errorf("current value = %dm, want 50000m", got)
				}
			},
		},
		{
			name:        "external average value divides the sum by the target average",
			in:          input(4, pods(4, "1"), []autoscalingv2.MetricSpec{externalMetric("queue", averageTarget("10"))}, Observation{Values: []int64{30000, 30000}}),
			wantDesired: 6, wantRules: []Rule{RuleTotalOverAverage}, wantConds: scaled(limitedNo),
			check: func(t *testing.T, r Result) {
				if r.Metric != "external metric queue(nil)" {
					t.Errorf("metric = %q", r.Metric)
				}
			},
		},

		{
			name: "negative metric values give a -1 proposal that is not a failure",
			in: withHistory(input(4, pods(4, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")},
				samplesFor(-2500, -2500, -2500, -2500)), oldHistory(4)),
			wantDesired: 1, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedTrue("TooFewReplicas")),
			check: func(t *testing.T, r Result) {
				if r.MetricDesiredReplicas != -1 || r.Proposals[0].Replicas != -1 || r.Error != "" {
					t.Errorf("metric desired %d, proposal %d, error %q; want -1, -1, none", r.MetricDesiredReplicas, r.Proposals[0].Replicas, r.Error)
				}
			},
		},

		// Invalid metrics.
		{
			name: "some metrics invalid: a valid scale-up proceeds",
			in: input(4, pods(4, "1"), []autoscalingv2.MetricSpec{cpuUtilization(50), podsMetric("qps", "10")},
				Observation{Error: "no metrics returned from resource metrics API"}, samplesFor(20000, 20000, 20000, 20000)),
			wantDesired: 8, wantRules: []Rule{RuleFailed, RuleRatio}, wantConds: scaled(limitedNo),
			check: func(t *testing.T, r Result) {
				if !strings.HasPrefix(r.Error, "invalid metrics (1 invalid out of 2), first error is: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu") {
					t.Errorf("error = %q", r.Error)
				}
				if r.Status.CurrentMetrics[0].Type != "" {
					t.Errorf("failed metric's status = %+v, want empty as upstream", r.Status.CurrentMetrics[0])
				}
			},
		},
		{
			name: "some metrics invalid: never scale down",
			in: func() Input {
				in := withHistory(input(4, pods(4, "1"), []autoscalingv2.MetricSpec{cpuUtilization(50), podsMetric("qps", "10")},
					Observation{Error: "boom"}, samplesFor(2000, 2000, 2000, 2000)), oldHistory(4))
				in.Status.DesiredReplicas = 4
				return in
			}(),
			wantDesired: 4, wantRules: []Rule{RuleFailed, RuleRatio},
			wantConds: []cond{ableGotScale, {autoscalingv2.ScalingActive, corev1.ConditionFalse, "FailedGetResourceMetric"}},
			check: func(t *testing.T, r Result) {
				if r.MetricDesiredReplicas != -1 || r.Status.DesiredReplicas != 4 {
					t.Errorf("metric desired %d, status desired %d; want -1 and the previous 4", r.MetricDesiredReplicas, r.Status.DesiredReplicas)
				}
				want := "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: boom"
				if got := r.Status.Conditions[1].Message; got != want {
					t.Errorf("message = %q, want %q", got, want)
				}
			},
		},
		{
			name: "all metrics invalid: no change and ScalingActive false",
			in: input(4, pods(4, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")},
				Observation{Error: "boom"}),
			wantDesired: 4, wantRules: []Rule{RuleFailed},
			wantConds: []cond{ableGotScale, {autoscalingv2.ScalingActive, corev1.ConditionFalse, "FailedGetPodsMetric"}},
			check: func(t *testing.T, r Result) {
				want := "the HPA was unable to compute the replica count: unable to get metric qps: boom"
				if got := r.Status.Conditions[1].Message; got != want {
					t.Errorf("message = %q, want %q", got, want)
				}
				if len(r.History.Recommendations) != 1 {
					t.Errorf("history = %+v, want only the seed", r.History.Recommendations)
				}
			},
		},
		{
			name:        "missing request fails the metric",
			in:          input(4, pods(4, "1"), []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(int32(50))}}}}, samplesFor(1, 1, 1, 1)),
			wantDesired: 4, wantRules: []Rule{RuleFailed},
			wantConds: []cond{ableGotScale, {autoscalingv2.ScalingActive, corev1.ConditionFalse, "FailedGetResourceMetric"}},
			check: func(t *testing.T, r Result) {
				if want := "failed to get memory utilization: missing request for memory in container app of Pod pod-0"; r.Proposals[0].Error != want {
					t.Errorf("error = %q, want %q", r.Proposals[0].Error, want)
				}
			},
		},
		{
			name: "missing selector",
			in: func() Input {
				in := input(4, pods(4, "1"), []autoscalingv2.MetricSpec{cpuUtilization(50)}, samplesFor(1, 1, 1, 1))
				in.Target.Selector = ""
				return in
			}(),
			wantDesired: 4,
			wantConds:   []cond{ableGotScale, {autoscalingv2.ScalingActive, corev1.ConditionFalse, "InvalidSelector"}},
		},
		{
			name: "ambiguous selector",
			in: func() Input {
				in := input(4, pods(4, "1"), []autoscalingv2.MetricSpec{cpuUtilization(50)}, samplesFor(1, 1, 1, 1))
				in.Target.SelectingAutoscalers = []string{"ns/web", "ns/other"}
				return in
			}(),
			wantDesired: 4,
			wantConds:   []cond{ableGotScale, {autoscalingv2.ScalingActive, corev1.ConditionFalse, "AmbiguousSelector"}},
			check: func(t *testing.T, r Result) {
				want := "pods by selector app=web are controlled by more than one HPA (e.g. [ns/web ns/other])"
				if r.Status.Conditions[1].Message != want {
					t.Errorf("message = %q, want %q", r.Status.Conditions[1].Message, want)
				}
			},
		},

		// Stabilization without behavior.
		{
			name:        "first sight: the seeded recommendation holds a scale-down",
			in:          input(4, pods(4, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(2000, 2000, 2000, 2000)),
			wantDesired: 4, wantRules: []Rule{RuleRatio}, wantConds: unchanged(ableDownStab),
		},
		{
			name: "first sight with a zero downscale window: the seed is already old",
			in: func() Input {
				in := input(4, pods(4, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(2000, 2000, 2000, 2000))
				in.Settings.DownscaleStabilizationWindow = &metav1.Duration{}
				return in
			}(),
			wantDesired: 1, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedNo),
			check: func(t *testing.T, r Result) {
				if len(r.History.Recommendations) != 1 || r.History.Recommendations[0].Replicas != 1 {
					t.Errorf("history = %+v, want the seed's slot reused", r.History.Recommendations)
				}
			},
		},
		{
			name: "downscale stabilization takes the highest recommendation of the window",
			in: withHistory(input(6, pods(6, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(2000, 2000, 2000, 2000, 2000, 2000)),
				History{Recommendations: recs(9, 10*time.Minute, 5, 4*time.Minute, 3, time.Minute)}),
			wantDesired: 5, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedNo),
			check: func(t *testing.T, r Result) {
				want := []TimestampedRecommendation{{2, testNow}, {5, ago(4 * time.Minute)}, {3, ago(time.Minute)}}
				if !reflect.DeepEqual(r.History.Recommendations, want) {
					t.Errorf("history = %+v, want the old slot reused: %+v", r.History.Recommendations, want)
				}
				if len(r.Steps) == 0 || r.Steps[0].Kind != StepStabilized || r.Steps[0].From != 2 || r.Steps[0].To != 5 {
					t.Errorf("steps = %+v, want stabilized 2 -> 5", r.Steps)
				}
			},
		},

		// Behavior.
		{
			name: "empty behavior gets the defaults: 4 pods or 100% per 15 s",
			in: func() Input {
				in := withBehavior(input(2, pods(2, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(100000, 100000)), &autoscalingv2.HorizontalPodAutoscalerBehavior{})
				in.Spec.MaxReplicas = 50
				return in
			}(),
			wantDesired: 6, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedTrue("ScaleUpLimit")),
		},
		{
			name: "default behavior scale-down window holds a recent higher recommendation",
			in: withBehavior(withHistory(input(4, pods(4, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(2000, 2000, 2000, 2000)),
				History{Recommendations: recs(4, 4*time.Minute)}), &autoscalingv2.HorizontalPodAutoscalerBehavior{}),
			wantDesired: 4, wantRules: []Rule{RuleRatio}, wantConds: unchanged(ableDownStab),
		},
		{
			name: "scale-up window takes the lowest recommendation of the window",
			in: withBehavior(withHistory(input(4, pods(4, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(20000, 20000, 20000, 20000)),
				History{Recommendations: recs(5, time.Minute)}),
				&autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr(int32(120))}}),
			wantDesired: 5, wantRules: []Rule{RuleRatio},
			wantConds: []cond{ableRescaled, activeValid, limitedNo, notScaledToZer},
			check: func(t *testing.T, r Result) {
				if len(r.Steps) == 0 || r.Steps[0].Reason != "ScaleUpStabilized" || r.Steps[0].To != 5 || *r.Steps[0].WindowSeconds != 120 {
					t.Errorf("steps = %+v, want scale-up stabilized to 5 over 120 s", r.Steps)
				}
			},
		},
		{
			name: "pods policy with a scale-down event in its period allows no further scale-down",
			in: withBehavior(withHistory(input(4, pods(4, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(2000, 2000, 2000, 2000)),
				History{Recommendations: recs(4, 10*time.Minute), ScaleDownEvents: []ScaleEvent{{ReplicaChange: 1, Timestamp: ago(30 * time.Second)}}}),
				&autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{
					StabilizationWindowSeconds: ptr(int32(0)),
					Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 60}},
				}}),
			wantDesired: 4, wantRules: []Rule{RuleRatio}, wantConds: []cond{ableReady, activeValid, limitedTrue("ScaleDownLimit")},
			check: func(t *testing.T, r Result) {
				want := "policy Pods 1 per 60 s from 5 replicas at the start of the period (selectPolicy Max)"
				if last := r.Steps[len(r.Steps)-2]; last.Kind != StepLimited || last.Policy != want {
					t.Errorf("limit step = %+v, want policy %q", last, want)
				}
			},
		},
		{
			name: "pods policy without events in its period removes its value",
			in: withBehavior(withHistory(input(4, pods(4, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(2000, 2000, 2000, 2000)),
				History{Recommendations: recs(4, 10*time.Minute), ScaleDownEvents: []ScaleEvent{{ReplicaChange: 1, Timestamp: ago(90 * time.Second)}}}),
				&autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{
					StabilizationWindowSeconds: ptr(int32(0)),
					Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 60}},
				}}),
			wantDesired: 3, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedTrue("ScaleDownLimit")),
		},
		{
			name: "percent policy measures from the replicas at the start of the period",
			in: withBehavior(input(4, pods(4, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(30000, 30000, 30000, 30000)),
				&autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
					Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 50, PeriodSeconds: 60}},
				}}),
			wantDesired: 6, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedTrue("ScaleUpLimit")),
		},
		{
			name: "percent policy with scale-up events in its period holds",
			in: withBehavior(withHistory(input(4, pods(4, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(30000, 30000, 30000, 30000)),
				History{ScaleUpEvents: []ScaleEvent{{ReplicaChange: 2, Timestamp: ago(30 * time.Second)}}}),
				&autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
					Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 50, PeriodSeconds: 60}},
				}}),
			wantDesired: 4, wantRules: []Rule{RuleRatio}, wantConds: []cond{ableReady, activeValid, limitedTrue("ScaleUpLimit")},
		},
		{
			name:        "selectPolicy Max picks the larger change",
			in:          selectPolicyInput(autoscalingv2.MaxChangePolicySelect),
			wantDesired: 6, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedTrue("ScaleUpLimit")),
		},
		{
			name:        "selectPolicy Min picks the smaller change",
			in:          selectPolicyInput(autoscalingv2.MinChangePolicySelect),
			wantDesired: 4, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedTrue("ScaleUpLimit")),
			check: func(t *testing.T, r Result) {
				want := "policy Pods 2 per 15 s from 2 replicas at the start of the period (selectPolicy Min)"
				if last := r.Steps[len(r.Steps)-1]; last.Policy != want {
					t.Errorf("limit step = %+v, want policy %q", last, want)
				}
			},
		},
		{
			name:        "selectPolicy Disabled does not scale in that direction",
			in:          selectPolicyInput(autoscalingv2.DisabledPolicySelect),
			wantDesired: 2, wantRules: []Rule{RuleRatio}, wantConds: []cond{ableReady, activeValid, limitedTrue("ScaleUpLimit")},
		},

		// Legacy limits and bounds.
		{
			name: "legacy scale-up limit without behavior is max(2 x current, 4)",
			in: func() Input {
				in := input(3, pods(3, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(100000, 100000, 100000))
				in.Spec.MaxReplicas = 50
				return in
			}(),
			wantDesired: 6, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedTrue("ScaleUpLimit")),
		},
		{
			name: "legacy scale-up limit from one replica is 4",
			in: func() Input {
				in := input(1, pods(1, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(100000))
				in.Spec.MaxReplicas = 50
				return in
			}(),
			wantDesired: 4, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedTrue("ScaleUpLimit")),
		},
		{
			name: "clamped to maxReplicas",
			in: func() Input {
				in := input(5, pods(5, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(20000, 20000, 20000, 20000, 20000))
				in.Spec.MaxReplicas = 7
				return in
			}(),
			wantDesired: 7, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedTrue("TooManyReplicas")),
		},
		{
			name: "clamped to minReplicas",
			in: func() Input {
				in := withHistory(input(4, pods(4, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(1000, 1000, 1000, 1000)), oldHistory(4))
				in.Spec.MinReplicas = ptr(int32(3))
				return in
			}(),
			wantDesired: 3, wantRules: []Rule{RuleRatio}, wantConds: scaled(limitedTrue("TooFewReplicas")),
		},
		{
			name:        "current above maxReplicas goes to max without metrics",
			in:          input(12, pods(12, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, Observation{Error: "not read"}),
			wantDesired: 10, wantConds: []cond{ableRescaled, notScaledToZer},
			check: func(t *testing.T, r Result) {
				if r.RescaleReason != "Current number of replicas above Spec.MaxReplicas" || len(r.Proposals) != 0 {
					t.Errorf("reason %q, proposals %d", r.RescaleReason, len(r.Proposals))
				}
			},
		},
		{
			name: "current below minReplicas goes to min without metrics",
			in: func() Input {
				in := input(1, pods(1, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, Observation{})
				in.Spec.MinReplicas = ptr(int32(2))
				return in
			}(),
			wantDesired: 2, wantConds: []cond{ableRescaled, notScaledToZer},
		},

		// Zero replicas.
		{
			name:        "target at zero replicas: scaling disabled",
			in:          input(0, nil, []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, Observation{}),
			wantDesired: 0, wantConds: []cond{ableGotScale, {autoscalingv2.ScalingActive, corev1.ConditionFalse, "ScalingDisabled"}},
		},
		{
			name: "minReplicas 0 with an object metric scales to zero",
			in: func() Input {
				in := withHistory(input(2, pods(2, "1"), []autoscalingv2.MetricSpec{objectMetric("queue", valueTarget("100"))}, Observation{Value: 0}), oldHistory(2))
				in.Spec.MinReplicas = ptr(int32(0))
				return in
			}(),
			wantDesired: 0, wantRules: []Rule{RuleRatio},
			wantConds: []cond{ableRescaled, activeValid, limitedNo, {autoscalingv2.ScaledToZero, corev1.ConditionTrue, "ScaledToZero"}},
		},
		{
			name: "scaled to zero by the autoscaler: scales from zero on an external metric",
			in: func() Input {
				in := input(0, nil, []autoscalingv2.MetricSpec{externalMetric("queue", valueTarget("100"))}, Observation{Values: []int64{250000}})
				in.Spec.MinReplicas = ptr(int32(0))
				in.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.ScaledToZero, Status: corev1.ConditionTrue, Reason: "ScaledToZero"}}
				return in
			}(),
			wantDesired: 3, wantRules: []Rule{RuleFromZero},
			wantConds: []cond{{autoscalingv2.ScaledToZero, corev1.ConditionFalse, "NotScaledToZero"}, ableRescaled, activeValid, limitedNo},
		},
		{
			name: "scaled to zero, then minReplicas raised: scales to at least min",
			in: func() Input {
				in := input(0, nil, []autoscalingv2.MetricSpec{externalMetric("queue", valueTarget("100"))}, Observation{Values: []int64{0}})
				in.Spec.MinReplicas = ptr(int32(2))
				in.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.ScaledToZero, Status: corev1.ConditionTrue, Reason: "ScaledToZero"}}
				return in
			}(),
			wantDesired: 2, wantRules: []Rule{RuleFromZero},
			wantConds: []cond{{autoscalingv2.ScaledToZero, corev1.ConditionFalse, "NotScaledToZero"}, ableRescaled, activeValid, limitedTrue("TooFewReplicas")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Recommend(tt.in)
			if err != nil {
				t.Fatalf("Recommend: %v", err)
			}
			if res.DesiredReplicas != tt.wantDesired {
				t.Errorf("desired = %d, want %d\n%s", res.DesiredReplicas, tt.wantDesired, res)
			}
			var rules []Rule
			for _, p := range res.Proposals {
				rules = append(rules, p.Rule)
			}
			if !reflect.DeepEqual(rules, tt.wantRules) {
				t.Errorf("rules = %v, want %v\n%s", rules, tt.wantRules, res)
			}
			if got := condsOf(res); !reflect.DeepEqual(got, tt.wantConds) {
				t.Errorf("conditions = %v\nwant %v\n%s", got, tt.wantConds, res)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

// selectPolicyInput asks to go from 2 to 10 replicas under two scale-up
// policies, 2 pods or 200% per 15 s, and the given selectPolicy.
func selectPolicyInput(sel autoscalingv2.ScalingPolicySelect) Input {
	in := input(2, pods(2, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(50000, 50000))
	in.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
		SelectPolicy: &sel,
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 2, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 200, PeriodSeconds: 15},
		},
	}}
	return in
}

func TestRecommendInvalidInput(t *testing.T) {
	tests := []struct {
		name string
		in   Input
	}{
		{name: "no time", in: func() Input { in := input(1, pods(1, "1"), nil, Observation{}); in.Now = time.Time{}; return in }()},
		{name: "observations not aligned", in: input(1, pods(1, "1"), []autoscalingv2.MetricSpec{podsMetric("a", "1"), podsMetric("b", "1")}, Observation{})},
		{name: "pods metric without source", in: input(1, pods(1, "1"), []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType}}, Observation{})},
		{name: "object metric without source", in: input(1, pods(1, "1"), []autoscalingv2.MetricSpec{{Type: autoscalingv2.ObjectMetricSourceType}}, Observation{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Recommend(tt.in); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
		})
	}
}

func TestRecommendDoesNotMutateInput(t *testing.T) {
	in := withBehavior(withHistory(input(6, pods(6, "1"), []autoscalingv2.MetricSpec{podsMetric("qps", "10")}, samplesFor(2000, 2000, 2000, 2000, 2000, 2000)),
		History{Recommendations: recs(9, 10*time.Minute, 5, 4*time.Minute)}), &autoscalingv2.HorizontalPodAutoscalerBehavior{})
	in.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionFalse, Reason: "FailedGetScale"}}
	before := in.Status.DeepCopy()
	hist := append([]TimestampedRecommendation(nil), in.History.Recommendations...)
	if _, err := Recommend(in); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in.History.Recommendations, hist) {
		t.Errorf("history changed: %+v", in.History.Recommendations)
	}
	if !reflect.DeepEqual(&in.Status, before) {
		t.Errorf("status changed: %+v", in.Status)
	}
	if in.Spec.Behavior.ScaleUp != nil {
		t.Errorf("spec was defaulted in place")
	}
}

func TestConditionTransitionTime(t *testing.T) {
	earlier := metav1.NewTime(ago(time.Hour))
	in := input(4, pods(4, "500m"), []autoscalingv2.MetricSpec{cpuUtilization(100)}, samplesFor(525, 525, 525, 525))
	in.Status.Conditions = []autoscalingv2.HorizontalPodAutoscalerCondition{
		{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionTrue, Reason: "ValidMetricFound", LastTransitionTime: earlier},
		{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionFalse, Reason: "FailedGetScale", LastTransitionTime: earlier},
	}
	res, err := Recommend(in)
	if err != nil {
		t.Fatal(err)
	}
	got := res.Status.Conditions
	if got[0].Type != autoscalingv2.ScalingActive || !got[0].LastTransitionTime.Equal(&earlier) {
		t.Errorf("unchanged status kept its transition time and place: %+v", got[0])
	}
	if got[1].Type != autoscalingv2.AbleToScale || !got[1].LastTransitionTime.Time.Equal(testNow) {
		t.Errorf("changed status gets now: %+v", got[1])
	}
}
