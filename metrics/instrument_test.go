package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
	"github.com/hpa-engine/hpa-engine/metrics/metricstest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var metricNames = []string{
	"hpa_engine_prometheus_queries_total",
	"hpa_engine_prometheus_query_duration_seconds",
	"hpa_engine_prometheus_query_result_series",
}

// steppingClock advances by step at every reading, so each call lasts step.
func steppingClock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	t := time.Unix(1700000000, 0)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(step)
		return t
	}
}

func TestInstrument(t *testing.T) {
	sample := hpametrics.Sample{Labels: map[string]string{"pod": "a"}}
	fake := &metricstest.Querier{
		Samples: map[string][]hpametrics.Sample{"three": {sample, sample, sample}},
		SeriesSets: map[string][]map[string]string{
			"up": {{"job": "a"}, {"job": "b"}},
		},
		Ranges: map[string][]hpametrics.Series{"rate": {{Labels: map[string]string{}}}},
		Errors: map[string]error{
			"bad":         fmt.Errorf("query %q: %w", "bad", hpametrics.ErrBadQuery),
			"down":        fmt.Errorf("query %q: %w", "down", hpametrics.ErrUnavailable),
			"other":       errors.New("HTTP 401"),
			"range-down":  hpametrics.ErrUnavailable,
			"series-down": hpametrics.ErrUnavailable,
		},
	}
	reg := prometheus.NewPedanticRegistry()
	m := hpametrics.NewQueryMetrics(reg)
	hpametrics.SetNow(m, steppingClock(30*time.Millisecond))
	main := hpametrics.Instrument(fake, "main", m)
	thanos := hpametrics.Instrument(fake, "thanos", m)

	ctx := context.Background()
	at := time.Unix(1700000000, 0)
	calls := []struct {
		name string
		call func() error
		want error
	}{
		{name: "query success", call: func() error { _, err := main.Query(ctx, "three", at); return err }},
		{name: "query bad", call: func() error { _, err := main.Query(ctx, "bad", at); return err }, want: hpametrics.ErrBadQuery},
		{name: "query unavailable", call: func() error { _, err := main.Query(ctx, "down", at); return err }, want: hpametrics.ErrUnavailable},
		{name: "query other error", call: func() error { _, err := main.Query(ctx, "other", at); return err }, want: fake.Errors["other"]},
		{name: "series success", call: func() error { _, err := main.Series(ctx, "up", at, at); return err }},
		{name: "series unavailable", call: func() error { _, err := main.Series(ctx, "series-down", at, at); return err }, want: hpametrics.ErrUnavailable},
		{name: "range success", call: func() error { _, err := main.QueryRange(ctx, "rate", at, at, time.Minute); return err }},
		{name: "range unavailable", call: func() error {
			_, err := main.QueryRange(ctx, "range-down", at, at, time.Minute)
			return err
		}, want: hpametrics.ErrUnavailable},
		{name: "other backend, no data", call: func() error { _, err := thanos.Query(ctx, "nothing", at); return err }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if c.want == nil && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			// The decorator must hand errors through untouched.
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("error = %v, want %v", err, c.want)
			}
		})
	}
	if got := len(fake.Calls()); got != len(calls) {
		t.Errorf("decorator made %d calls to the querier, want %d", got, len(calls))
	}

	golden := filepath.Join("testdata", "query_metrics.prom")
	if *update {
		writeExposition(t, reg, golden)
	}
	if err := testutil.GatherAndCompare(reg, mustOpen(t, golden), metricNames...); err != nil {
		t.Errorf("exposition differs from %s (go test -run TestInstrument -update rewrites it):\n%v", golden, err)
	}
	problems, err := testutil.GatherAndLint(reg, metricNames...)
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func TestInstrumentNilRegistererAndMetrics(t *testing.T) {
	fake := &metricstest.Querier{Samples: map[string][]hpametrics.Sample{"up": {{Value: 1}}}}
	for name, q := range map[string]hpametrics.Querier{
		"nil registerer": hpametrics.Instrument(fake, "b", hpametrics.NewQueryMetrics(nil)),
		"nil metrics":    hpametrics.Instrument(fake, "b", nil),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := q.Query(context.Background(), "up", time.Time{})
			if err != nil || len(got) != 1 || got[0].Value != 1 {
				t.Fatalf("Query = %v, %v; want the fake's sample", got, err)
			}
		})
	}
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "nil", err: nil, want: hpametrics.OutcomeSuccess},
		{name: "bad query wrapped", err: fmt.Errorf("query %q: %w", "x", hpametrics.ErrBadQuery), want: hpametrics.OutcomeBadQuery},
		{name: "unavailable wrapped twice", err: fmt.Errorf("a: %w", fmt.Errorf("b: %w", hpametrics.ErrUnavailable)), want: hpametrics.OutcomeUnavailable},
		{name: "canceled", err: context.Canceled, want: hpametrics.OutcomeError},
		{name: "other", err: errors.New("x"), want: hpametrics.OutcomeError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hpametrics.Outcome(tt.err); got != tt.want {
				t.Errorf("Outcome(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open golden file: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func writeExposition(t *testing.T, g prometheus.Gatherer, path string) {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var buf bytes.Buffer
	for _, mf := range families {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			t.Fatalf("encode %s: %v", mf.GetName(), err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}
