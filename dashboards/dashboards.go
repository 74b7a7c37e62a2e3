package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// File is one generated dashboard: the file name it is committed under (in
// this folder and in the chart's dashboards/) and how to build it.
type File struct {
	Name  string
	Build func() (dashboard.Dashboard, error)
}

// Files are every dashboard this package generates.
func Files() []File {
	return []File{
		{Name: "overview.json", Build: Overview},
		{Name: "adapter.json", Build: Adapter},
	}
}

// Render encodes d as the JSON Grafana imports: indented, with a final
// newline, stable from run to run so that the committed files can be
// compared with a fresh generation.
func Render(d dashboard.Dashboard) ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode dashboard %q: %w", deref(d.Title), err)
	}
	return append(b, '\n'), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// datasourceVar is the name of every dashboard's Prometheus data source
// variable; panels and variables query "${datasource}".
const datasourceVar = "datasource"

// rateInterval is what every rate() and increase() uses: Grafana's
// $__rate_interval follows the scrape interval the data source declares.
const rateInterval = "$__rate_interval"

func datasourceRef() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${" + datasourceVar + "}")}
}

// datasourceVariable lets the user pick any Prometheus data source.
func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder(datasourceVar).
		Label("Data source").
		Type("prometheus")
}

// labelValuesVariable is a multi-value variable over the values of label
// on the series query selects, with an "All" that matches anything, so
// panels use it as label=~"$name".
func labelValuesVariable(name, label, query string) *dashboard.QueryVariableBuilder {
	q := fmt.Sprintf("label_values(%s, %s)", query, label)
	return dashboard.NewQueryVariableBuilder(name).
		Label(strings.ToUpper(name[:1]) + name[1:]).
		Datasource(datasourceRef()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(q)}).
		Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*")
}

// query is one Prometheus target of a panel.
func query(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasourceRef()).
		Expr(expr).
		LegendFormat(legend)
}

// instant is a query evaluated once, for tables.
func instant(expr string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasourceRef()).
		Expr(expr).
		Instant().
		Format(prometheus.PromQueryFormatTable)
}

// graph is a time series panel with a visible legend and a tooltip listing
// every series, largest first.
func graph() *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Legend(common.NewVizLegendOptionsBuilder().
			ShowLegend(true).
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom)).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
}

// numberPanels gives every panel and row a distinct id in grid order and
// every target a refId (A, B, ...): the SDK leaves both unset, and Grafana
// wants ids unique within a dashboard and refIds within a panel.
func numberPanels(d *dashboard.Dashboard) {
	var id uint32
	panel := func(p *dashboard.Panel) {
		id++
		p.Id = cog.ToPtr(id)
		for i, t := range p.Targets {
			if q, ok := t.(prometheus.Dataquery); ok {
				q.RefId = cog.ToPtr(refID(i))
				p.Targets[i] = q
			}
		}
	}
	for i := range d.Panels {
		p := &d.Panels[i]
		switch {
		case p.Panel != nil:
			panel(p.Panel)
		case p.RowPanel != nil:
			id++
			p.RowPanel.Id = id
			for j := range p.RowPanel.Panels {
				panel(&p.RowPanel.Panels[j])
			}
		}
	}
}

// refID names the i-th target of a panel as Grafana does: A to Z, then AA.
func refID(i int) string {
	if i < 26 {
		return string(rune('A' + i))
	}
	return refID(i/26-1) + string(rune('A'+i%26))
}

// build finishes a dashboard builder: ids, and the errors the SDK recorded.
func build(b *dashboard.DashboardBuilder) (dashboard.Dashboard, error) {
	d, err := b.Build()
	if err != nil {
		return dashboard.Dashboard{}, fmt.Errorf("build dashboard: %w", err)
	}
	numberPanels(&d)
	return d, nil
}

// Query is one PromQL expression of a dashboard: a panel's target or a
// variable's label_values query.
type Query struct {
	// Panel is the panel's title, or "variable <name>".
	Panel string
	// PanelID is the panel's id (0 for variables).
	PanelID int
	Expr    string
	// Variable is true for a variable's query; Expr is then the selector
	// of label_values(selector, Label).
	Variable bool
	Label    string
}

// labelValues matches a Prometheus variable query.
var labelValues = regexp.MustCompile(`^label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// Queries reads every PromQL expression of a dashboard's JSON: panel targets,
// in rows too, and the label_values queries of its variables. It reads the
// JSON rather than the SDK's types so that it checks exactly what Grafana
// imports.
func Queries(dashboardJSON []byte) ([]Query, error) {
	var d struct {
		Panels     []jsonPanel `json:"panels"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	dec := json.NewDecoder(bytes.NewReader(dashboardJSON))
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("decode dashboard: %w", err)
	}
	var out []Query
	var walk func([]jsonPanel)
	walk = func(ps []jsonPanel) {
		for _, p := range ps {
			for _, t := range p.Targets {
				out = append(out, Query{Panel: p.Title, PanelID: p.ID, Expr: t.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q string
		if err := json.Unmarshal(v.Query, &q); err != nil {
			return nil, fmt.Errorf("variable %s: query is not a string: %w", v.Name, err)
		}
		m := labelValues.FindStringSubmatch(strings.TrimSpace(q))
		if m == nil {
			return nil, fmt.Errorf("variable %s: %q is not label_values(selector, label)", v.Name, q)
		}
		out = append(out, Query{Panel: "variable " + v.Name, Expr: m[1], Variable: true, Label: m[2]})
	}
	return out, nil
}

type jsonPanel struct {
	ID      int    `json:"id"`
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []jsonPanel `json:"panels"`
}
