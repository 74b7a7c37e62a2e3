package recommender

import (
	"fmt"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// String renders the explanation as text, one line per fact.
func (r Result) String() string {
	return strings.Join(r.Lines(), "\n") + "\n"
}

// Lines renders the explanation: the decision, each metric's proposal and the
// rule behind it, the winning metric, the steps that changed the result, and
// the conditions. The wording is for people; the fields are for programs.
func (r Result) Lines() []string {
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }

	switch {
	case r.Rescale:
		add("desired replicas: %d (current %d): scale, %s", r.DesiredReplicas, r.CurrentReplicas, r.RescaleReason)
	default:
		add("desired replicas: %d (current %d): no change", r.DesiredReplicas, r.CurrentReplicas)
	}
	for i, p := range r.Proposals {
		add("metric %d/%d %s %s: %s", i+1, len(r.Proposals), p.Type, p.Name, p.explain())
		if d := p.details(); d != "" {
			add("  %s", d)
		}
	}
	if r.MetricIndex >= 0 {
		add("largest proposal: %d from metric %d (%s)", r.MetricDesiredReplicas, r.MetricIndex+1, r.Metric)
	} else if len(r.Proposals) > 0 {
		add("no usable proposal")
	}
	for _, s := range r.Steps {
		add("%s", s.explain())
	}
	if r.Error != "" {
		add("error: %s", r.Error)
	}
	for _, c := range r.Status.Conditions {
		add("condition %s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message)
	}
	return lines
}

func (p Proposal) explain() string {
	if p.Rule == RuleFailed {
		return fmt.Sprintf("failed (%s): %s", p.Reason, p.Error)
	}
	head := fmt.Sprintf("current %s, target %s, ratio %s", formatValue(p.Current), formatTarget(p.Target), formatRatio(p.UsageRatio))
	switch p.Rule {
	case RuleWithinTolerance:
		return fmt.Sprintf("%s: within tolerance, keep %d", head, p.Replicas)
	case RuleRatio:
		return fmt.Sprintf("%s: ceil(ratio x %d ready pods) = %d", head, p.ReadyPods, p.Replicas)
	case RuleAdjustedWithinTolerance:
		return fmt.Sprintf("%s: adjusted ratio %s within tolerance, keep %d", head, formatRatio(*p.AdjustedRatio), p.Replicas)
	case RuleDirectionFlip:
		return fmt.Sprintf("%s: adjusted ratio %s points the other way, keep %d", head, formatRatio(*p.AdjustedRatio), p.Replicas)
	case RuleCountFlip:
		return fmt.Sprintf("%s: adjusted count points the other way, keep %d", head, p.Replicas)
	case RuleAdjustedRatio:
		return fmt.Sprintf("%s: ceil(adjusted ratio %s x pods counted) = %d", head, formatRatio(*p.AdjustedRatio), p.Replicas)
	case RuleFromZero:
		return fmt.Sprintf("%s: from zero replicas, ceil(ratio) = %d", head, p.Replicas)
	case RuleTotalOverAverage:
		return fmt.Sprintf("%s: ceil(total / target average) = %d", head, p.Replicas)
	}
	return fmt.Sprintf("%s: %d", head, p.Replicas)
}

// details lists the pod adjustments behind a pod-based proposal.
func (p Proposal) details() string {
	var parts []string
	if p.ReadyPods+p.UnreadyPods+p.MissingPods+p.IgnoredPods > 0 && p.Type != autoscalingv2.ObjectMetricSourceType && p.Type != autoscalingv2.ExternalMetricSourceType {
		parts = append(parts, fmt.Sprintf("pods: %d ready, %d unready, %d missing, %d ignored", p.ReadyPods, p.UnreadyPods, p.MissingPods, p.IgnoredPods))
	}
	switch p.Missing {
	case MissingAtTarget:
		parts = append(parts, "missing pods assumed at the target value")
	case MissingAtRequest:
		parts = append(parts, "missing pods assumed at max(100%, target) of their request")
	case MissingAtZero:
		parts = append(parts, "missing pods assumed at 0")
	}
	if p.UnreadyAsZero {
		parts = append(parts, "unready pods counted as 0")
	}
	return strings.Join(parts, "; ")
}

func (s Step) explain() string {
	switch s.Kind {
	case StepScalingDisabled:
		return "scaling disabled: the target has zero replicas"
	case StepAboveMax:
		return fmt.Sprintf("current %d above maxReplicas: set to %d", s.From, s.To)
	case StepBelowMin:
		return fmt.Sprintf("current %d below minReplicas: set to %d", s.From, s.To)
	case StepStabilized:
		return fmt.Sprintf("stabilized from %d to %d over the last %d s (%s)", s.From, s.To, deref(s.WindowSeconds), s.Reason)
	case StepLimited:
		if s.Policy != "" {
			return fmt.Sprintf("limited from %d to %d by %s (%s)", s.From, s.To, s.Policy, s.Reason)
		}
		return fmt.Sprintf("limited from %d to %d (%s: %s)", s.From, s.To, s.Reason, s.Message)
	case StepFromZeroMin:
		return fmt.Sprintf("scaling from zero: raised from %d to minReplicas %d", s.From, s.To)
	case StepHold:
		return fmt.Sprintf("result equals current %d: no rescale", s.To)
	}
	return fmt.Sprintf("%s: %d -> %d", s.Kind, s.From, s.To)
}

func formatTarget(t autoscalingv2.MetricTarget) string {
	switch {
	case t.Type == autoscalingv2.UtilizationMetricType && t.AverageUtilization != nil:
		return fmt.Sprintf("%d%% of request", *t.AverageUtilization)
	case t.Type == autoscalingv2.AverageValueMetricType && t.AverageValue != nil:
		return fmt.Sprintf("%s per pod", t.AverageValue.String())
	case t.Type == autoscalingv2.ValueMetricType && t.Value != nil:
		return t.Value.String()
	case t.AverageValue != nil:
		return fmt.Sprintf("%s per pod", t.AverageValue.String())
	case t.AverageUtilization != nil:
		return fmt.Sprintf("%d%% of request", *t.AverageUtilization)
	case t.Value != nil:
		return t.Value.String()
	}
	return "unset"
}

func formatValue(v autoscalingv2.MetricValueStatus) string {
	switch {
	case v.AverageUtilization != nil && v.AverageValue != nil:
		return fmt.Sprintf("%d%% (%s per pod)", *v.AverageUtilization, v.AverageValue.String())
	case v.AverageValue != nil:
		return fmt.Sprintf("%s per pod", v.AverageValue.String())
	case v.Value != nil:
		return v.Value.String()
	}
	return "unknown"
}

func formatRatio(r Ratio) string {
	return fmt.Sprintf("%.3f", float64(r))
}

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
