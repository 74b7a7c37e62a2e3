package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
)

// Adapter is the adapter dashboard: the custom and external metrics API's
// request rate, latency quantiles and errors by code; the Prometheus queries
// behind them; series discovery's size and age; configuration reloads; and
// the processes' CPU and memory. The provider runs in the controller too, so
// its panels cover every instance.
func Adapter() (dashboard.Dashboard, error) {
	const inst = `instance=~"$instance"`
	rate := func(metric, matchers string) string {
		return fmt.Sprintf(`rate(%s{%s}[%s])`, metric, matchers, rateInterval)
	}

	b := dashboard.NewDashboardBuilder("hpa-engine / Adapter").
		Uid("hpa-engine-adapter").
		Description("The custom and external metrics API: requests, latency and errors; the Prometheus queries behind them; series discovery and configuration reloads.").
		Tags([]string{"hpa-engine", "custom-metrics"}).
		Editable().
		Refresh("30s").
		Time("now-1h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(datasourceVariable()).
		WithVariable(labelValuesVariable("instance", "instance", "hpa_engine_adapter_discovery_age_seconds")).
		WithRow(dashboard.NewRowBuilder("Metrics API")).
		WithPanel(graph().
			Title("Request rate").
			Description("Requests to the adapter by api (custom, external, discovery, other), API group and version.").
			Unit("reqps").Min(0).
			Height(8).Span(8).
			WithTarget(query(`sum by (api, group, version) (`+rate("hpa_engine_adapter_requests_total", inst)+`)`, "{{api}} {{group}}/{{version}}"))).
		WithPanel(graph().
			Title("Request latency").
			Description("Quantiles of the adapter's request latency by api, authentication and authorization included.").
			Unit("s").Min(0).
			Height(8).Span(8).
			WithTarget(query(quantile("0.5", "hpa_engine_adapter_request_duration_seconds", inst, "api"), "p50 {{api}}")).
			WithTarget(query(quantile("0.9", "hpa_engine_adapter_request_duration_seconds", inst, "api"), "p90 {{api}}")).
			WithTarget(query(quantile("0.99", "hpa_engine_adapter_request_duration_seconds", inst, "api"), "p99 {{api}}"))).
		WithPanel(graph().
			Title("Errors by code").
			Description("Requests answered with anything but 2xx, by HTTP code: 400 bad selector, 401/403 authentication and authorization, 404 unknown metric or object, 503 Prometheus unavailable.").
			Unit("reqps").Min(0).
			Height(8).Span(8).
			WithTarget(query(`sum by (code, api) (`+rate("hpa_engine_adapter_requests_total", inst+`, code!~"2.."`)+`)`, "{{code}} {{api}}"))).
		WithRow(dashboard.NewRowBuilder("Prometheus")).
		WithPanel(graph().
			Title("Prometheus queries").
			Description("Requests sent to Prometheus by backend, kind (query, series, query_range) and outcome.").
			Unit("reqps").Min(0).
			Height(8).Span(8).
			WithTarget(query(`sum by (backend, kind, outcome) (`+rate("hpa_engine_prometheus_queries_total", inst)+`)`, "{{backend}} {{kind}} {{outcome}}"))).
		WithPanel(graph().
			Title("Prometheus query latency").
			Unit("s").Min(0).
			Height(8).Span(8).
			WithTarget(query(quantile("0.5", "hpa_engine_prometheus_query_duration_seconds", inst, "backend, kind"), "p50 {{backend}} {{kind}}")).
			WithTarget(query(quantile("0.99", "hpa_engine_prometheus_query_duration_seconds", inst, "backend, kind"), "p99 {{backend}} {{kind}}"))).
		WithPanel(graph().
			Title("Prometheus result size").
			Description("Series per successful Prometheus result (99th percentile).").
			Unit("short").Min(0).
			Height(8).Span(8).
			WithTarget(query(quantile("0.99", "hpa_engine_prometheus_query_result_series", inst, "backend, kind"), "p99 {{backend}} {{kind}}"))).
		WithRow(dashboard.NewRowBuilder("Discovery and configuration")).
		WithPanel(graph().
			Title("Discovered metrics").
			Description("Metrics the last series discovery exposes, by API.").
			Unit("short").Min(0).
			Height(8).Span(8).
			WithTarget(query(`sum by (instance, api) (hpa_engine_adapter_discovery_metrics{`+inst+`})`, "{{instance}} {{api}}"))).
		WithPanel(graph().
			Title("Discovery age").
			Description("Time since the last successful series discovery; it grows past the relist interval when discovery fails.").
			Unit("s").Min(0).
			Height(8).Span(8).
			WithTarget(query(`max by (instance) (hpa_engine_adapter_discovery_age_seconds{`+inst+`})`, "{{instance}}"))).
		WithPanel(graph().
			Title("Discovery relists and config reloads").
			Description("Series discoveries and configuration reloads by outcome.").
			Unit("short").Min(0).
			Height(8).Span(8).
			WithTarget(query(`sum by (outcome) (increase(hpa_engine_adapter_discovery_relists_total{`+inst+`}[`+rateInterval+`]))`, "relist {{outcome}}")).
			WithTarget(query(`sum by (outcome) (increase(hpa_engine_adapter_config_reloads_total{`+inst+`}[`+rateInterval+`]))`, "reload {{outcome}}"))).
		WithPanel(stat.NewPanelBuilder().
			Title("Last configuration load").
			Description("When each instance last loaded its configuration file successfully.").
			Unit("dateTimeFromNow").
			Height(5).Span(12).
			WithTarget(query(`max by (instance) (hpa_engine_adapter_config_last_reload_success_timestamp_seconds{`+inst+`}) * 1000`, "{{instance}}"))).
		WithPanel(graph().
			Title("Process CPU and memory").
			Unit("short").Min(0).
			Height(5).Span(12).
			WithTarget(query(rate("process_cpu_seconds_total", inst), "cpu seconds/s {{instance}}")).
			WithTarget(query(`process_resident_memory_bytes{`+inst+`} / 2^20`, "resident MiB {{instance}}")))
	return build(b)
}
