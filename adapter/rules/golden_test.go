package rules

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/hpa-engine/hpa-engine/adapter/config"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// testMapper knows the built-in resources plus the brands.cheese.io custom
// resource docs/sample-config.yaml says "should still resolve in our
// cluster".
func testMapper() meta.RESTMapper {
	cheese := schema.GroupVersion{Group: "cheese.io", Version: "v1"}
	crds := meta.NewDefaultRESTMapper([]schema.GroupVersion{cheese})
	crds.Add(cheese.WithKind("Brand"), meta.RESTScopeNamespace)
	return meta.MultiRESTMapper{BuiltinMapper(), crds}
}

// readSeries parses a .series file: "> <seriesQuery>" starts a listing and
// each following "name{label,...}" line is one series of it.
func readSeries(t *testing.T, path string) map[QueryKey][]Series {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[QueryKey][]Series{}
	var key *QueryKey
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "> "):
			key = &QueryKey{SeriesQuery: strings.TrimPrefix(line, "> ")}
		default:
			if key == nil {
				t.Fatalf("%s: series before any '> query' line: %q", path, line)
			}
			name, rest, ok := strings.Cut(line, "{")
			if !ok || !strings.HasSuffix(rest, "}") {
				t.Fatalf("%s: bad series line %q", path, line)
			}
			var lbls []string
			if inner := strings.TrimSuffix(rest, "}"); inner != "" {
				lbls = strings.Split(inner, ",")
			}
			out[*key] = append(out[*key], Series{Name: name, Labels: lbls})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for k := range out {
		sortSeries(out[k])
	}
	return out
}

// TestDiscoveryAndRenderingGolden loads each testdata/*.yaml configuration,
// discovers its metrics from the matching .series file and renders the
// queries of a fixed set of requests for every metric into the .golden
// file: the metric names and queries prometheus-adapter's docs describe.
func TestDiscoveryAndRenderingGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := config.LoadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			base := strings.TrimSuffix(f, ".yaml")
			series := readSeries(t, base+".series")
			for _, k := range SeriesQueries(cfg) {
				if _, ok := series[k]; !ok {
					t.Fatalf("%s.series has no listing for %q", base, k.SeriesQuery)
				}
			}
			ix := NewIndex(cfg, series, testMapper())
			golden(t, base+".golden", describeIndex(t, ix))
		})
	}
}

func describeIndex(t *testing.T, ix *Index) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	sel := func(s string) labels.Selector {
		out, err := labels.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	render := func(m *CustomMetric, q CustomQuery) string {
		s, err := RenderCustom(m, q)
		if err != nil {
			return "error: " + err.Error()
		}
		return s
	}
	for _, m := range ix.CustomMetrics() {
		p("%s namespaced=%v series=%s label=%s namespaceLabel=%s from %s", m, m.Namespaced, m.Series, m.ResourceLabel, m.NamespaceLabel, m.Rule.ID())
		ns, one, two := "somens", []string{"pod1"}, []string{"pod1", "pod2"}
		if !m.Namespaced {
			ns, one, two = "", []string{"somens"}, []string{"ns1", "ns2"}
		}
		p("  one object:  %s", render(m, CustomQuery{Namespace: ns, Names: one}))
		p("  two objects: %s", render(m, CustomQuery{Namespace: ns, Names: two}))
		p("  all objects: %s", render(m, CustomQuery{Namespace: ns, AllObjects: true}))
		p("  selector:    %s", render(m, CustomQuery{Namespace: ns, Names: two, MetricSelector: sel("verb in (GET,POST),instance!=a.b")}))
	}
	for _, m := range ix.ExternalMetrics() {
		p("external %s namespaced=%v series=%s namespaceLabel=%s from %s", m.Metric, m.Namespaced, m.Series, m.NamespaceLabel, m.Rule.ID())
		for _, c := range []struct{ name, sel string }{{"no selector", ""}, {"selector", "namespace=queue,name=my-sample-queue"}} {
			q, err := RenderExternal(m, "somens", sel(c.sel))
			if err != nil {
				q = "error: " + err.Error()
			}
			p("  %-12s %s", c.name+":", q)
		}
	}
	for _, pr := range ix.Problems() {
		p("problem: %s", pr)
	}
	return b.String()
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test -update after checking the change)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
