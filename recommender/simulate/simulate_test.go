package simulate

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/hpa-engine/hpa-engine/recommender"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// stepFrom is where the step-load scenario starts in unit tests; the e2e test
// starts it elsewhere and compares rows without the time column.
var stepFrom = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// loadScenario reads a scenario's spec (hpa.yaml) and its total load per
// step (load.csv: offset_seconds,total, at the range's step).
func loadScenario(t *testing.T, dir string) (Target, []float64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "hpa.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var hpa autoscalingv2.HorizontalPodAutoscaler
	if err := yaml.UnmarshalStrict(b, &hpa); err != nil {
		t.Fatalf("hpa.yaml: %v", err)
	}
	f, err := os.Open(filepath.Join(dir, "load.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("load.csv: %v", err)
	}
	var load []float64
	for i, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			t.Fatalf("load.csv row %d: %v", i+2, err)
		}
		load = append(load, v)
	}
	return Target{Kind: KindHPA, Namespace: hpa.Namespace, Name: hpa.Name, Spec: hpa.Spec}, load
}

func totals(load []float64) Series {
	s := Series{Model: ModelTotal, Values: make([][]float64, len(load))}
	for i, v := range load {
		s.Values[i] = []float64{v}
	}
	return s
}

func int32p(v int32) *int32 { return &v }

// TestStepLoadTimeline replays the shared step-load scenario and checks it
// twice: against the facts the behavior implies, step by step, and against
// testdata/stepload/timeline.csv, which the e2e test expects from the real
// command over the same history in Prometheus.
func TestStepLoadTimeline(t *testing.T) {
	target, load := loadScenario(t, "testdata/stepload")
	cfg := Config{
		Target:          target,
		Range:           Range{From: stepFrom, To: stepFrom.Add(time.Duration(len(load)-1) * 15 * time.Second), Step: 15 * time.Second},
		InitialReplicas: int32p(2),
	}
	tl, err := Replay(cfg, []Series{totals(load)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tl.Steps) != len(load) {
		t.Fatalf("%d steps, want %d", len(tl.Steps), len(load))
	}
	// Load 150 on 2 pods, then 800 from 300 s (ratio 4: proposal 8, doubled
	// at most once a minute), then 100 from 900 s (proposal 1, held by the
	// 120 s window, then halved at most once a minute).
	tests := []struct {
		name             string
		offset           int
		current, desired int32
		limited, reason  string
	}{
		{name: "start below target keeps 2 (ceil 0.75 x 2)", offset: 0, current: 2, desired: 2, reason: "ReadyForNewScale"},
		{name: "load rises: 8 proposed, Percent 100 per 60 s allows 4", offset: 300, current: 2, desired: 4, limited: "ScaleUpLimit", reason: "SucceededRescale"},
		{name: "within the policy period the budget is spent", offset: 345, current: 4, desired: 4, limited: "ScaleUpLimit", reason: "ReadyForNewScale"},
		{name: "a period later it doubles again", offset: 360, current: 4, desired: 8, reason: "SucceededRescale"},
		{name: "at 8 pods the ratio is 1", offset: 375, current: 8, desired: 8, reason: "ReadyForNewScale"},
		{name: "load drops: the 120 s window holds 8", offset: 900, current: 8, desired: 8, reason: "ScaleDownStabilized"},
		{name: "still inside the window: 8 was recommended at 885 s", offset: 990, current: 8, desired: 8, reason: "ScaleDownStabilized"},
		{name: "window passed: 1 proposed, Percent 50 per 60 s allows 4", offset: 1005, current: 8, desired: 4, limited: "ScaleDownLimit", reason: "SucceededRescale"},
		{name: "within the policy period the budget is spent going down", offset: 1050, current: 4, desired: 4, limited: "ScaleDownLimit", reason: "ReadyForNewScale"},
		{name: "a period later it halves again", offset: 1065, current: 4, desired: 2, limited: "ScaleDownLimit", reason: "SucceededRescale"},
		{name: "and reaches 1, which the policy allows", offset: 1125, current: 2, desired: 1, reason: "SucceededRescale"},
		{name: "end at 1", offset: 1800, current: 1, desired: 1, reason: "ReadyForNewScale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tl.Steps[tt.offset/15]
			if got := int(s.Time.Sub(stepFrom) / time.Second); got != tt.offset {
				t.Fatalf("step at %d s, want %d s", got, tt.offset)
			}
			if s.Current != tt.current || s.Desired != tt.desired || s.Limited != tt.limited || s.Reason != tt.reason {
				t.Errorf("current %d desired %d limited %q reason %q, want %d %d %q %q\n%s",
					s.Current, s.Desired, s.Limited, s.Reason, tt.current, tt.desired, tt.limited, tt.reason, strings.Join(s.Explanation, "\n"))
			}
		})
	}
	// The simulated scaler: a rescale is the next step's current count.
	for i := 1; i < len(tl.Steps); i++ {
		prev, s := tl.Steps[i-1], tl.Steps[i]
		want := prev.Current
		if prev.Rescaled {
			want = prev.Desired
		}
		if s.Current != want {
			t.Errorf("step %d: current %d, want %d after step %d (desired %d, rescaled %t)", i, s.Current, want, i-1, prev.Desired, prev.Rescaled)
		}
	}

	var got bytes.Buffer
	if err := WriteCSV(&got, tl); err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/stepload/timeline.csv", got.Bytes())
}

// golden compares got with the file, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\ngot:\n%s", path, got)
	}
}

func podsMetric(name string, avg string) autoscalingv2.MetricSpec {
	q := resource.MustParse(avg)
	return autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: name},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q},
	}}
}

func object(name, value string) autoscalingv2.MetricSpec {
	q := resource.MustParse(value)
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
		DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "v1", Kind: "Service", Name: "web"},
		Metric:          autoscalingv2.MetricIdentifier{Name: name},
		Target:          autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: &q},
	}}
}

func external(name, avg string) autoscalingv2.MetricSpec {
	q := resource.MustParse(avg)
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: name},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q},
	}}
}

func spec(minR, maxR int32, metrics ...autoscalingv2.MetricSpec) autoscalingv2.HorizontalPodAutoscalerSpec {
	return autoscalingv2.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
		MinReplicas:    &minR,
		MaxReplicas:    maxR,
		Metrics:        metrics,
	}
}

func series(model Model, vals ...[]float64) Series { return Series{Model: model, Values: vals} }

func v(x ...float64) []float64 { return x }

// TestReplayModels checks how each model turns history into observations
// for a replica count that differs from the one in history.
func TestReplayModels(t *testing.T) {
	rng := func(n int) Range {
		return Range{From: stepFrom, To: stepFrom.Add(time.Duration(n-1) * time.Minute), Step: time.Minute}
	}
	tests := []struct {
		name     string
		kind     string
		spec     autoscalingv2.HorizontalPodAutoscalerSpec
		initial  *int32
		series   []Series
		desired  []int32
		current  []int32
		rules    []recommender.Rule
		loadNils []bool
	}{
		{
			name:    "pods total is shared over the simulated replicas",
			spec:    spec(1, 10, podsMetric("rps", "100")),
			initial: int32p(3),
			// 900 over 3 pods is 300 each: 9, limited to max(2 x 3, 4) = 6
			// without behavior; over 6 pods 150 each: 9; over 9, 100: keep.
			series:  []Series{series(ModelTotal, v(900), v(900), v(900))},
			desired: []int32{6, 9, 9},
			current: []int32{3, 6, 9},
			rules:   []recommender.Rule{recommender.RuleRatio, recommender.RuleRatio, recommender.RuleWithinTolerance},
		},
		{
			name:    "object value is used as it is",
			spec:    spec(1, 10, object("latency", "10")),
			initial: int32p(2),
			// ratio 2 on 2 ready pods: 4; then 20 again on 4 pods: 8.
			series:  []Series{series(ModelValue, v(20), v(20))},
			desired: []int32{4, 8},
			current: []int32{2, 4},
			rules:   []recommender.Rule{recommender.RuleRatio, recommender.RuleRatio},
		},
		{
			name:    "external values are summed and divided by the algorithm",
			spec:    spec(1, 10, external("queue", "5")),
			initial: int32p(1),
			// 12 + 8 = 20 at 5 per replica: 4, whatever the replicas.
			series:  []Series{series(ModelValues, v(12, 8), v(12, 8))},
			desired: []int32{4, 4},
			current: []int32{1, 4},
			rules:   []recommender.Rule{recommender.RuleTotalOverAverage, recommender.RuleWithinTolerance},
		},
		{
			name:    "no data fails the metric and holds",
			spec:    spec(1, 10, podsMetric("rps", "100")),
			initial: int32p(3),
			// Then 100 over 3 pods proposes 1, which the default 300 s
			// window holds at 3.
			series:   []Series{series(ModelTotal, nil, v(100))},
			desired:  []int32{3, 3},
			current:  []int32{3, 3},
			rules:    []recommender.Rule{recommender.RuleFailed, recommender.RuleRatio},
			loadNils: []bool{true, false},
		},
		{
			name:     "non-finite values are missing, not zero",
			spec:     spec(1, 10, object("latency", "10")),
			initial:  int32p(2),
			series:   []Series{series(ModelValue, v(nan()), v(10))},
			desired:  []int32{2, 2},
			current:  []int32{2, 2},
			rules:    []recommender.Rule{recommender.RuleFailed, recommender.RuleWithinTolerance},
			loadNils: []bool{true, false},
		},
		{
			name:    "initial replicas default to minReplicas",
			spec:    spec(3, 10, object("latency", "10")),
			series:  []Series{series(ModelValue, v(10))},
			desired: []int32{3},
			current: []int32{3},
			rules:   []recommender.Rule{recommender.RuleWithinTolerance},
		},
		{
			name:    "above maxReplicas is brought back without metrics",
			spec:    spec(1, 4, object("latency", "10")),
			initial: int32p(6),
			series:  []Series{series(ModelValue, v(10))},
			desired: []int32{4},
			current: []int32{6},
		},
		{
			name:    "the largest proposal of two metrics wins",
			kind:    KindAutoscaler,
			spec:    spec(1, 20, podsMetric("rps", "100"), external("queue", "5")),
			initial: int32p(2),
			// 200 over 2 pods is on target; 30 at 5 each proposes 6, which
			// the legacy limit max(2 x 2, 4) brings to 4.
			series:  []Series{series(ModelTotal, v(200)), series(ModelValues, v(30))},
			desired: []int32{4},
			current: []int32{2},
			rules:   []recommender.Rule{recommender.RuleTotalOverAverage},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind := tt.kind
			if kind == "" {
				kind = KindHPA
			}
			n := len(tt.series[0].Values)
			tl, err := Replay(Config{Target: Target{Kind: kind, Namespace: "ns", Name: "web", Spec: tt.spec}, Range: rng(n), InitialReplicas: tt.initial}, tt.series)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tl.Steps {
				if s.Desired != tt.desired[i] || s.Current != tt.current[i] {
					t.Errorf("step %d: current %d desired %d, want %d %d\n%s", i, s.Current, s.Desired, tt.current[i], tt.desired[i], strings.Join(s.Explanation, "\n"))
				}
				if tt.rules != nil {
					if len(s.Proposals) == 0 || s.Proposals[len(s.Proposals)-1].Rule != tt.rules[i] {
						t.Errorf("step %d: proposals %+v, want the last decided by %s", i, s.Proposals, tt.rules[i])
					}
				} else if len(s.Proposals) != 0 {
					t.Errorf("step %d: proposals %+v, want none", i, s.Proposals)
				}
				if tt.loadNils != nil && (s.Load[0] == nil) != tt.loadNils[i] {
					t.Errorf("step %d: load %v, want nil %t", i, s.Load[0], tt.loadNils[i])
				}
			}
		})
	}
}

func nan() float64 { return zero() / zero() }

func zero() float64 { return 0 }

// TestAutoscalerHoldsOnInvalidMetrics: the engine's scaler does not act on a
// result none of whose metrics could be used, where an HPA's result is what
// upstream applies; here both hold, and the Autoscaler's status keeps no
// scale time.
func TestAutoscalerHoldsOnInvalidMetrics(t *testing.T) {
	tests := []struct {
		name string
		kind string
	}{
		{name: "hpa", kind: KindHPA},
		{name: "autoscaler", kind: KindAutoscaler},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl, err := Replay(Config{
				Target:          Target{Kind: tt.kind, Namespace: "ns", Name: "web", Spec: spec(1, 10, podsMetric("rps", "100"))},
				Range:           Range{From: stepFrom, To: stepFrom.Add(time.Minute), Step: time.Minute},
				InitialReplicas: int32p(4),
			}, []Series{series(ModelTotal, nil, nil)})
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tl.Steps {
				if s.Rescaled || s.Current != 4 || s.Desired != 4 {
					t.Errorf("step %d: current %d desired %d rescaled %t, want a hold at 4", i, s.Current, s.Desired, s.Rescaled)
				}
			}
		})
	}
}

func TestReplayRejects(t *testing.T) {
	ok := Range{From: stepFrom, To: stepFrom.Add(time.Minute), Step: 15 * time.Second}
	cpu := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu"}}
	tests := []struct {
		name   string
		cfg    Config
		series []Series
		want   string
	}{
		{name: "unknown kind", cfg: Config{Target: Target{Kind: "Deployment", Spec: spec(1, 2, podsMetric("a", "1"))}, Range: ok}, want: "kind"},
		{name: "no step", cfg: Config{Target: Target{Kind: KindHPA, Spec: spec(1, 2, podsMetric("a", "1"))}, Range: Range{From: stepFrom, To: stepFrom}}, want: "step"},
		{name: "sub-millisecond step", cfg: Config{Target: Target{Kind: KindHPA, Spec: spec(1, 2, podsMetric("a", "1"))}, Range: Range{From: stepFrom, To: stepFrom.Add(time.Second), Step: time.Millisecond + 1}}, want: "step"},
		{name: "backwards", cfg: Config{Target: Target{Kind: KindHPA, Spec: spec(1, 2, podsMetric("a", "1"))}, Range: Range{From: stepFrom, To: stepFrom.Add(-time.Minute), Step: time.Second}}, want: "before it starts"},
		{name: "too many steps", cfg: Config{Target: Target{Kind: KindHPA, Spec: spec(1, 2, podsMetric("a", "1"))}, Range: Range{From: stepFrom, To: stepFrom.Add(MaxSteps * time.Second), Step: time.Second}}, want: "at most 11000 steps"},
		{name: "decades of steps", cfg: Config{Target: Target{Kind: KindHPA, Spec: spec(1, 2, podsMetric("a", "1"))}, Range: Range{From: time.Unix(0, 0), To: time.Unix(0, 0).Add(200 * 365 * 24 * time.Hour), Step: time.Millisecond}}, want: "at most"},
		{name: "resource metric", cfg: Config{Target: Target{Kind: KindHPA, Spec: spec(1, 2, cpu)}, Range: ok}, want: "Resource metrics cannot be replayed"},
		{name: "no metrics is cpu", cfg: Config{Target: Target{Kind: KindHPA, Spec: spec(1, 2)}, Range: ok}, want: "no metrics, which means CPU"},
		{name: "negative initial", cfg: Config{Target: Target{Kind: KindHPA, Spec: spec(1, 2, podsMetric("a", "1"))}, Range: ok, InitialReplicas: int32p(-1)}, want: "initial replicas"},
		{name: "series count", cfg: Config{Target: Target{Kind: KindHPA, Spec: spec(1, 2, podsMetric("a", "1"))}, Range: ok}, series: nil, want: "0 series for 1 metrics"},
		{name: "series model", cfg: Config{Target: Target{Kind: KindHPA, Spec: spec(1, 2, podsMetric("a", "1"))}, Range: ok}, series: []Series{series(ModelValue, v(1), v(1), v(1), v(1), v(1))}, want: "model"},
		{name: "series length", cfg: Config{Target: Target{Kind: KindHPA, Spec: spec(1, 2, podsMetric("a", "1"))}, Range: ok}, series: []Series{series(ModelTotal, v(1))}, want: "history has 1 steps, the range 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Replay(tt.cfg, tt.series)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestRangeLen(t *testing.T) {
	tests := []struct {
		name string
		r    Range
		want int
	}{
		{name: "one point", r: Range{From: stepFrom, To: stepFrom, Step: time.Second}, want: 1},
		{name: "inclusive end", r: Range{From: stepFrom, To: stepFrom.Add(time.Minute), Step: 15 * time.Second}, want: 5},
		{name: "end off the grid", r: Range{From: stepFrom, To: stepFrom.Add(70 * time.Second), Step: 15 * time.Second}, want: 5},
		{name: "a day at 15 s", r: Range{From: stepFrom, To: stepFrom.Add(24 * time.Hour), Step: 15 * time.Second}, want: 5761},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.r.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := tt.r.Len(); got != tt.want {
				t.Errorf("Len() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestShareSumsToTotal(t *testing.T) {
	tests := []struct {
		name  string
		total int64
		pods  int
	}{
		{name: "even", total: 900, pods: 3},
		{name: "remainder", total: 1001, pods: 3},
		{name: "negative remainder", total: -1001, pods: 3},
		{name: "fewer units than pods", total: 2, pods: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPods("web", stepFrom)
			var sum int64
			for _, m := range share(tt.total, p.first(tt.pods), stepFrom) {
				sum += m.Value
			}
			if sum != tt.total {
				t.Errorf("sum %d, want %d", sum, tt.total)
			}
		})
	}
}

// fakeHistory answers from canned series and records the queries.
type fakeHistory struct {
	series  map[string]Series
	err     error
	queries []Query
}

func (f *fakeHistory) Metric(_ context.Context, q Query) (Series, error) {
	f.queries = append(f.queries, q)
	if f.err != nil {
		return Series{}, f.err
	}
	return f.series[metricName(q.Metric)], nil
}

func TestRunQueriesEachMetricOnceAndReportsProgress(t *testing.T) {
	h := &fakeHistory{series: map[string]Series{
		"rps":   series(ModelTotal, v(100), v(100), v(100)),
		"queue": series(ModelValues, v(1), v(1), v(1)),
	}}
	var done []int
	cfg := Config{
		Target:   Target{Kind: KindAutoscaler, Namespace: "ns", Name: "web", Spec: spec(1, 5, podsMetric("rps", "100"), external("queue", "5"))},
		Range:    Range{From: stepFrom, To: stepFrom.Add(30 * time.Second), Step: 15 * time.Second},
		Progress: func(d, total int) { done = append(done, d*10+total) },
	}
	tl, err := Run(context.Background(), cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.queries) != 2 || h.queries[0].Namespace != "ns" || h.queries[0].Range != cfg.Range || h.queries[1].ScaleTargetRef.Name != "web" {
		t.Errorf("queries %+v, want one per metric over the whole range", h.queries)
	}
	if want := []int{13, 23, 33}; !equalInts(done, want) {
		t.Errorf("progress %v, want %v", done, want)
	}
	if len(tl.Metrics) != 2 || tl.Metrics[0].Model != ModelTotal || tl.Metrics[1].Model != ModelValues {
		t.Errorf("metrics %+v", tl.Metrics)
	}

	h.err = errors.New("prometheus down")
	if _, err := Run(context.Background(), cfg, h); err == nil || !strings.Contains(err.Error(), "history of metric 1 (Pods rps): prometheus down") {
		t.Errorf("err = %v, want the history's error with the metric", err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
