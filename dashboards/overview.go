package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
)

// Overview is the autoscaling overview: per target (HPA or Autoscaler),
// current, desired and recommended replicas, each metric's proposal, the
// scaler's scale operations and what held a target back; then the
// recommender's and the scaler's health.
func Overview() (dashboard.Dashboard, error) {
	// target selects the targets the namespace and target variables pick.
	const target = `namespace=~"$namespace", name=~"$target"`
	sel := func(metric string) string { return metric + "{" + target + "}" }

	b := dashboard.NewDashboardBuilder("hpa-engine / Overview").
		Uid("hpa-engine-overview").
		Description("Per scaling target: current, desired and recommended replicas, per-metric proposals, scale operations and the limit that held it back; the recommender's and the scaler's health.").
		Tags([]string{"hpa-engine", "autoscaling"}).
		Editable().
		Refresh("30s").
		Time("now-1h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(datasourceVariable()).
		WithVariable(labelValuesVariable("namespace", "namespace", "hpa_engine_recommender_desired_replicas")).
		WithVariable(labelValuesVariable("target", "name", `hpa_engine_recommender_desired_replicas{namespace=~"$namespace"}`)).
		WithRow(dashboard.NewRowBuilder("Targets")).
		WithPanel(graph().
			Title("Replicas: current, desired, recommended").
			Description("current is the scale's spec.replicas; desired what the recommender computed after bounds, stabilization and policies; recommended the largest per-metric proposal before them. kind is HorizontalPodAutoscaler (observed) or Autoscaler (scaled by the engine).").
			Unit("short").Min(0).Decimals(0).
			Height(9).Span(12).
			WithTarget(query(sel("hpa_engine_recommender_current_replicas"), "{{namespace}}/{{name}} ({{kind}}) current")).
			WithTarget(query(sel("hpa_engine_recommender_desired_replicas"), "{{namespace}}/{{name}} ({{kind}}) desired")).
			WithTarget(query(sel("hpa_engine_recommender_recommended_replicas"), "{{namespace}}/{{name}} ({{kind}}) recommended"))).
		WithPanel(graph().
			Title("Per-metric proposals").
			Description("The replica count each metric of a target proposed in the last cycle, before the max, bounds and behavior. A metric that failed has no point.").
			Unit("short").Min(0).Decimals(0).
			Height(9).Span(12).
			WithTarget(query(sel("hpa_engine_recommender_metric_proposal_replicas"), "{{namespace}}/{{name}} {{metric}}"))).
		WithPanel(graph().
			Title("Scale operations").
			Description("Scale updates the scaler attempted on Autoscalers' targets, by direction and outcome (success, failure, dry_run). HPAs are scaled by kube-controller-manager: see their current replicas above.").
			Unit("short").Min(0).
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
			Height(8).Span(12).
			WithTarget(query(
				fmt.Sprintf(`sum by (namespace, name, direction, outcome) (increase(%s[%s]))`, sel("hpa_engine_scaler_rescales_total"), rateInterval),
				"{{namespace}}/{{name}} {{direction}} {{outcome}}"))).
		WithPanel(table.NewPanelBuilder().
			Title("What held each target back").
			Description("The step that last kept a target's desired replicas from its metrics' recommendation: a stabilization window (ScaleUpStabilized, ScaleDownStabilized), a bound (TooManyReplicas, TooFewReplicas), a policy or the legacy limit (ScaleUpLimit, ScaleDownLimit), the current count out of bounds (CurrentAboveMax, CurrentBelowMin), the minimum from zero, ScalingDisabled, or None.").
			Height(8).Span(12).
			Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"})).
			WithTarget(instant(`max by (namespace, kind, name, reason) (` + sel("hpa_engine_recommender_limit_info") + `)`))).
		WithPanel(graph().
			Title("Targets by limiting reason").
			Description("How many of the selected targets each limit holds back, over time (None: nothing did).").
			Unit("short").Min(0).Decimals(0).
			Height(8).Span(24).
			WithTarget(query(`count by (reason) (`+sel("hpa_engine_recommender_limit_info")+`)`, "{{reason}}"))).
		WithRow(dashboard.NewRowBuilder("Recommender and scaler")).
		WithPanel(stat.NewPanelBuilder().
			Title("Targets").
			Description("Targets the last recommendation cycle computed.").
			Height(5).Span(4).
			WithTarget(query(`sum(hpa_engine_recommender_targets)`, "targets"))).
		WithPanel(stat.NewPanelBuilder().
			Title("Scaler leader").
			Description("1 when one controller leads and runs the scaler; 0 when none does.").
			Height(5).Span(4).
			WithTarget(query(`max(hpa_engine_scaler_leader)`, "leader"))).
		WithPanel(stat.NewPanelBuilder().
			Title("Time since the last cycle").
			Unit("s").
			Height(5).Span(4).
			WithTarget(query(`time() - max(hpa_engine_recommender_last_cycle_timestamp_seconds)`, "age"))).
		WithPanel(graph().
			Title("Queries per cycle").
			Description("Metric source calls the last cycle made after batching: bounded by rules x namespaces, not by targets.").
			Unit("short").Min(0).
			Height(5).Span(12).
			WithTarget(query(`hpa_engine_recommender_queries_per_cycle`, "{{instance}}"))).
		WithPanel(graph().
			Title("Cycle duration").
			Unit("s").Min(0).
			Height(8).Span(12).
			WithTarget(query(quantile("0.5", "hpa_engine_recommender_cycle_duration_seconds", "", "instance"), "p50 {{instance}}")).
			WithTarget(query(quantile("0.99", "hpa_engine_recommender_cycle_duration_seconds", "", "instance"), "p99 {{instance}}"))).
		WithPanel(graph().
			Title("Errors").
			Description("Targets without a usable recommendation by reason (recommender), and scaler errors by event reason.").
			Unit("ops").Min(0).
			Height(8).Span(12).
			WithTarget(query(fmt.Sprintf(`sum by (reason) (rate(hpa_engine_recommender_target_errors_total[%s]))`, rateInterval), "recommender {{reason}}")).
			WithTarget(query(fmt.Sprintf(`sum by (reason) (rate(hpa_engine_scaler_errors_total[%s]))`, rateInterval), "scaler {{reason}}"))).
		WithPanel(graph().
			Title("Scaler actions").
			Description("What the scaler did with each new recommendation: Rescaled, DryRun, Hold, Failed, Paused.").
			Unit("ops").Min(0).
			Height(8).Span(12).
			WithTarget(query(fmt.Sprintf(`sum by (action) (rate(hpa_engine_scaler_actions_total[%s]))`, rateInterval), "{{action}}"))).
		WithPanel(graph().
			Title("Metric source calls").
			Description("The recommender's calls to the in-process adapter and to metrics.k8s.io, by API and outcome.").
			Unit("ops").Min(0).
			Height(8).Span(12).
			WithTarget(query(fmt.Sprintf(`sum by (api, outcome) (rate(hpa_engine_recommender_source_calls_total[%s]))`, rateInterval), "{{api}} {{outcome}}")))
	return build(b)
}

// quantile is histogram_quantile(q) of histogram's rate, selected by
// matchers (without braces), kept apart by the labels by.
func quantile(q, histogram, matchers, by string) string {
	groups := "le"
	if by != "" {
		groups = "le, " + by
	}
	return fmt.Sprintf(`histogram_quantile(%s, sum by (%s) (rate(%s_bucket{%s}[%s])))`, q, groups, histogram, matchers, rateInterval)
}
