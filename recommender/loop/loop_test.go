package loop

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	cmv1beta2 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	emv1beta1 "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"

	"github.com/hpa-engine/hpa-engine/recommender"
)

func TestBatchingPodsMetric(t *testing.T) {
	tests := []struct {
		name       string
		namespaces []string
		perNS      int
		wantCalls  []string
	}{
		{
			name:       "five targets in one namespace share one call",
			namespaces: []string{"a"},
			perNS:      5,
			wantCalls:  []string{`custom a pods * rps labels="" metric=""`},
		},
		{
			name:       "two namespaces make two calls",
			namespaces: []string{"a", "b"},
			perNS:      3,
			wantCalls:  []string{`custom a pods * rps labels="" metric=""`, `custom b pods * rps labels="" metric=""`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster()
			for _, ns := range tt.namespaces {
				for i := range tt.perNS {
					c.workload(t, ns, fmt.Sprintf("w%d", i), 2, podsMetric("rps", 10))
				}
			}
			src := &fakeSource{}
			l := newTestLoop(t, c, &clock{now: t0}, loopOptions{source: src})
			for cycle := range 2 {
				stats := l.Cycle(context.Background())
				if got := src.Calls(); !equalStrings(got, tt.wantCalls) {
					t.Fatalf("cycle %d calls = %q, want %q", cycle, got, tt.wantCalls)
				}
				if stats.Calls != len(tt.wantCalls) || stats.Targets != len(tt.namespaces)*tt.perNS {
					t.Errorf("cycle %d stats = %+v", cycle, stats)
				}
			}
		})
	}
}

func TestBatchingObjectAndExternal(t *testing.T) {
	c := newCluster()
	// Three targets, each with an Object metric on its own Deployment and
	// the same External metric: one call for each.
	for _, name := range []string{"x", "y", "z"} {
		c.workload(t, "ns", name, 2, objectMetric("hits", name, 10), externalMetric("queue", map[string]string{"q": "jobs"}, 5))
	}
	// A fourth with another external selector makes its own call.
	c.workload(t, "ns", "w", 2, externalMetric("queue", map[string]string{"q": "other"}, 5))
	objValues := map[string]int64{"x": 10, "y": 40, "z": 5}
	src := &fakeSource{
		custom: func(namespace string, gr schema.GroupResource, name, metric string) (*cmv1beta2.MetricValueList, error) {
			out := &cmv1beta2.MetricValueList{}
			for _, n := range []string{"x", "y", "z", "unrelated"} {
				out.Items = append(out.Items, cmv1beta2.MetricValue{
					DescribedObject: corev1.ObjectReference{Kind: "Deployment", Namespace: namespace, Name: n},
					Timestamp:       metav1.NewTime(t0),
					Value:           *resource.NewQuantity(objValues[n], resource.DecimalSI),
				})
			}
			return out, nil
		},
		external: func(_, _ string, sel labels.Selector) (*emv1beta1.ExternalMetricValueList, error) {
			return &emv1beta1.ExternalMetricValueList{Items: []emv1beta1.ExternalMetricValue{
				{Timestamp: metav1.NewTime(t0), Value: *resource.NewQuantity(4, resource.DecimalSI)},
				{Timestamp: metav1.NewTime(t0), Value: *resource.NewQuantity(6, resource.DecimalSI)},
			}}, nil
		},
	}
	l := newTestLoop(t, c, &clock{now: t0}, loopOptions{source: src})
	l.Cycle(context.Background())
	want := []string{
		`custom ns deployments.apps * hits labels="" metric=""`,
		`external ns queue metric="q=jobs"`,
		`external ns queue metric="q=other"`,
	}
	if got := src.Calls(); !equalStrings(got, want) {
		t.Fatalf("calls = %q, want %q", got, want)
	}
	// Object Value targets: 2 ready pods x value / 10.
	for name, wantObj := range map[string]int32{"x": 2, "y": 8, "z": 1} {
		rec, ok := l.Store().Get("ns", KindHPA, name)
		if !ok || rec.Error != "" {
			t.Fatalf("%s: recommendation %+v, %v", name, rec, ok)
		}
		if got := rec.Result.Proposals[0].Replicas; got != wantObj {
			t.Errorf("%s: object proposal = %d, want %d", name, got, wantObj)
		}
		// External AverageValue: (4+6)/5 = 2 replicas.
		if got := rec.Result.Proposals[1].Replicas; got != 2 {
			t.Errorf("%s: external proposal = %d, want 2", name, got)
		}
	}
}

func TestPerTargetPodFiltering(t *testing.T) {
	c := newCluster()
	c.workload(t, "ns", "web", 2, podsMetric("rps", 100))
	c.workload(t, "ns", "api", 3, podsMetric("rps", 100))
	values := map[string]float64{
		"ns/web-0": 100, "ns/web-1": 100, // on target: keep 2
		"ns/api-0": 150, "ns/api-1": 150, "ns/api-2": 150, // 1.5 x 3 -> 5
		"ns/stray-0": 10000, // no target's pod: must not count
	}
	src := &fakeSource{custom: podValues(values, t0)}
	l := newTestLoop(t, c, &clock{now: t0}, loopOptions{source: src})
	l.Cycle(context.Background())

	tests := []struct {
		name        string
		wantDesired int32
		wantPods    int
		wantAvg     int64
	}{
		{name: "web", wantDesired: 2, wantPods: 2, wantAvg: 100000},
		{name: "api", wantDesired: 5, wantPods: 3, wantAvg: 150000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, ok := l.Store().Get("ns", KindHPA, tt.name)
			if !ok || rec.Error != "" {
				t.Fatalf("recommendation %+v, %v", rec, ok)
			}
			p := rec.Result.Proposals[0]
			if rec.Result.DesiredReplicas != tt.wantDesired || p.ReadyPods != tt.wantPods {
				t.Errorf("desired %d with %d ready pods, want %d with %d (proposal %+v)", rec.Result.DesiredReplicas, p.ReadyPods, tt.wantDesired, tt.wantPods, p)
			}
			if got := p.Current.AverageValue.MilliValue(); got != tt.wantAvg {
				t.Errorf("average = %dm, want %dm", got, tt.wantAvg)
			}
		})
	}
}

func TestObservationConversion(t *testing.T) {
	window := int64(120)
	ts1, ts2 := t0.Add(-30*time.Second), t0.Add(-10*time.Second)
	src := &fakeSource{custom: func(namespace string, _ schema.GroupResource, _, _ string) (*cmv1beta2.MetricValueList, error) {
		return &cmv1beta2.MetricValueList{Items: []cmv1beta2.MetricValue{
			{DescribedObject: corev1.ObjectReference{Name: "other"}, Timestamp: metav1.NewTime(t0), Value: resource.MustParse("9")},
			{DescribedObject: corev1.ObjectReference{Name: "web-1"}, Timestamp: metav1.NewTime(ts1), Value: resource.MustParse("1.5")},
			{DescribedObject: corev1.ObjectReference{Name: "web-0"}, Timestamp: metav1.NewTime(ts2), WindowSeconds: &window, Value: resource.MustParse("250m")},
		}}, nil
	}}
	r := fetch(context.Background(), src, nil, request{key: reqKey{kind: reqCustom, namespace: "ns", resource: podsResource, name: allObjects, metric: "m"}, metricSelector: labels.Everything()})
	pods := []*corev1.Pod{readyPod("ns", "web-0", "web", 100), readyPod("ns", "web-1", "web", 100)}
	got := observe(need{kind: extractPods}, r, pods, nil)
	want := recommender.Observation{
		PodMetrics: []recommender.PodMetric{
			// Response order, upstream's default window of 1m when none is given.
			{Pod: "web-1", Value: 1500, Timestamp: ts1, Window: metav1.Duration{Duration: time.Minute}},
			{Pod: "web-0", Value: 250, Timestamp: ts2, Window: metav1.Duration{Duration: 2 * time.Minute}},
		},
		// The first item's timestamp, as upstream's client reports it.
		Timestamp: ts1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("observation =\n%+v\nwant\n%+v", got, want)
	}
}

func TestObservationErrors(t *testing.T) {
	empty := &fakeSource{}
	failing := &fakeSource{
		custom: func(string, schema.GroupResource, string, string) (*cmv1beta2.MetricValueList, error) {
			return nil, fmt.Errorf("backend down")
		},
		external: func(string, string, labels.Selector) (*emv1beta1.ExternalMetricValueList, error) {
			return nil, fmt.Errorf("backend down")
		},
	}
	pods := []*corev1.Pod{readyPod("ns", "web-0", "web", 100)}
	tests := []struct {
		name string
		src  *fakeSource
		n    need
		key  reqKey
		want string
	}{
		{name: "pods: no items", src: empty, n: need{kind: extractPods}, key: reqKey{kind: reqCustom, resource: podsResource},
			want: "no metrics returned from custom metrics API"},
		{name: "pods: error", src: failing, n: need{kind: extractPods}, key: reqKey{kind: reqCustom, resource: podsResource},
			want: "unable to fetch metrics from custom metrics API: backend down"},
		{name: "object: not in the list", src: empty, key: reqKey{kind: reqCustom},
			n:    need{kind: extractObject, gr: schema.GroupResource{Group: "apps", Resource: "deployments"}, metric: "hits", object: objectName("ns", "web")},
			want: "unable to fetch metrics from custom metrics API: metric deployments.apps/hits of ns/web: no data"},
		{name: "namespace metric: not exactly one", src: empty, n: need{kind: extractOne}, key: reqKey{kind: reqCustom},
			want: "unable to fetch metrics from custom metrics API: the custom metrics API server returned 0 results when we asked for exactly one"},
		{name: "external: no items", src: empty, n: need{kind: extractExternal}, key: reqKey{kind: reqExternal},
			want: "no metrics returned from external metrics API"},
		{name: "external: error", src: failing, n: need{kind: extractExternal}, key: reqKey{kind: reqExternal},
			want: "unable to fetch metrics from external metrics API: backend down"},
		{name: "resource: not served", src: empty, n: need{kind: extractResource, resource: corev1.ResourceCPU}, key: reqKey{kind: reqPodMetrics},
			want: "unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fetch(context.Background(), tt.src, nil, request{key: tt.key, metricSelector: labels.Everything()})
			if got := observe(tt.n, r, pods, labels.Everything()); got.Error != tt.want {
				t.Errorf("error = %q, want %q", got.Error, tt.want)
			}
		})
	}
}

func TestHistoryKeptBoundedDropped(t *testing.T) {
	c := newCluster()
	web := c.workload(t, "ns", "web", 2, podsMetric("rps", 100))
	c.workload(t, "ns", "api", 2, podsMetric("rps", 100))
	src := &fakeSource{custom: podValues(map[string]float64{"ns/web-0": 50, "ns/web-1": 50, "ns/api-0": 100, "ns/api-1": 100}, t0)}
	clk := &clock{now: t0}
	l := newTestLoop(t, c, clk, loopOptions{source: src})
	key := targetKey{KindHPA, "ns", "web"}

	l.Cycle(context.Background())
	if got := len(l.states[key].history.Recommendations); got != 2 {
		// The seed (current replicas just before now) and this cycle's.
		t.Fatalf("after one cycle: %d recommendations, want 2", got)
	}
	// The default scale-down window is 300 s: at a 15 s period upstream
	// keeps at most 300/15 + 2 entries, reusing outdated slots.
	for range 100 {
		clk.Step(15 * time.Second)
		l.Cycle(context.Background())
	}
	if got := len(l.states[key].history.Recommendations); got > 22 {
		t.Errorf("after 100 cycles: %d recommendations, want at most 22", got)
	}
	rec, _ := l.Store().Get("ns", KindHPA, "web")
	// Half the target for long enough: the stabilized recommendation is 1.
	if rec.Result.DesiredReplicas != 1 {
		t.Errorf("desired = %d, want 1 after the stabilization window", rec.Result.DesiredReplicas)
	}

	// Recreated under the same name (a new UID): a new history.
	recreated := web.DeepCopy()
	recreated.UID = "new"
	c.update(t, recreated)
	clk.Step(15 * time.Second)
	l.Cycle(context.Background())
	if got := len(l.states[key].history.Recommendations); got != 2 {
		t.Errorf("recreated target: %d recommendations, want a fresh history of 2", got)
	}

	c.remove(t, recreated)
	clk.Step(15 * time.Second)
	l.Cycle(context.Background())
	if _, ok := l.states[key]; ok {
		t.Error("state of a deleted target was kept")
	}
	if _, ok := l.Store().Get("ns", KindHPA, "web"); ok {
		t.Error("recommendation of a deleted target was kept")
	}
	if _, ok := l.Store().Get("ns", KindHPA, "api"); !ok {
		t.Error("recommendation of a remaining target was dropped")
	}
}

func TestScaleEventsRecorded(t *testing.T) {
	window := int32(0)
	behavior := &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &window}}
	tests := []struct {
		name       string
		behavior   *autoscalingv2.HorizontalPodAutoscalerBehavior
		replicas   []int32 // spec.replicas at each cycle
		wantUp     []int32
		wantDown   []int32
		wantStored bool
	}{
		{name: "scale up then down observed", behavior: behavior, replicas: []int32{2, 2, 5, 3}, wantUp: []int32{3}, wantDown: []int32{2}},
		{name: "no change, no event", behavior: behavior, replicas: []int32{2, 2, 2}},
		{name: "without behavior upstream keeps no events", replicas: []int32{2, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster()
			h := c.workload(t, "ns", "web", 2, podsMetric("rps", 100))
			h.Spec.Behavior = tt.behavior
			c.update(t, h)
			src := &fakeSource{custom: podValues(map[string]float64{"ns/web-0": 100, "ns/web-1": 100}, t0)}
			clk := &clock{now: t0}
			l := newTestLoop(t, c, clk, loopOptions{source: src})
			for _, r := range tt.replicas {
				c.update(t, deployment("ns", "web", r, r))
				l.Cycle(context.Background())
				clk.Step(15 * time.Second)
			}
			hist := l.states[targetKey{KindHPA, "ns", "web"}].history
			if got := changes(hist.ScaleUpEvents); !equalInt32(got, tt.wantUp) {
				t.Errorf("scale-up events %v, want %v", got, tt.wantUp)
			}
			if got := changes(hist.ScaleDownEvents); !equalInt32(got, tt.wantDown) {
				t.Errorf("scale-down events %v, want %v", got, tt.wantDown)
			}
		})
	}
}

func TestTargetHistoryFromSourceIsUsed(t *testing.T) {
	c := newCluster()
	c.workload(t, "ns", "web", 4, podsMetric("rps", 100))
	src := &fakeSource{custom: podValues(map[string]float64{"ns/web-0": 10, "ns/web-1": 10, "ns/web-2": 10, "ns/web-3": 10}, t0)}
	own := recommender.History{Recommendations: []recommender.TimestampedRecommendation{{Replicas: 4, Timestamp: t0.Add(-time.Minute)}}}
	l, err := New(Config{}, Deps{
		Sources: []TargetSource{&staticSource{kind: KindAutoscaler, targets: []Target{{
			Kind: KindAutoscaler, Namespace: "ns", Name: "web", UID: "u",
			Spec:    hpa("ns", "web", 10, podsMetric("rps", 100)).Spec,
			History: &own,
		}}}},
		Scales:  c.scales(),
		Pods:    c.podLister(),
		Metrics: src,
		Now:     func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	l.Cycle(context.Background())
	rec, _ := l.Store().Get("ns", KindAutoscaler, "web")
	// The object's history holds 4 within the 5 min window: stabilized at 4.
	if rec.Result.DesiredReplicas != 4 {
		t.Errorf("desired = %d, want 4 (stabilized by the object's own history)", rec.Result.DesiredReplicas)
	}
	if got := len(l.states[targetKey{KindAutoscaler, "ns", "web"}].history.Recommendations); got != 0 {
		t.Errorf("loop kept %d recommendations for a target with its own history", got)
	}
}

func TestResourceMetricsAbsent(t *testing.T) {
	c := newCluster()
	c.workload(t, "ns", "web", 2, cpuMetric(50))
	l := newTestLoop(t, c, &clock{now: t0}, loopOptions{resources: NewResourceMetrics(nil, notServedDiscovery(t), 0, nil)})
	l.Cycle(context.Background())
	rec, _ := l.Store().Get("ns", KindHPA, "web")
	want := "failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)"
	if p := rec.Result.Proposals; len(p) != 1 || p[0].Error != want {
		t.Fatalf("proposals = %+v, want one failed with %q", p, want)
	}
	var active *autoscalingv2.HorizontalPodAutoscalerCondition
	for i, cond := range rec.Result.Status.Conditions {
		if cond.Type == autoscalingv2.ScalingActive {
			active = &rec.Result.Status.Conditions[i]
		}
	}
	if active == nil || active.Status != corev1.ConditionFalse || active.Reason != "FailedGetResourceMetric" ||
		!strings.HasPrefix(active.Message, "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: ") {
		t.Errorf("ScalingActive = %+v", active)
	}
	if rec.Result.DesiredReplicas != 2 {
		t.Errorf("desired = %d, want the current 2 (hold)", rec.Result.DesiredReplicas)
	}
}

func TestScaleErrors(t *testing.T) {
	c := newCluster()
	h := hpa("ns", "ghost", 5, podsMetric("rps", 1))
	c.add(t, h)
	bad := hpa("ns", "bad", 5, podsMetric("rps", 1))
	bad.Spec.ScaleTargetRef.APIVersion = "a/b/c"
	c.add(t, bad)
	reg := newRegistry()
	l := newTestLoop(t, c, &clock{now: t0}, loopOptions{source: &fakeSource{}, inst: NewMetrics(reg)})
	stats := l.Cycle(context.Background())
	if stats.Errors != 2 {
		t.Errorf("errors = %d, want 2", stats.Errors)
	}
	tests := []struct{ name, want string }{
		{"ghost", `the HPA controller was unable to get the target's current scale: deployments.apps "ghost" not found`},
		{"bad", "the HPA controller was unable to get the target's current scale: invalid API version in scale target reference: unexpected GroupVersion string: a/b/c"},
	}
	for _, tt := range tests {
		rec, ok := l.Store().Get("ns", KindHPA, tt.name)
		if !ok || rec.Error != tt.want {
			t.Errorf("%s: error = %q, want %q", tt.name, rec.Error, tt.want)
		}
	}
}

func TestAmbiguousSelector(t *testing.T) {
	c := newCluster()
	c.workload(t, "ns", "web", 2, podsMetric("rps", 100))
	// A second HPA on the same Deployment.
	twin := hpa("ns", "web-twin", 5, podsMetric("rps", 100))
	twin.Spec.ScaleTargetRef.Name = "web"
	c.add(t, twin)
	l := newTestLoop(t, c, &clock{now: t0}, loopOptions{source: &fakeSource{custom: podValues(map[string]float64{"ns/web-0": 1, "ns/web-1": 1}, t0)}})
	l.Cycle(context.Background())
	rec, _ := l.Store().Get("ns", KindHPA, "web")
	want := "failed to compute desired number of replicas based on listed metrics for Deployment/ns/web: pods by selector app=web are controlled by more than one HPA (e.g. [ns/web ns/web-twin])"
	if rec.Result.Error != want {
		t.Errorf("error = %q, want %q", rec.Result.Error, want)
	}
}

func TestNewRejects(t *testing.T) {
	_, err := New(Config{SyncPeriod: -1}, Deps{})
	if err == nil || !strings.Contains(err.Error(), "no target source") || !strings.Contains(err.Error(), "negative") {
		t.Errorf("New = %v", err)
	}
}

func TestRunCyclesUntilCancelled(t *testing.T) {
	c := newCluster()
	c.workload(t, "ns", "web", 2, podsMetric("rps", 100))
	src := &fakeSource{custom: podValues(map[string]float64{"ns/web-0": 100, "ns/web-1": 100}, t0)}
	l, err := New(Config{SyncPeriod: 10 * time.Millisecond}, Deps{
		Sources: []TargetSource{NewHPASource(c.hpaLister())},
		Scales:  c.scales(), Pods: c.podLister(), Metrics: src, Now: func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	if l.Ready() == nil {
		t.Fatal("ready before the first cycle")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for l.Ready() != nil || len(src.Calls()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no cycle ran")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

type staticSource struct {
	kind    string
	targets []Target
	err     error
}

func (s *staticSource) Kind() string               { return s.kind }
func (s *staticSource) Targets() ([]Target, error) { return s.targets, s.err }

func changes(events []recommender.ScaleEvent) []int32 {
	var out []int32
	for _, e := range events {
		out = append(out, e.ReplicaChange)
	}
	return out
}

func equalInt32(a, b []int32) bool    { return fmt.Sprint(a) == fmt.Sprint(b) }
func equalStrings(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

func TestFailingSourceKeepsItsTargets(t *testing.T) {
	c := newCluster()
	c.workload(t, "ns", "web", 2, podsMetric("rps", 100))
	own := &staticSource{kind: KindAutoscaler, targets: []Target{{Kind: KindAutoscaler, Namespace: "ns", Name: "mine", UID: "u", Spec: hpa("ns", "web", 5, podsMetric("rps", 100)).Spec}}}
	reg := newRegistry()
	l, err := New(Config{}, Deps{
		Sources:     []TargetSource{NewHPASource(c.hpaLister()), own},
		Scales:      c.scales(),
		Pods:        c.podLister(),
		Metrics:     &fakeSource{custom: podValues(map[string]float64{"ns/web-0": 100, "ns/web-1": 100}, t0)},
		Instruments: NewMetrics(reg),
		Now:         func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	l.Cycle(context.Background())
	if got := len(l.Store().List("", "")); got != 2 {
		t.Fatalf("%d recommendations, want 2", got)
	}
	own.err, own.targets = fmt.Errorf("informer gone"), nil
	l.Cycle(context.Background())
	if _, ok := l.Store().Get("ns", KindAutoscaler, "mine"); !ok {
		t.Error("a failed list dropped the source's recommendation")
	}
	if _, ok := l.states[targetKey{KindAutoscaler, "ns", "mine"}]; !ok {
		t.Error("a failed list dropped the source's history")
	}
	if _, ok := l.Store().Get("ns", KindHPA, "web"); !ok {
		t.Error("the other source's recommendation was dropped")
	}
	if got := testutil.ToFloat64(l.deps.Instruments.errors.WithLabelValues(ReasonFailedListTargets)); got != 1 {
		t.Errorf("FailedListTargets = %v, want 1", got)
	}
}

func TestPodViewsFollowPodChanges(t *testing.T) {
	c := newCluster()
	c.workload(t, "ns", "web", 2, podsMetric("rps", 100))
	l := newTestLoop(t, c, &clock{now: t0}, loopOptions{source: &fakeSource{custom: podValues(map[string]float64{"ns/web-0": 100, "ns/web-1": 100}, t0)}})
	l.Cycle(context.Background())
	if len(l.pods) != 2 {
		t.Fatalf("%d pod views, want 2", len(l.pods))
	}
	changed := readyPod("ns", "web-1", "web", 100)
	changed.Status.Phase = corev1.PodFailed
	if err := c.pods.Update(changed); err != nil {
		t.Fatal(err)
	}
	l.Cycle(context.Background())
	if len(l.pods) != 2 {
		t.Fatalf("%d pod views after an update, want 2 (the old object dropped)", len(l.pods))
	}
	if v, ok := l.pods[changed]; !ok || v.Phase != corev1.PodFailed {
		t.Errorf("view of the updated pod = %+v, %v", v, ok)
	}
	rec, _ := l.Store().Get("ns", KindHPA, "web")
	if p := rec.Result.Proposals[0]; p.ReadyPods != 1 || p.IgnoredPods != 1 {
		t.Errorf("proposal counts ready %d ignored %d, want 1 and 1 (the failed pod is ignored)", p.ReadyPods, p.IgnoredPods)
	}
}

func TestDuplicateTargetsComputedOnce(t *testing.T) {
	c := newCluster()
	c.workload(t, "ns", "web", 2, podsMetric("rps", 100))
	l, err := New(Config{}, Deps{
		Sources: []TargetSource{NewHPASource(c.hpaLister()), NewHPASource(c.hpaLister())},
		Scales:  c.scales(),
		Pods:    c.podLister(),
		Metrics: &fakeSource{custom: podValues(map[string]float64{"ns/web-0": 100, "ns/web-1": 100}, t0)},
		Now:     func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	if stats := l.Cycle(context.Background()); stats.Targets != 1 {
		t.Errorf("targets = %d, want 1", stats.Targets)
	}
}

func TestCycleTimeout(t *testing.T) {
	c := newCluster()
	c.workload(t, "ns", "web", 2, podsMetric("rps", 100))
	l := newTestLoop(t, c, &clock{now: t0}, loopOptions{source: &fakeSource{}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l.Cycle(ctx)
	rec, ok := l.Store().Get("ns", KindHPA, "web")
	if !ok || !strings.Contains(rec.Error, "the cycle timed out before the scale was read") {
		t.Errorf("recommendation after a cycle that timed out at once: %+v", rec)
	}
}

func TestObjectMissingFromBatchAskedByName(t *testing.T) {
	c := newCluster()
	for _, name := range []string{"x", "y", "z"} {
		c.workload(t, "ns", name, 2, objectMetric("hits", name, 10))
	}
	item := func(name string, v int64) cmv1beta2.MetricValue {
		return cmv1beta2.MetricValue{DescribedObject: corev1.ObjectReference{Kind: "Deployment", Namespace: "ns", Name: name}, Timestamp: metav1.NewTime(t0), Value: *resource.NewQuantity(v, resource.DecimalSI)}
	}
	src := &fakeSource{custom: func(_ string, _ schema.GroupResource, name, _ string) (*cmv1beta2.MetricValueList, error) {
		switch name {
		case "*":
			// Only x carries the object's label; y's query aggregates it
			// away, which only a by-name call can attribute.
			return &cmv1beta2.MetricValueList{Items: []cmv1beta2.MetricValue{item("x", 10)}}, nil
		case "y":
			return &cmv1beta2.MetricValueList{Items: []cmv1beta2.MetricValue{item("y", 30)}}, nil
		}
		return nil, fmt.Errorf("metric deployments.apps/hits of ns/%s: no data", name)
	}}
	l := newTestLoop(t, c, &clock{now: t0}, loopOptions{source: src})
	stats := l.Cycle(context.Background())
	want := []string{
		`custom ns deployments.apps * hits labels="" metric=""`,
		`custom ns deployments.apps y hits labels="" metric=""`,
		`custom ns deployments.apps z hits labels="" metric=""`,
	}
	if got := src.Calls(); !equalStrings(got, want) || stats.Calls != 3 {
		t.Fatalf("calls = %q (%d), want %q", got, stats.Calls, want)
	}
	tests := []struct {
		name         string
		wantReplicas int32
		wantErr      string
	}{
		{name: "x", wantReplicas: 2},
		{name: "y", wantReplicas: 6},
		{name: "z", wantErr: "unable to fetch metrics from custom metrics API: metric deployments.apps/hits of ns/z: no data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := l.Store().Get("ns", KindHPA, tt.name)
			p := rec.Result.Proposals[0]
			if tt.wantErr != "" {
				if !strings.Contains(p.Error, tt.wantErr) {
					t.Errorf("proposal error %q, want it to contain %q", p.Error, tt.wantErr)
				}
				return
			}
			if p.Error != "" || p.Replicas != tt.wantReplicas {
				t.Errorf("proposal %d (%q), want %d", p.Replicas, p.Error, tt.wantReplicas)
			}
		})
	}
}
