package loop

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// Reasons of hpa_engine_recommender_target_errors_total.
const (
	// ReasonFailedGetScale: the scale target or its scale could not be read.
	ReasonFailedGetScale = "FailedGetScale"
	// ReasonFailedListPods: the target's pods could not be listed.
	ReasonFailedListPods = "FailedListPods"
	// ReasonInvalidInput: the algorithm refused the target's input (a spec
	// the API server would not have accepted).
	ReasonInvalidInput = "InvalidInput"
	// ReasonFailedComputeReplicas: the algorithm ran but some or all metrics
	// could not be used, or the selector was missing, invalid or ambiguous.
	ReasonFailedComputeReplicas = "FailedComputeReplicas"
	// ReasonFailedListTargets: a target source failed to list.
	ReasonFailedListTargets = "FailedListTargets"
)

// LimitNone is the reason of hpa_engine_recommender_limit_info when nothing
// held a target's desired replicas away from its metrics' recommendation.
const LimitNone = "None"

// Metrics are the loop's own hpa_engine_recommender_* metrics.
type Metrics struct {
	desired     *prometheus.GaugeVec
	current     *prometheus.GaugeVec
	recommended *prometheus.GaugeVec
	limit       *prometheus.GaugeVec
	proposal    *prometheus.GaugeVec
	duration    prometheus.Histogram
	queries     prometheus.Gauge
	errors      *prometheus.CounterVec
	targets     prometheus.Gauge
	lastCycle   prometheus.Gauge
	sourceCall  *prometheus.CounterVec
}

// NewMetrics creates the metrics on reg; a nil reg creates them unregistered,
// so a loop without a registry still works. A nil *Metrics records nothing.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	target := []string{"namespace", "kind", "name"}
	m := &Metrics{
		desired: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hpa_engine_recommender_desired_replicas",
			Help: "Replica count the recommender computed for a target in the last cycle.",
		}, target),
		current: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hpa_engine_recommender_current_replicas",
			Help: "Replica count of a target's scale (spec.replicas) in the last cycle.",
		}, target),
		recommended: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hpa_engine_recommender_recommended_replicas",
			Help: "Largest valid per-metric proposal of a target in the last cycle, before bounds, stabilization and policies; absent when no metric was computed.",
		}, target),
		limit: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hpa_engine_recommender_limit_info",
			Help: "1 for what last held a target's desired replicas away from its metrics' recommendation in the last cycle, by reason (ScaleUpStabilized, ScaleDownStabilized, TooManyReplicas, TooFewReplicas, ScaleUpLimit, ScaleDownLimit, CurrentAboveMax, CurrentBelowMin, FromZeroMinReplicas, ScalingDisabled) or None.",
		}, append(target, "reason")),
		proposal: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hpa_engine_recommender_metric_proposal_replicas",
			Help: "Replica count one metric of a target proposed in the last cycle, before the max, bounds and behavior.",
		}, append(target, "metric")),
		duration: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "hpa_engine_recommender_cycle_duration_seconds",
			Help:    "Duration of a recommendation cycle over all targets.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30},
		}),
		queries: f.NewGauge(prometheus.GaugeOpts{
			Name: "hpa_engine_recommender_queries_per_cycle",
			Help: "Metric source calls (custom, external and resource metrics) the last cycle made after batching.",
		}),
		errors: f.NewCounterVec(prometheus.CounterOpts{
			Name: "hpa_engine_recommender_target_errors_total",
			Help: "Targets for which a cycle could not compute a usable recommendation, by reason.",
		}, []string{"reason"}),
		targets: f.NewGauge(prometheus.GaugeOpts{
			Name: "hpa_engine_recommender_targets",
			Help: "Targets the last cycle computed recommendations for.",
		}),
		lastCycle: f.NewGauge(prometheus.GaugeOpts{
			Name: "hpa_engine_recommender_last_cycle_timestamp_seconds",
			Help: "Unix time the last recommendation cycle completed at.",
		}),
		sourceCall: f.NewCounterVec(prometheus.CounterOpts{
			Name: "hpa_engine_recommender_source_calls_total",
			Help: "Metric source calls by API (custom, external, resource) and outcome (success, error).",
		}, []string{"api", "outcome"}),
	}
	// Every reason and outcome starts at 0, so that a rate over them is 0
	// rather than no data until the first error.
	for _, r := range []string{ReasonFailedGetScale, ReasonFailedListPods, ReasonInvalidInput, ReasonFailedComputeReplicas, ReasonFailedListTargets} {
		m.errors.WithLabelValues(r)
	}
	for _, api := range []string{"custom", "external", "resource"} {
		for _, outcome := range []string{"success", "error"} {
			m.sourceCall.WithLabelValues(api, outcome)
		}
	}
	return m
}

func (m *Metrics) observeTarget(namespace, kind, name string, rec Recommendation, metricLabels []string) {
	if m == nil || rec.Error != "" {
		return
	}
	m.desired.WithLabelValues(namespace, kind, name).Set(float64(rec.Result.DesiredReplicas))
	m.current.WithLabelValues(namespace, kind, name).Set(float64(rec.Result.CurrentReplicas))
	if validProposal(rec.Result.Proposals) {
		m.recommended.WithLabelValues(namespace, kind, name).Set(float64(rec.Result.MetricDesiredReplicas))
	} else {
		m.recommended.DeleteLabelValues(namespace, kind, name)
	}
	// One reason per target: the previous cycle's series goes first.
	m.limit.DeletePartialMatch(prometheus.Labels{"namespace": namespace, "kind": kind, "name": name})
	m.limit.WithLabelValues(namespace, kind, name, limitReason(rec.Result.Steps)).Set(1)
	for i, p := range rec.Result.Proposals {
		if p.Error != "" || i >= len(metricLabels) {
			continue
		}
		m.proposal.WithLabelValues(namespace, kind, name, metricLabels[i]).Set(float64(p.Replicas))
	}
}

// forgetMetric deletes one metric series of a target (the metric left its
// spec, or failed this cycle).
func (m *Metrics) forgetMetric(namespace, kind, name, metric string) {
	if m == nil {
		return
	}
	m.proposal.DeleteLabelValues(namespace, kind, name, metric)
}

// forgetTarget deletes every series of a target that vanished or has no
// recommendation this cycle.
func (m *Metrics) forgetTarget(namespace, kind, name string) {
	if m == nil {
		return
	}
	l := prometheus.Labels{"namespace": namespace, "kind": kind, "name": name}
	m.desired.Delete(l)
	m.current.Delete(l)
	m.recommended.Delete(l)
	m.limit.DeletePartialMatch(l)
	m.proposal.DeletePartialMatch(l)
}

// validProposal reports whether some metric gave a proposal, which makes
// MetricDesiredReplicas meaningful.
func validProposal(ps []recommender.Proposal) bool {
	for _, p := range ps {
		if p.Error == "" {
			return true
		}
	}
	return false
}

// limitReason is the reason of the last step that changed the replica count
// between the metrics' recommendation and the desired count: the limit that
// finally held the target back. Steps without an upstream reason (bounds on
// the current count, the minimum when scaling from zero) are named by kind.
func limitReason(steps []recommender.Step) string {
	reason := LimitNone
	for _, s := range steps {
		switch s.Kind {
		case recommender.StepHold:
			continue
		case recommender.StepScalingDisabled:
			return s.Reason
		}
		if s.From == s.To {
			continue
		}
		reason = s.Reason
		if reason == "" {
			reason = string(s.Kind)
		}
	}
	return reason
}

func (m *Metrics) targetError(reason string) {
	if m == nil {
		return
	}
	m.errors.WithLabelValues(reason).Inc()
}

func (m *Metrics) sourceCallDone(api string, err error) {
	if m == nil {
		return
	}
	outcome := "success"
	if err != nil {
		outcome = "error"
	}
	m.sourceCall.WithLabelValues(api, outcome).Inc()
}

func (m *Metrics) cycleDone(d time.Duration, calls, targets int, at time.Time) {
	if m == nil {
		return
	}
	m.duration.Observe(d.Seconds())
	m.queries.Set(float64(calls))
	m.targets.Set(float64(targets))
	m.lastCycle.Set(float64(at.UnixNano()) / 1e9)
}
