package scaler

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

func TestMetrics(t *testing.T) {
	up, down, missing := newAutoscaler("up", deployRef("up")), newAutoscaler("down", deployRef("down")), newAutoscaler("missing", deployRef("missing"))
	paused := newAutoscaler("paused", deployRef("paused"))
	paused.Spec.Paused = true
	e := newEnv(t, up, down, missing, paused)
	reg := prometheus.NewPedanticRegistry()
	deps := e.s.deps
	deps.Metrics = NewMetrics(reg)
	all, deleted := deps.Autoscalers, map[string]bool{}
	deps.Autoscalers = listerFunc(func() ([]*v1alpha1.Autoscaler, error) {
		list, err := all.List()
		var out []*v1alpha1.Autoscaler
		for _, a := range list {
			if !deleted[a.Name] {
				out = append(out, a)
			}
		}
		return out, err
	})
	s, err := New(e.s.cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	e.now = t0.Add(time.Second)
	e.scales.set("deployments.apps", "up", 2)
	e.scales.set("deployments.apps", "down", 6)
	for _, c := range []struct {
		a        *v1alpha1.Autoscaler
		from, to int32
	}{{up, 2, 5}, {down, 6, 3}, {missing, 2, 4}} {
		e.store.Put(recFor(c.a, result(1, c.from, c.to, true, t0), t0))
	}
	s.Sync(context.Background())
	s.Sync(context.Background()) // nothing new: counted once, paused too

	want := `
# HELP hpa_engine_scaler_actions_total Recommendations the scaler acted on, by what it did (Rescaled, DryRun, Hold, Failed; Paused when it became paused).
# TYPE hpa_engine_scaler_actions_total counter
hpa_engine_scaler_actions_total{action="DryRun"} 0
hpa_engine_scaler_actions_total{action="Failed"} 1
hpa_engine_scaler_actions_total{action="Hold"} 0
hpa_engine_scaler_actions_total{action="Paused"} 1
hpa_engine_scaler_actions_total{action="Rescaled"} 2
# HELP hpa_engine_scaler_errors_total Errors of the scaler, by upstream's event reason (FailedGetScale, FailedRescale, FailedUpdateStatus).
# TYPE hpa_engine_scaler_errors_total counter
hpa_engine_scaler_errors_total{reason="FailedGetScale"} 1
hpa_engine_scaler_errors_total{reason="FailedRescale"} 0
hpa_engine_scaler_errors_total{reason="FailedUpdateStatus"} 0
# HELP hpa_engine_scaler_rescales_total Scale operations the scaler attempted on an Autoscaler's target, by direction (up, down) and outcome (success, failure, dry_run).
# TYPE hpa_engine_scaler_rescales_total counter
hpa_engine_scaler_rescales_total{direction="down",kind="Autoscaler",name="down",namespace="ns",outcome="success"} 1
hpa_engine_scaler_rescales_total{direction="up",kind="Autoscaler",name="missing",namespace="ns",outcome="failure"} 1
hpa_engine_scaler_rescales_total{direction="up",kind="Autoscaler",name="up",namespace="ns",outcome="success"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "hpa_engine_scaler_actions_total", "hpa_engine_scaler_errors_total", "hpa_engine_scaler_rescales_total"); err != nil {
		t.Error(err)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}

	// A deleted Autoscaler's series go at the next sync; the others stay.
	deleted["missing"] = true
	s.Sync(context.Background())
	if n, err := testutil.GatherAndCount(reg, "hpa_engine_scaler_rescales_total"); err != nil || n != 2 {
		t.Errorf("rescale series after deleting one Autoscaler = %d (%v), want 2", n, err)
	}

	var nilMetrics *Metrics
	nilMetrics.action(Outcome{Action: ActionRescaled}, "ns", "x", 1, 2)
	nilMetrics.retain(nil)
	nilMetrics.error(ReasonFailedRescale)
	nilMetrics.setLeading(true)
}
