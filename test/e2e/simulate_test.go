//go:build integration

package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hpa-engine/hpa-engine/test/testbed"
)

// stepLoadDir is the scenario recommender/simulate's table test replays: the
// spec (a Pods metric, a 120 s scale-down window, Percent policies both ways),
// the total load per 15 s step and the timeline it predicts.
const stepLoadDir = "../../recommender/simulate/testdata/stepload"

// TestSimulateReplaysPushedHistory pushes the step-load history into the
// real Prometheus, split over the target's two pods beside a pod of another
// workload, runs `hpa-engine simulate` over it and requires exactly the
// timeline the recommender's table test predicts from the same series (the
// shared timeline.csv, times aside), and a well-formed SVG chart.
func TestSimulateReplaysPushedHistory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	load := readLoad(t)
	// Prometheus accepts the pushed past (out-of-order window of a day); the
	// range ends on the last sample so its lookback adds nothing after.
	from := time.Now().UTC().Truncate(time.Minute).Add(-45 * time.Minute)
	to := from.Add(time.Duration(len(load)-1) * 15 * time.Second)
	var samples []testbed.Sample
	for _, pod := range []string{"web-0", "web-1", "worker-0"} {
		for i, total := range load {
			v := total / 2
			if pod == "worker-0" {
				v = 1000 // another workload's pod: never counted
			}
			samples = append(samples, testbed.Sample{
				Labels: map[string]string{"__name__": "e2e_pod_load", "namespace": "sim", "pod": pod},
				Value:  v,
				Time:   from.Add(time.Duration(i) * 15 * time.Second),
			})
		}
	}
	if err := prom.Push(ctx, samples...); err != nil {
		t.Fatal(err)
	}

	bin, err := env.BuildEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "adapter-config.yaml")
	if err := os.WriteFile(cfgFile, []byte(adapterConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	csvFile, svgFile := filepath.Join(dir, "timeline.csv"), filepath.Join(dir, "timeline.svg")
	cmd := exec.CommandContext(ctx, bin, "simulate",
		"-f", filepath.Join(stepLoadDir, "hpa.yaml"),
		"--config", cfgFile,
		"--prometheus-url", prom.URL,
		"--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339), "--step", "15s",
		"--initial-replicas", "2",
		"--csv", csvFile, "--svg", svgFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hpa-engine simulate: %v\n%s", err, out)
	}
	t.Logf("hpa-engine simulate:\n%s", out)

	got := readCSV(t, csvFile)
	want := readCSV(t, filepath.Join(stepLoadDir, "timeline.csv"))
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		// Column 0 is the absolute time; offset_seconds follows it.
		if g, w := strings.Join(got[i][1:], ","), strings.Join(want[i][1:], ","); g != w {
			t.Errorf("row %d (%s): %s, want %s", i, got[i][0], g, w)
		}
	}
	if !strings.Contains(string(out), `query: sum(e2e_pod_load{namespace="sim",pod!=""}) by (pod)`) {
		t.Errorf("the table does not show the adapter's query:\n%s", out)
	}

	svg, err := os.ReadFile(svgFile)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(svg))
	d.Strict = true
	paths := map[string]bool{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "path" {
			for _, a := range se.Attr {
				if a.Name.Local == "id" {
					paths[a.Value] = true
				}
			}
		}
	}
	for _, id := range []string{"load-0", "desired", "current"} {
		if !paths[id] {
			t.Errorf("SVG has no path %q (paths %v)", id, paths)
		}
	}
}

func readLoad(t *testing.T) []float64 {
	t.Helper()
	rows := readCSV(t, filepath.Join(stepLoadDir, "load.csv"))
	var load []float64
	for _, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		load = append(load, v)
	}
	return load
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// BenchmarkSimulateDay pushes a day of history at 15 s for two pods into the
// real Prometheus (within its one-day out-of-order window) and times
// `hpa-engine simulate` over it, end to end: process start, series
// discovery, the range query and the replay of 5,761 steps. It reports steps
// per second.
func BenchmarkSimulateDay(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	const steps = 5761
	to := time.Now().UTC().Truncate(time.Minute).Add(-5 * time.Minute)
	from := to.Add(-(steps - 1) * 15 * time.Second)
	var samples []testbed.Sample
	for _, pod := range []string{"bench-0", "bench-1"} {
		for i := range steps {
			v := 300.0
			if i%480 < 120 {
				v = 900
			}
			samples = append(samples, testbed.Sample{
				Labels: map[string]string{"__name__": "e2e_pod_load", "namespace": "sim-bench", "pod": pod},
				Value:  v,
				Time:   from.Add(time.Duration(i) * 15 * time.Second),
			})
		}
	}
	if err := prom.Push(ctx, samples...); err != nil {
		b.Fatal(err)
	}
	bin, err := env.BuildEngine(ctx)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	cfgFile, hpaFile := filepath.Join(dir, "adapter-config.yaml"), filepath.Join(dir, "hpa.yaml")
	hpa, err := os.ReadFile(filepath.Join(stepLoadDir, "hpa.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	hpa = bytes.Replace(bytes.Replace(hpa, []byte("namespace: sim"), []byte("namespace: sim-bench"), 1), []byte("name: web\n"), []byte("name: bench\n"), -1)
	if err := os.WriteFile(cfgFile, []byte(adapterConfig), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(hpaFile, hpa, 0o600); err != nil {
		b.Fatal(err)
	}
	var stdout bytes.Buffer
	for b.Loop() {
		cmd := exec.CommandContext(ctx, bin, "simulate", "-f", hpaFile, "--config", cfgFile, "--prometheus-url", prom.URL,
			"--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339), "--step", "15s", "-o", "json")
		var stderr bytes.Buffer
		stdout.Reset()
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("hpa-engine simulate: %v\n%s", err, stderr.String())
		}
	}
	b.ReportMetric(float64(steps)*float64(b.N)/b.Elapsed().Seconds(), "steps/s")
	// The figure is only worth something if every step had data.
	var tl struct {
		Steps []struct {
			Load []*float64 `json:"load"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &tl); err != nil {
		b.Fatal(err)
	}
	if len(tl.Steps) != steps {
		b.Fatalf("%d steps, want %d", len(tl.Steps), steps)
	}
	for i, s := range tl.Steps {
		if len(s.Load) != 1 || s.Load[0] == nil || *s.Load[0] < 600 {
			b.Fatalf("step %d: load %v, want the two pods' total", i, s.Load)
		}
	}
}
