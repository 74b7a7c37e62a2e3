//go:build conformance

// This file needs upstream's package with testdata/podautoscaler_shim.go
// added to it; run.sh builds it that way (`make test-conformance`).

package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller/podautoscaler"

	"github.com/hpa-engine/hpa-engine/recommender"
)

const defaultSeed = 20260101

var (
	seedFlag      = flag.Uint64("seed", envUint("CONFORMANCE_SEED", defaultSeed), "seed of the run (env CONFORMANCE_SEED)")
	scenariosFlag = flag.Int("scenarios", int(envUint("CONFORMANCE_SCENARIOS", 5000)), "number of scenarios (env CONFORMANCE_SCENARIOS)")
	onlyFlag      = flag.Int("only", -1, "run only this scenario index (to reproduce one)")
	printedFlag   = flag.Int("print", 100, "print at most this many mismatches in full (the rest in one line each)")
	reportFlag    = flag.String("report", ".upstream/mismatches.txt", "file receiving every mismatch (empty: none)")
)

func envUint(name string, def uint64) uint64 {
	if v, err := strconv.ParseUint(os.Getenv(name), 10, 64); err == nil {
		return v
	}
	return def
}

// upstreamOutcome runs one reconcile of upstream's controller on in; with
// updateErr every scale update fails with it.
func upstreamOutcome(ctx context.Context, in recommender.Input, updateErr string) Outcome {
	set := SettingsFor(in.Settings)
	c := podautoscaler.ConformanceCase{
		HPA:                           HPAFor(in),
		SpecReplicas:                  in.Target.SpecReplicas,
		StatusReplicas:                in.Target.StatusReplicas,
		Selector:                      in.Target.Selector,
		Pods:                          PodsFor(in),
		Metrics:                       NewFakeMetrics(in),
		Tolerance:                     set.Tolerance,
		CPUInitializationPeriod:       set.CPUInitializationPeriod,
		DelayOfInitialReadinessStatus: set.DelayOfInitialReadinessStatus,
		DownscaleStabilisationWindow:  set.DownscaleStabilisationWindow,
		UpdateError:                   updateErr,
	}
	self := in.Namespace + "/" + in.Name
	for _, other := range in.Target.SelectingAutoscalers {
		if other != self {
			if c.OtherHPAs == nil {
				c.OtherHPAs = map[string]string{}
			}
			c.OtherHPAs[other] = Selector
		}
	}
	// Our core treats an empty list as "first time seen"; upstream does so
	// for a nil one.
	for _, r := range in.History.Recommendations {
		c.Recommendations = append(c.Recommendations, podautoscaler.ConformanceRecommendation{Replicas: r.Replicas, Timestamp: r.Timestamp})
	}
	for _, e := range in.History.ScaleUpEvents {
		c.ScaleUpEvents = append(c.ScaleUpEvents, podautoscaler.ConformanceScaleEvent{Change: e.ReplicaChange, Timestamp: e.Timestamp, Outdated: e.Outdated})
	}
	for _, e := range in.History.ScaleDownEvents {
		c.ScaleDownEvents = append(c.ScaleDownEvents, podautoscaler.ConformanceScaleEvent{Change: e.ReplicaChange, Timestamp: e.Timestamp, Outdated: e.Outdated})
	}

	r := podautoscaler.ConformanceReconcile(ctx, c)
	out := Outcome{Rescale: r.Rescaled, Desired: r.ScaleReplicas, Status: r.Status}
	// The proposals need a valid selector; our core computes none without one.
	if ps, err := podautoscaler.ConformanceProposals(ctx, c); err == nil {
		for _, p := range ps {
			mp := MetricProposal{Replicas: p.Replicas, Description: p.Metric}
			if p.Err != nil {
				mp = MetricProposal{Failed: true, Reason: p.Condition.Reason, Message: p.Condition.Message}
			}
			out.Proposals = append(out.Proposals, mp)
		}
	}
	if r.Err != nil {
		out.Error = r.Err.Error()
	}
	for _, x := range r.Recommendations {
		out.History.Recommendations = append(out.History.Recommendations, recommender.TimestampedRecommendation{Replicas: x.Replicas, Timestamp: x.Timestamp})
	}
	for _, x := range r.ScaleUpEvents {
		out.History.ScaleUpEvents = append(out.History.ScaleUpEvents, recommender.ScaleEvent{ReplicaChange: x.Change, Timestamp: x.Timestamp, Outdated: x.Outdated})
	}
	for _, x := range r.ScaleDownEvents {
		out.History.ScaleDownEvents = append(out.History.ScaleDownEvents, recommender.ScaleEvent{ReplicaChange: x.Change, Timestamp: x.Timestamp, Outdated: x.Outdated})
	}
	return out
}

// run is one scenario run on both sides.
type run struct {
	in       recommender.Input
	up, ours Outcome
	result   recommender.Result
	oursErr  error
	diffs    []Difference
}

// maxAttempts bounds the retries of a scenario whose upstream reconcile was
// too slow to compare (see runBoth).
const maxAttempts = 5

// harness runs scenarios on both sides.
type harness struct {
	ctx context.Context
	// slowRuns counts the reconciles retried because they were too slow.
	slowRuns int
}

// variant is how a generated scenario is run, beyond its Input.
type variant struct {
	// viaV1 gives our core the pods as the controller loop will, converted
	// from the same corev1.Pod objects upstream lists (recommender.PodFromV1).
	viaV1 bool
	// viaJSON gives our core its input after a JSON round trip, as
	// POST /api/v1/recommend receives it.
	viaJSON bool
	// updateError makes the scale update fail, on both sides.
	updateError string
}

// variantOf is scenario i's variant: every other one via corev1.Pod, one in
// three through JSON, one in ten with a failing scale update.
func variantOf(i int) variant {
	v := variant{viaV1: i%2 == 1, viaJSON: i%3 == 2}
	if i%10 == 3 {
		v.updateError = "Operation cannot be fulfilled: the server is currently unavailable"
	}
	return v
}

// runBoth moves a generated scenario to the real clock and runs both sides.
// Our core computes at in.Now; upstream reads time.Now() during its
// reconcile. When that reconcile takes longer than clockSlack (a GC pause,
// a busy machine), upstream's clock may have moved far enough to cross a
// boundary the generator keeps half a second away, so the run is retried.
func (h *harness) runBoth(generated recommender.Input, v variant) run {
	return h.runMutated(generated, v, nil)
}

// runMutated is runBoth with mutate (when not nil) applied to our core's
// input only: TestConformanceDetectsMutations uses it to show that the
// comparison notices a core that is wrong.
func (h *harness) runMutated(generated recommender.Input, v variant, mutate func(*recommender.Input)) run {
	var r run
	for range maxAttempts {
		start := time.Now()
		in := WithAPIStatusTimes(Rebase(generated, start.Sub(generated.Now)))
		r = run{in: in}
		r.up = upstreamOutcome(h.ctx, in, v.updateError)
		if time.Since(start) < clockSlack {
			break
		}
		h.slowRuns++
	}
	in := r.in
	oursIn := in
	if v.viaV1 {
		oursIn.Target.Pods = nil
		for _, p := range PodsFor(in) {
			oursIn.Target.Pods = append(oursIn.Target.Pods, recommender.PodFromV1(p))
		}
	}
	if v.viaJSON {
		b, err := json.Marshal(oursIn)
		if err == nil {
			oursIn = recommender.Input{}
			err = json.Unmarshal(b, &oursIn)
		}
		if err != nil {
			r.oursErr = fmt.Errorf("json round trip: %w", err)
			r.diffs = []Difference{{Field: "recommend", Upstream: "a result", Ours: r.oursErr.Error(), Critical: true}}
			return r
		}
	}
	if mutate != nil {
		oursIn = clone(oursIn)
		mutate(&oursIn)
	}
	var updateErr error
	if v.updateError != "" {
		updateErr = errors.New(v.updateError)
	}
	r.ours, r.result, r.oursErr = OursOutcome(oursIn, updateErr)
	if r.oursErr != nil {
		r.diffs = []Difference{{Field: "recommend", Upstream: "a result", Ours: r.oursErr.Error(), Critical: true}}
		return r
	}
	r.diffs = Diff(r.up, r.ours, in.Now)
	return r
}

// mismatch is one failing scenario, shrunk.
type mismatch struct {
	index   int
	field   string
	variant variant
	run     run
}

func (m mismatch) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "=== mismatch in scenario %d (seed %d) — reproduce: test/conformance/run.sh -run '^TestConformance$' -args -seed=%d -only=%d\n", m.index, *seedFlag, *seedFlag, m.index)
	b.WriteString("scenario (minimized; times relative to now):\n")
	if m.variant.viaV1 {
		b.WriteString("  (our core gets the pods through recommender.PodFromV1)\n")
	}
	if m.variant.viaJSON {
		b.WriteString("  (our core gets its input after a JSON round trip)\n")
	}
	if m.variant.updateError != "" {
		fmt.Fprintf(&b, "  (the scale update fails: %q; ours runs recommender.RescaleFailed)\n", m.variant.updateError)
	}
	for _, line := range strings.Split(strings.TrimRight(Render(m.run.in), "\n"), "\n") {
		b.WriteString("  " + line + "\n")
	}
	b.WriteString("differences:\n")
	for _, d := range m.run.diffs {
		b.WriteString("  " + d.String() + "\n")
	}
	fmt.Fprintf(&b, "upstream: rescale=%v desired=%d conditions=%s error=%s\n", m.run.up.Rescale, m.run.up.Desired, conds(m.run.up.Status.Conditions, true), quoteOrNone(m.run.up.Error))
	fmt.Fprintf(&b, "ours:     rescale=%v desired=%d conditions=%s error=%s\n", m.run.ours.Rescale, m.run.ours.Desired, conds(m.run.ours.Status.Conditions, true), quoteOrNone(m.run.ours.Error))
	if m.run.oursErr == nil {
		b.WriteString("our explanation:\n")
		for _, line := range m.run.result.Lines() {
			b.WriteString("  " + line + "\n")
		}
	}
	return b.String()
}

func firstField(ds []Difference) string {
	for _, d := range ds {
		if d.Critical {
			return d.Field
		}
	}
	if len(ds) > 0 {
		return ds[0].Field
	}
	return ""
}

// TestConformance compares our core with upstream's controller on seeded
// random scenarios and fails on any difference.
func TestConformance(t *testing.T) {
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
	h := &harness{ctx: klog.NewContext(context.Background(), logr.Discard())}

	seed := *seedFlag
	first, last := 0, *scenariosFlag
	if *onlyFlag >= 0 {
		first, last = *onlyFlag, *onlyFlag+1
	}
	fmt.Printf("conformance: seed %d, scenarios %d..%d (k8s.io/kubernetes v1.37.2 pkg/controller/podautoscaler)\n", seed, first, last-1)

	var mismatches []mismatch
	cov := newCoverage()
	proposals := 0
	start := time.Now()
	for i := first; i < last; i++ {
		generated := Generate(seed, i)
		v := variantOf(i)
		r := h.runBoth(generated, v)
		if strings.Contains(r.up.Error, errNoObservation.Error()) {
			t.Fatalf("scenario %d: harness bug: %s\n%s", i, r.up.Error, Render(r.in))
		}
		cov.add(generated, r.up)
		if len(r.ours.Proposals) > 0 {
			proposals += len(r.ours.Proposals)
		}
		if len(r.diffs) == 0 {
			continue
		}
		field := firstField(r.diffs)
		shrunk := Shrink(generated, func(c recommender.Input) bool {
			cr := h.runBoth(c, v)
			return firstField(cr.diffs) == field
		})
		m := mismatch{index: i, field: field, variant: v, run: h.runBoth(shrunk, v)}
		if len(m.run.diffs) == 0 { // a timing fluke would show here
			m.run = r
		}
		mismatches = append(mismatches, m)
		if len(mismatches) <= *printedFlag {
			fmt.Print(m.String())
		} else {
			fmt.Printf("=== mismatch in scenario %d: %s (in full in the report)\n", i, field)
		}
	}
	n := last - first
	fmt.Printf("coverage:\n%s", cov)
	fmt.Printf("per-metric proposals compared: %d\n", proposals)
	fmt.Printf("elapsed: %s (upstream reconciles retried for slowness: %d)\n", time.Since(start).Round(time.Millisecond), h.slowRuns)
	fmt.Printf("scenarios: %d, mismatches: %d\n", n, len(mismatches))
	if len(mismatches) == 0 {
		return
	}
	byField := map[string]int{}
	for _, m := range mismatches {
		byField[m.field]++
	}
	fields := make([]string, 0, len(byField))
	for f := range byField {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		fmt.Printf("  %s: %d\n", f, byField[f])
	}
	if *reportFlag != "" {
		var b strings.Builder
		fmt.Fprintf(&b, "seed %d, scenarios: %d, mismatches: %d\n\n", seed, n, len(mismatches))
		for _, m := range mismatches {
			b.WriteString(m.String() + "\n")
		}
		if err := os.MkdirAll(filepath.Dir(*reportFlag), 0o755); err == nil {
			if err := os.WriteFile(*reportFlag, []byte(b.String()), 0o644); err == nil {
				fmt.Printf("every mismatch: %s\n", *reportFlag)
			}
		}
	}
	t.Errorf("scenarios: %d, mismatches: %d", n, len(mismatches))
}

// TestConformanceDetectsMutations checks that the differential test can fail:
// each mutation makes our core's input differ from upstream's in one way a
// wrong core could behave, and must show up as critical differences.
func TestConformanceDetectsMutations(t *testing.T) {
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
	h := &harness{ctx: klog.NewContext(context.Background(), logr.Discard())}
	const scenarios = 400
	mutations := []struct {
		name   string
		mutate func(*recommender.Input)
	}{
		{name: "tolerance off by 0.02", mutate: func(in *recommender.Input) {
			tol := recommender.DefaultTolerance
			if in.Settings.Tolerance != nil {
				tol = *in.Settings.Tolerance
			}
			in.Settings.Tolerance = ptr(tol + 0.02)
		}},
		{name: "history forgotten", mutate: func(in *recommender.Input) { in.History = recommender.History{} }},
		{name: "every pod ready", mutate: func(in *recommender.Input) {
			for i := range in.Target.Pods {
				in.Target.Pods[i].Ready = &recommender.PodReadyCondition{Status: "True", LastTransitionTime: in.Now.Add(-time.Hour)}
			}
		}},
		{name: "metric values 5% higher", mutate: func(in *recommender.Input) {
			for i := range in.Observations {
				o := &in.Observations[i]
				o.Value += o.Value / 20
				for j := range o.PodMetrics {
					o.PodMetrics[j].Value += o.PodMetrics[j].Value / 20
				}
			}
		}},
		{name: "scale events dropped", mutate: func(in *recommender.Input) {
			in.History.ScaleUpEvents, in.History.ScaleDownEvents = nil, nil
		}},
		{name: "prior conditions dropped", mutate: func(in *recommender.Input) { in.Status.Conditions = nil }},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			critical := 0
			for i := range scenarios {
				r := h.runMutated(Generate(*seedFlag, i), variantOf(i), m.mutate)
				for _, d := range r.diffs {
					if d.Critical {
						critical++
						break
					}
				}
			}
			fmt.Printf("mutation %q: %d of %d scenarios differ\n", m.name, critical, scenarios)
			if critical == 0 {
				t.Errorf("no scenario notices the mutation %q", m.name)
			}
		})
	}
}
