package provider

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hpa-engine/hpa-engine/adapter"
	"github.com/hpa-engine/hpa-engine/adapter/config"
)

// renamedConfig is testConfig with the pods metric renamed, so a reload
// shows in ListAllMetrics without a relist.
var renamedConfig = strings.Replace(testConfig, `as: "${1}_per_second"`, `as: "${1}_rate"`, 1)

const badConfig = `
rules:
- seriesQuery: 'http_requests_total{namespace!="",pod!=""}'
  resources: {overrides: {pod: {resource: pod}}}
  name: {matches: "^(unclosed"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
`

// writeAtomically replaces a file the way editors and kubectl cp do.
func writeAtomically(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// reloadHarness runs a Reloader over a provider and reports each reload.
type reloadHarness struct {
	r       *Reloader
	f       *fixture
	applied chan *config.Config
	reg     *prometheus.Registry
}

func startReloader(t *testing.T, path string, apply func(*config.Config) error) *reloadHarness {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	r := NewReloader(path, reg)
	r.delay = 20 * time.Millisecond
	cfg, err := r.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	f := newFixture(t, fixtureOptions{config: testConfig})
	if err := f.p.SetConfig(cfg); err != nil {
		t.Fatal(err)
	}
	h := &reloadHarness{r: r, f: f, applied: make(chan *config.Config, 10), reg: reg}
	if apply == nil {
		apply = f.p.SetConfig
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- r.Run(ctx, func(c *config.Config) error {
			err := apply(c)
			if err == nil {
				h.applied <- c
			}
			return err
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	// Run must be watching before the test writes; a no-op event proves it.
	waitWatching(t, h)
	return h
}

// waitWatching waits until Run watches the directory.
func waitWatching(t *testing.T, h *reloadHarness) {
	t.Helper()
	select {
	case <-h.r.watching:
	case <-time.After(10 * time.Second):
		t.Fatal("the reloader does not watch")
	}
}

func (h *reloadHarness) counter(outcome string) float64 {
	return testutil.ToFloat64(h.r.metrics.reloads.WithLabelValues(outcome))
}

func (h *reloadHarness) wantApplied(t *testing.T) *config.Config {
	t.Helper()
	select {
	case c := <-h.applied:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the change was not applied")
		return nil
	}
}

func metricNames(infos []adapter.CustomMetricInfo) []string {
	var out []string
	for _, i := range infos {
		out = append(out, i.String())
	}
	return out
}

func TestReloadGoodThenBad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	writeAtomically(t, path, testConfig)
	h := startReloader(t, path, nil)

	// A good file is swapped in; the series already listed serve it at once.
	writeAtomically(t, path, renamedConfig)
	h.wantApplied(t)
	want := []string{"namespaces/http_requests_rate", "namespaces/queue_depth", "nodes/node_load", "pods/http_requests_rate", "services/queue_depth"}
	if got := metricNames(h.f.p.ListAllMetrics()); !reflect.DeepEqual(got, want) {
		t.Errorf("after a good reload:\n got %v\nwant %v", got, want)
	}
	// The initial load and this one; the counter moves just after apply.
	waitFor(t, func() bool { return h.counter(outcomeSuccess) == 2 })

	// A bad file is rejected, counted, and the good one keeps serving.
	writeAtomically(t, path, badConfig)
	waitFor(t, func() bool { return h.counter(outcomeFailure) == 1 })
	if got := metricNames(h.f.p.ListAllMetrics()); !reflect.DeepEqual(got, want) {
		t.Errorf("after a bad reload:\n got %v\nwant %v", got, want)
	}
	select {
	case c := <-h.applied:
		t.Errorf("a bad file was applied: %+v", c)
	default:
	}

	// An empty file, as an in-place write shows between truncation and
	// content, is not swapped in either.
	writeAtomically(t, path, "\n")
	waitFor(t, func() bool { return h.counter(outcomeFailure) == 2 })
	if got := metricNames(h.f.p.ListAllMetrics()); !reflect.DeepEqual(got, want) {
		t.Errorf("after an empty file:\n got %v\nwant %v", got, want)
	}

	// Fixing the file recovers.
	writeAtomically(t, path, testConfig)
	h.wantApplied(t)
	if got := h.f.p.ListAllMetrics(); !reflect.DeepEqual(got, testCustomMetrics) {
		t.Errorf("after recovery:\n got %v\nwant %v", got, testCustomMetrics)
	}
	if got := h.counter(outcomeFailure); got != 2 {
		t.Errorf("failed loads = %v, want 2", got)
	}
}

// TestReloadConfigMapSymlinkSwap mounts the file as kubelet mounts a
// ConfigMap: config.yaml -> ..data/config.yaml, ..data -> ..<timestamp>/,
// updated by renaming a new ..data symlink over the old one.
func TestReloadConfigMapSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	mount := func(version, content string) {
		if err := os.MkdirAll(filepath.Join(dir, version), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, version, "config.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(version, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	mount("..2026_11_27_12_00_00.1", testConfig)
	path := filepath.Join(dir, "config.yaml")
	if err := os.Symlink(filepath.Join("..data", "config.yaml"), path); err != nil {
		t.Fatal(err)
	}
	h := startReloader(t, path, nil)

	mount("..2026_11_27_12_01_00.2", renamedConfig)
	h.wantApplied(t)
	if got := metricNames(h.f.p.ListAllMetrics()); !slices.Contains(got, "pods/http_requests_rate") {
		t.Errorf("after the swap: %v", got)
	}
}

// TestReloadRefusedByApply: a file that loads but that the provider
// refuses (a backend it cannot build) is a failure, and is retried on the
// next event rather than remembered.
func TestReloadRefusedByApply(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	writeAtomically(t, path, testConfig)
	refuse := errors.New("backend \"b\": ca file: no such file")
	h := startReloader(t, path, func(*config.Config) error { return refuse })

	writeAtomically(t, path, renamedConfig)
	waitFor(t, func() bool { return h.counter(outcomeFailure) == 1 })
	// The same content again is tried again.
	writeAtomically(t, path, renamedConfig)
	waitFor(t, func() bool { return h.counter(outcomeFailure) == 2 })
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content *string
		wantErr error
	}{
		{name: "good file", content: ptr(testConfig)},
		{name: "bad file", content: ptr(badConfig), wantErr: config.ErrInvalid},
		{name: "missing file", wantErr: os.ErrNotExist},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "config-"+string(rune('a'+i))+".yaml")
			if tt.content != nil {
				writeAtomically(t, path, *tt.content)
			}
			r := NewReloader(path, nil)
			cfg, err := r.Load()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(cfg.Rules) != 3 {
				t.Fatalf("Load = %v rules, %v", cfg, err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
