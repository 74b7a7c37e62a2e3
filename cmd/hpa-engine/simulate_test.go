package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
	"github.com/hpa-engine/hpa-engine/recommender/api"
	"github.com/hpa-engine/hpa-engine/recommender/loop"
	"github.com/hpa-engine/hpa-engine/recommender/simulate"
)

// stepLoadDir is the scenario the recommender's simulate tests and the e2e
// test share: its spec, its total load per 15 s step and the timeline both
// expect.
const stepLoadDir = "../../recommender/simulate/testdata/stepload"

// simulateConfig is the adapter configuration the fake Prometheus serves.
const simulateConfig = `rules:
- seriesQuery: 'e2e_pod_load{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
`

const stepLoadQuery = `sum(e2e_pod_load{namespace="sim",pod!=""}) by (pod)`

// fakeProm answers /api/v1/series and /api/v1/query_range for the step-load
// scenario: the total split over two pods of the target (web-...), plus a
// pod of another workload that must not count.
type fakeProm struct {
	load []float64
	from time.Time

	mu      sync.Mutex
	queries []string
	series  int
}

func newFakeProm(t *testing.T, from time.Time) (*fakeProm, *httptest.Server) {
	t.Helper()
	f, err := os.Open(filepath.Join(stepLoadDir, "load.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	p := &fakeProm{from: from}
	for _, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		p.load = append(p.load, v)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv
}

func (p *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/api/v1/series":
		p.mu.Lock()
		p.series++
		p.mu.Unlock()
		fmt.Fprint(w, `{"status":"success","data":[{"__name__":"e2e_pod_load","namespace":"sim","pod":"web-0"},{"__name__":"e2e_pod_load","namespace":"sim","pod":"web-1"}]}`)
	case "/api/v1/query_range":
		q := r.Form.Get("query")
		p.mu.Lock()
		p.queries = append(p.queries, q)
		p.mu.Unlock()
		if q != stepLoadQuery {
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
			return
		}
		start, _ := strconv.ParseFloat(r.Form.Get("start"), 64)
		end, _ := strconv.ParseFloat(r.Form.Get("end"), 64)
		step, _ := strconv.ParseFloat(r.Form.Get("step"), 64)
		type result struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		}
		out := []result{
			{Metric: map[string]string{"pod": "web-0"}}, {Metric: map[string]string{"pod": "web-1"}},
			{Metric: map[string]string{"pod": "worker-0"}},
		}
		for ts := start; ts <= end+1e-9; ts += step {
			i := int(math.Round((ts - float64(p.from.Unix())) / 15))
			if i < 0 || i >= len(p.load) {
				continue
			}
			half := strconv.FormatFloat(p.load[i]/2, 'f', -1, 64)
			for j := range out {
				v := half
				if j == 2 {
					v = "1000"
				}
				out[j].Values = append(out[j].Values, [2]any{ts, v})
			}
		}
		b, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": out}})
		_, _ = w.Write(b)
	default:
		http.NotFound(w, r)
	}
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readStepLoad(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(stepLoadDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func runSimulateCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newSimulateCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// TestSimulateCommandStepLoad runs the command over a fake Prometheus that
// holds the shared step-load history and expects the timeline the
// recommender's simulate tests predict, for the HPA and for the same spec as
// an Autoscaler.
func TestSimulateCommandStepLoad(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hpa := readStepLoad(t, "hpa.yaml")
	autoscaler := strings.Replace(strings.Replace(hpa, "apiVersion: autoscaling/v2", "apiVersion: autoscaling.hpa-engine.io/v1alpha1", 1),
		"kind: HorizontalPodAutoscaler", "kind: Autoscaler", 1)
	tests := []struct {
		name     string
		manifest string
		output   string
	}{
		{name: "hpa as a table", manifest: hpa, output: "table"},
		{name: "autoscaler as json", manifest: autoscaler, output: "json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prom, srv := newFakeProm(t, from)
			dir := t.TempDir()
			csvPath, svgPath := filepath.Join(dir, "timeline.csv"), filepath.Join(dir, "timeline.svg")
			out, err := runSimulateCommand(t,
				"-f", writeTemp(t, "manifest.yaml", tt.manifest),
				"--config", writeTemp(t, "config.yaml", simulateConfig),
				"--prometheus-url", srv.URL,
				"--from", "2026-01-01T00:00:00Z", "--to", "2026-01-01T00:30:00Z", "--step", "15s",
				"--initial-replicas", "2", "-o", tt.output, "--csv", csvPath, "--svg", svgPath)
			if err != nil {
				t.Fatal(err)
			}
			gotCSV, err := os.ReadFile(csvPath)
			if err != nil {
				t.Fatal(err)
			}
			if want := readStepLoad(t, "timeline.csv"); string(gotCSV) != want {
				t.Errorf("CSV differs from %s/timeline.csv:\n%s", stepLoadDir, gotCSV)
			}
			svg, err := os.ReadFile(svgPath)
			if err != nil {
				t.Fatal(err)
			}
			d := xml.NewDecoder(bytes.NewReader(svg))
			for {
				_, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("SVG is not well-formed: %v", err)
				}
			}
			if len(prom.queries) != 1 || prom.queries[0] != stepLoadQuery || prom.series != 1 {
				t.Errorf("queries %q and %d series listings, want one range query %q and one listing", prom.queries, prom.series, stepLoadQuery)
			}
			switch tt.output {
			case "table":
				for _, want := range []string{
					"Target:", "HorizontalPodAutoscaler sim/web (scales Deployment/web)",
					"121 steps", "query: " + stepLoadQuery, "2 at the start, 5 rescales, between 1 and 8",
					"2026-01-01T00:05:00Z", "ScaleUpLimit", "ScaleDownStabilized", "of 121 steps shown",
				} {
					if !strings.Contains(out, want) {
						t.Errorf("table lacks %q:\n%s", want, out)
					}
				}
			case "json":
				var tl simulate.Timeline
				if err := json.Unmarshal([]byte(out), &tl); err != nil {
					t.Fatalf("-o json is not a timeline: %v", err)
				}
				if tl.Kind != simulate.KindAutoscaler || len(tl.Steps) != 121 || len(tl.Steps[0].Explanation) == 0 {
					t.Errorf("timeline %s %d steps, want an Autoscaler's 121 steps with explanations", tl.Kind, len(tl.Steps))
				}
			}
		})
	}
}

func TestSimulateCommandErrors(t *testing.T) {
	_, srv := newFakeProm(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	cfg := writeTemp(t, "config.yaml", simulateConfig)
	hpa := writeTemp(t, "hpa.yaml", readStepLoad(t, "hpa.yaml"))
	cpu := writeTemp(t, "cpu.yaml", "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec: {maxReplicas: 3, scaleTargetRef: {kind: Deployment, name: web}}\n")
	base := func(extra ...string) []string {
		return append([]string{"--config", cfg, "--prometheus-url", srv.URL, "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-01T00:30:00Z"}, extra...)
	}
	tests := []struct {
		name string
		args []string
		want string
		is   error
	}{
		{name: "no manifest", args: base(), want: "-f/--filename is required"},
		{name: "no config", args: []string{"-f", hpa, "--prometheus-url", srv.URL}, want: "--config is required"},
		{name: "bad output", args: base("-f", hpa, "-o", "yaml"), want: `--output "yaml"`},
		{name: "bad step", args: base("-f", hpa, "--step", "soon"), want: "--step"},
		{name: "negative initial replicas", args: base("-f", hpa, "--initial-replicas", "-1"), want: "--initial-replicas -1"},
		{name: "bad series selector", args: base("-f", hpa, "--series-selector", "a=(b"), want: "--series-selector"},
		{name: "bad from", args: base("-f", hpa, "--from", "yesterday"), want: "--from", is: simulate.ErrInvalid},
		{name: "too many steps", args: base("-f", hpa, "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-03T00:00:00Z"), want: "at most 11000 steps", is: simulate.ErrInvalid},
		{name: "missing file", args: base("-f", filepath.Join(t.TempDir(), "nope.yaml")), want: "-f:"},
		{name: "cpu metrics", args: base("-f", cpu), want: "means CPU utilization", is: simulate.ErrInvalid},
		{name: "bad pod name pattern", args: base("-f", hpa, "--pod-name", "web-("), want: "pod name pattern", is: simulate.ErrInvalid},
		{name: "prometheus down", args: []string{"-f", hpa, "--config", cfg, "--prometheus-url", downURL, "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-01T00:30:00Z"}, want: "unavailable", is: simulate.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runSimulateCommand(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.is)
			}
		})
	}
}

func TestParseManifest(t *testing.T) {
	tests := []struct {
		name      string
		manifest  string
		kind      string
		namespace string
		err       string
	}{
		{name: "hpa yaml", manifest: "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: shop}\nspec: {maxReplicas: 3, scaleTargetRef: {kind: Deployment, name: web}}\n", kind: simulate.KindHPA, namespace: "shop"},
		{name: "autoscaler json with engine fields", manifest: `{"apiVersion":"autoscaling.hpa-engine.io/v1alpha1","kind":"Autoscaler","metadata":{"name":"w"},"spec":{"maxReplicas":3,"dryRun":true,"scaleTargetRef":{"kind":"StatefulSet","name":"w"}}}`, kind: simulate.KindAutoscaler, namespace: "default"},
		{name: "unknown field", manifest: "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec: {maxReplicas: 3, minReplica: 1, scaleTargetRef: {kind: Deployment, name: web}}\n", err: "minReplica"},
		{name: "autoscaling/v1", manifest: "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\n", err: "want autoscaling/v2 HorizontalPodAutoscaler"},
		{name: "a deployment", manifest: "apiVersion: apps/v1\nkind: Deployment\n", err: "manifest is apps/v1 Deployment"},
		{name: "no scale target", manifest: "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec: {maxReplicas: 3}\n", err: "scaleTargetRef.name"},
		{name: "no max", manifest: "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec: {scaleTargetRef: {kind: Deployment, name: web}}\n", err: "maxReplicas"},
		{name: "not yaml", manifest: "{[", err: "manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseManifest([]byte(tt.manifest))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, simulate.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tt.kind || got.Namespace != tt.namespace {
				t.Errorf("kind %q namespace %q, want %q %q", got.Kind, got.Namespace, tt.kind, tt.namespace)
			}
		})
	}
}

// TestSimulatorServesTheAPI checks the Simulator the controller mounts at
// POST /api/v1/simulate: the same replay as the command, errors classified.
func TestSimulatorServesTheAPI(t *testing.T) {
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, srv := newFakeProm(t, from)
	sim, err := newSimulator(writeTemp(t, "config.yaml", simulateConfig), promClientConfig(srv.URL), newSimulateOptions().settings(), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := api.New(api.Config{}, api.Deps{Store: loop.NewMemoryStore(), Simulator: sim})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"manifest": readStepLoad(t, "hpa.yaml"), "from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:30:00Z", "step": "15s", "initialReplicas": 2})
	req := httptest.NewRequest(http.MethodPost, "/api/v1/simulate", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var tl simulate.Timeline
	if err := json.Unmarshal(rec.Body.Bytes(), &tl); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := simulate.WriteCSV(&b, &tl); err != nil {
		t.Fatal(err)
	}
	if want := readStepLoad(t, "timeline.csv"); b.String() != want {
		t.Errorf("the API's timeline differs from %s/timeline.csv:\n%s", stepLoadDir, b.String())
	}

	tests := []struct {
		name     string
		manifest string
		is       error
	}{
		{name: "not a manifest", manifest: "kind: Pod", is: simulate.ErrInvalid},
		{name: "metric no rule exposes", manifest: strings.Replace(readStepLoad(t, "hpa.yaml"), "name: e2e_pod_load", "name: nope", 1), is: simulate.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sim.Simulate(context.Background(), api.Simulation{Manifest: []byte(tt.manifest), Range: simulate.Range{From: from, To: from.Add(time.Minute), Step: 15 * time.Second}})
			if !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want %v", err, tt.is)
			}
		})
	}
}

func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	p := &progressLine{w: &b}
	for i := 1; i <= 5761; i++ {
		p.update(i, 5761)
	}
	p.done()
	lines := strings.Count(b.String(), "\rsimulating:")
	if lines < 100 || lines > 101 {
		t.Errorf("%d progress updates for 5761 steps, want one per percent", lines)
	}
	if !strings.Contains(b.String(), "5761/5761 steps (100%)") {
		t.Errorf("no final update: %q", b.String()[max(0, b.Len()-80):])
	}
	if isTerminal(&b) {
		t.Error("a buffer is not a terminal")
	}
}

func promClientConfig(url string) hpametrics.ClientConfig {
	cc := newProviderOptions().Prometheus
	cc.URL = url
	return cc
}

// FuzzParseManifest: any bytes parse into a target with a scale target and
// a kind, or fail with simulate.ErrInvalid; nothing panics.
func FuzzParseManifest(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(stepLoadDir, "hpa.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"apiVersion":"autoscaling.hpa-engine.io/v1alpha1","kind":"Autoscaler","metadata":{"name":"w"},"spec":{"maxReplicas":3,"scaleTargetRef":{"kind":"StatefulSet","name":"w"}}}`))
	f.Add([]byte("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec: {maxReplicas: 0}\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parseManifest(b)
		if err != nil {
			if !errors.Is(err, simulate.ErrInvalid) {
				t.Fatalf("error %v does not wrap simulate.ErrInvalid", err)
			}
			return
		}
		if got.Kind == "" || got.Namespace == "" || got.Spec.ScaleTargetRef.Name == "" || got.Spec.MaxReplicas < 1 {
			t.Fatalf("accepted an incomplete target %+v", got)
		}
	})
}
