package dashboards

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/prometheus/promql/parser"
)

// exportedMetricsFile lists the hpa_engine_* metrics the engine exports,
// written by cmd/hpa-engine's TestMetricsCatalog from the real registries.
const exportedMetricsFile = "testdata/exported_metrics.txt"

// collectorMetrics are the metrics of client_golang's Go and process
// collectors that the dashboards use; every role registers both.
var collectorMetrics = map[string]bool{
	"process_cpu_seconds_total":     true,
	"process_resident_memory_bytes": true,
}

func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(exportedMetricsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		if line := strings.TrimSpace(s.Text()); line != "" {
			out[line] = true
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s lists no metric", exportedMetricsFile)
	}
	return out
}

// substitute replaces Grafana's variables with values PromQL accepts: what
// "All" selects for the multi-value variables, a range for $__rate_interval.
func substitute(expr string) string {
	return strings.NewReplacer(
		"$__rate_interval", "1m",
		"$namespace", ".*",
		"$target", ".*",
		"$instance", ".*",
	).Replace(expr)
}

// checkExpr parses expr after substitution and returns the metrics it
// selects that the engine does not export.
func checkExpr(expr string, exported map[string]bool) error {
	if strings.Contains(substitute(expr), "$") {
		return fmt.Errorf("%q: a variable the check does not know", expr)
	}
	node, err := parser.NewParser(parser.Options{}).ParseExpr(substitute(expr))
	if err != nil {
		return fmt.Errorf("parse %q: %w", expr, err)
	}
	var unknown []string
	parser.Inspect(node, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		if name == "" {
			unknown = append(unknown, vs.String()+" (no metric name)")
			return nil
		}
		if !known(name, exported) {
			unknown = append(unknown, name)
		}
		return nil
	})
	if len(unknown) > 0 {
		return fmt.Errorf("%q selects metrics the engine does not export: %s", expr, strings.Join(unknown, ", "))
	}
	return nil
}

// known reports whether name is exported: an hpa_engine_ metric of the list
// (a histogram's _bucket, _sum and _count series included), or a collector
// metric every role exports.
func known(name string, exported map[string]bool) bool {
	if !strings.HasPrefix(name, "hpa_engine_") {
		return collectorMetrics[name]
	}
	if exported[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && exported[base] {
			return true
		}
	}
	return false
}

func TestCheckExpr(t *testing.T) {
	exported := map[string]bool{"hpa_engine_x_total": true, "hpa_engine_d_seconds": true}
	tests := []struct {
		name    string
		expr    string
		wantErr bool
	}{
		{name: "exported counter", expr: `rate(hpa_engine_x_total{namespace=~"$namespace"}[$__rate_interval])`},
		{name: "histogram bucket", expr: `histogram_quantile(0.9, sum by (le) (rate(hpa_engine_d_seconds_bucket[$__rate_interval])))`},
		{name: "collector metric", expr: `process_resident_memory_bytes`},
		{name: "unknown engine metric", expr: `hpa_engine_y_total`, wantErr: true},
		{name: "bucket of an unknown histogram", expr: `hpa_engine_y_bucket`, wantErr: true},
		{name: "metric of another exporter", expr: `kube_pod_info`, wantErr: true},
		{name: "selector without a name", expr: `{job="x"}`, wantErr: true},
		{name: "syntax error", expr: `sum by (namespace (hpa_engine_x_total)`, wantErr: true},
		{name: "unknown variable", expr: `hpa_engine_x_total{job="$job"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkExpr(tt.expr, exported)
			if (err != nil) != tt.wantErr {
				t.Errorf("checkExpr(%q) = %v, want error %v", tt.expr, err, tt.wantErr)
			}
		})
	}
}

// TestDashboards checks every generated dashboard: the committed JSON is what
// the generator produces now, it decodes strictly as a dashboard of the SDK's
// schema, its uid, title and panel ids are set and unique, it has the
// variables the brief asks for, and every query parses and selects only
// exported metrics.
func TestDashboards(t *testing.T) {
	exported := exportedMetrics(t)
	plugins.RegisterDefaultPlugins()
	uids := map[string]bool{}
	for _, f := range Files() {
		t.Run(f.Name, func(t *testing.T) {
			d, err := f.Build()
			if err != nil {
				t.Fatal(err)
			}
			want, err := Render(d)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(f.Name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s is stale: run make dashboards (go run ./dashboards/cmd/gen) and commit it", f.Name)
			}

			var strict dashboard.Dashboard
			if err := decodeStrict(&strict, got); err != nil {
				t.Fatalf("%s does not decode as a Grafana dashboard: %v", f.Name, err)
			}
			if strict.Uid == nil || *strict.Uid == "" || strict.Title == nil || *strict.Title == "" {
				t.Errorf("uid %v, title %v: both must be set", strict.Uid, strict.Title)
			} else if uids[*strict.Uid] {
				t.Errorf("uid %q used by another dashboard", *strict.Uid)
			} else {
				uids[*strict.Uid] = true
			}
			if strict.SchemaVersion == 0 {
				t.Error("no schemaVersion")
			}
			checkPanels(t, got)
			checkVariables(t, strict)

			queries, err := Queries(got)
			if err != nil {
				t.Fatal(err)
			}
			panels := 0
			for _, q := range queries {
				if !q.Variable {
					panels++
				}
				if err := checkExpr(q.Expr, exported); err != nil {
					t.Errorf("%s: %v", q.Panel, err)
				}
			}
			if panels == 0 {
				t.Error("no panel query")
			}
		})
	}
}

// decodeStrict is the SDK's strict decoding, which refuses unknown fields and
// missing required ones. It returns its error list typed even when empty: an
// empty list is no error.
func decodeStrict(d *dashboard.Dashboard, raw []byte) error {
	err := d.UnmarshalJSONStrict(raw)
	var list cog.BuildErrors
	if errors.As(err, &list) && len(list) == 0 {
		return nil
	}
	return err
}

// checkPanels requires every panel (rows and the panels in them included) to
// have a distinct id and a title, and every target a distinct refId.
func checkPanels(t *testing.T, raw []byte) {
	t.Helper()
	type target struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	}
	type panel struct {
		ID      int      `json:"id"`
		Type    string   `json:"type"`
		Title   string   `json:"title"`
		Targets []target `json:"targets"`
		Panels  []panel  `json:"panels"`
	}
	var d struct {
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	ids := map[int]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.ID == 0 {
				t.Errorf("panel %q has no id", p.Title)
			} else if other, dup := ids[p.ID]; dup {
				t.Errorf("panels %q and %q share id %d", other, p.Title, p.ID)
			}
			ids[p.ID] = p.Title
			if p.Title == "" {
				t.Errorf("panel %d has no title", p.ID)
			}
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			refs := map[string]bool{}
			for _, tg := range p.Targets {
				if tg.RefID == "" || refs[tg.RefID] {
					t.Errorf("panel %q: refId %q missing or repeated", p.Title, tg.RefID)
				}
				refs[tg.RefID] = true
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
}

// checkVariables requires a Prometheus data source variable, and that
// every query variable queries through it.
func checkVariables(t *testing.T, d dashboard.Dashboard) {
	t.Helper()
	var datasource bool
	for _, v := range d.Templating.List {
		switch v.Type {
		case dashboard.VariableTypeDatasource:
			if v.Name == datasourceVar && v.Query != nil && v.Query.String != nil && *v.Query.String == "prometheus" {
				datasource = true
			}
		case dashboard.VariableTypeQuery:
			if v.Datasource == nil || v.Datasource.Uid == nil || *v.Datasource.Uid != "${"+datasourceVar+"}" {
				t.Errorf("variable %s does not query the ${%s} data source", v.Name, datasourceVar)
			}
		}
	}
	if !datasource {
		t.Errorf("no %q variable of type prometheus", datasourceVar)
	}
}

// TestOverviewVariables checks that the overview selects targets by
// namespace and name, as the brief asks.
func TestOverviewVariables(t *testing.T) {
	d, err := Overview()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, v := range d.Templating.List {
		names[v.Name] = true
	}
	for _, want := range []string{"datasource", "namespace", "target"} {
		if !names[want] {
			t.Errorf("overview has no %s variable", want)
		}
	}
}
