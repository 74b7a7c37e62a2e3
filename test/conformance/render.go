package conformance

import (
	"fmt"
	"sort"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// rel renders t relative to now ("now-30.5s", "now").
func rel(now, t time.Time) string {
	if t.IsZero() {
		return "<zero>"
	}
	d := t.Sub(now)
	switch {
	case d == 0:
		return "now"
	case d > 0:
		return "now+" + d.String()
	}
	return "now-" + (-d).String()
}

// Render prints a scenario as a short readable text: only what is set, times
// relative to Now.
func Render(in recommender.Input) string {
	var b strings.Builder
	now := in.Now
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	minStr := "<unset, 1>"
	if in.Spec.MinReplicas != nil {
		minStr = fmt.Sprint(*in.Spec.MinReplicas)
	}
	w("spec: minReplicas=%s maxReplicas=%d (generation %d)", minStr, in.Spec.MaxReplicas, in.Generation)
	if len(in.Spec.Metrics) == 0 {
		w("  metrics: <none, defaults to cpu utilization 80%%>")
	}
	for i, m := range in.Spec.Metrics {
		w("  metric[%d]: %s", i, metricSpecString(m))
	}
	if in.Spec.Behavior == nil {
		w("  behavior: <nil>")
	} else {
		w("  behavior.scaleUp: %s", rulesString(in.Spec.Behavior.ScaleUp))
		w("  behavior.scaleDown: %s", rulesString(in.Spec.Behavior.ScaleDown))
	}
	w("settings: %s", settingsString(in.Settings))
	w("target: specReplicas=%d statusReplicas=%d selector=%q", in.Target.SpecReplicas, in.Target.StatusReplicas, in.Target.Selector)
	for _, p := range in.Target.Pods {
		w("  %s", podString(now, p))
	}
	metrics := HPAFor(in).Spec.Metrics
	for i, o := range in.Observations {
		var typ autoscalingv2.MetricSourceType
		if i < len(metrics) {
			typ = metrics[i].Type
		}
		w("observation[%d]: %s", i, observationString(now, typ, o))
	}
	h := in.History
	if h.Recommendations == nil {
		w("history.recommendations: <nil, first time seen>")
	} else {
		w("history.recommendations: %s", recsString(h.Recommendations, now))
	}
	if len(h.ScaleUpEvents) > 0 {
		w("history.scaleUpEvents: %s", eventsString(h.ScaleUpEvents, now))
	}
	if len(h.ScaleDownEvents) > 0 {
		w("history.scaleDownEvents: %s", eventsString(h.ScaleDownEvents, now))
	}
	st := in.Status
	w("prior status: currentReplicas=%d desiredReplicas=%d lastScaleTime=%s conditions=%s",
		st.CurrentReplicas, st.DesiredReplicas, fmtMetaTime(now, st.LastScaleTime), conds(st.Conditions, false))
	return b.String()
}

func targetString(t autoscalingv2.MetricTarget) string {
	switch {
	case t.AverageUtilization != nil:
		return fmt.Sprintf("%s %d%%", t.Type, *t.AverageUtilization)
	case t.AverageValue != nil:
		return fmt.Sprintf("%s %s", t.Type, t.AverageValue.String())
	case t.Value != nil:
		return fmt.Sprintf("%s %s", t.Type, t.Value.String())
	}
	return string(t.Type) + " <unset>"
}

func metricSpecString(m autoscalingv2.MetricSpec) string {
	switch {
	case m.Resource != nil:
		return fmt.Sprintf("Resource %s target %s", m.Resource.Name, targetString(m.Resource.Target))
	case m.ContainerResource != nil:
		return fmt.Sprintf("ContainerResource %s container %q target %s", m.ContainerResource.Name, m.ContainerResource.Container, targetString(m.ContainerResource.Target))
	case m.Pods != nil:
		return fmt.Sprintf("Pods %s%s target %s", m.Pods.Metric.Name, selString(m.Pods.Metric), targetString(m.Pods.Target))
	case m.Object != nil:
		return fmt.Sprintf("Object %s on %s/%s%s target %s", m.Object.Metric.Name, m.Object.DescribedObject.Kind, m.Object.DescribedObject.Name, selString(m.Object.Metric), targetString(m.Object.Target))
	case m.External != nil:
		return fmt.Sprintf("External %s%s target %s", m.External.Metric.Name, selString(m.External.Metric), targetString(m.External.Target))
	}
	return string(m.Type)
}

func selString(id autoscalingv2.MetricIdentifier) string {
	if id.Selector == nil {
		return ""
	}
	return fmt.Sprintf(" selector %v", id.Selector.MatchLabels)
}

func rulesString(r *autoscalingv2.HPAScalingRules) string {
	if r == nil {
		return "<nil>"
	}
	var parts []string
	if r.StabilizationWindowSeconds != nil {
		parts = append(parts, fmt.Sprintf("window=%ds", *r.StabilizationWindowSeconds))
	}
	if r.SelectPolicy != nil {
		parts = append(parts, "select="+string(*r.SelectPolicy))
	}
	if r.Policies != nil {
		ps := make([]string, 0, len(r.Policies))
		for _, p := range r.Policies {
			ps = append(ps, fmt.Sprintf("%s %d/%ds", p.Type, p.Value, p.PeriodSeconds))
		}
		parts = append(parts, "policies=["+strings.Join(ps, ", ")+"]")
	}
	if r.Tolerance != nil {
		parts = append(parts, "tolerance="+r.Tolerance.String())
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func settingsString(s recommender.Settings) string {
	var parts []string
	if s.Tolerance != nil {
		parts = append(parts, fmt.Sprintf("tolerance=%v", *s.Tolerance))
	}
	if s.CPUInitializationPeriod != nil {
		parts = append(parts, "cpuInitializationPeriod="+s.CPUInitializationPeriod.Duration.String())
	}
	if s.InitialReadinessDelay != nil {
		parts = append(parts, "initialReadinessDelay="+s.InitialReadinessDelay.Duration.String())
	}
	if s.DownscaleStabilizationWindow != nil {
		parts = append(parts, "downscaleStabilizationWindow="+s.DownscaleStabilizationWindow.Duration.String())
	}
	if len(parts) == 0 {
		return "<defaults>"
	}
	return strings.Join(parts, " ")
}

func resourcesString(rl corev1.ResourceList) string {
	names := make([]string, 0, len(rl))
	for n := range rl {
		names = append(names, string(n))
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		q := rl[corev1.ResourceName(n)]
		parts = append(parts, n+"="+q.String())
	}
	return strings.Join(parts, ",")
}

func podString(now time.Time, p recommender.Pod) string {
	parts := []string{p.Name, string(p.Phase)}
	if p.Terminating {
		parts = append(parts, "terminating")
	}
	if p.Ready == nil {
		parts = append(parts, "ready=<none>")
	} else {
		parts = append(parts, fmt.Sprintf("ready=%s@%s", p.Ready.Status, rel(now, p.Ready.LastTransitionTime)))
	}
	if p.StartTime == nil {
		parts = append(parts, "start=<nil>")
	} else {
		parts = append(parts, "start="+rel(now, *p.StartTime))
	}
	for _, c := range p.Containers {
		parts = append(parts, fmt.Sprintf("%s{%s}", c.Name, resourcesString(c.Requests)))
	}
	for _, c := range p.InitContainers {
		kind := "init"
		if c.Restartable {
			kind = "sidecar"
		}
		parts = append(parts, fmt.Sprintf("%s:%s{%s}", kind, c.Name, resourcesString(c.Requests)))
	}
	if len(p.Requests) > 0 {
		parts = append(parts, fmt.Sprintf("pod{%s}", resourcesString(p.Requests)))
	}
	if len(p.Overhead) > 0 {
		parts = append(parts, fmt.Sprintf("overhead{%s}", resourcesString(p.Overhead)))
	}
	return strings.Join(parts, " ")
}

// observationString renders what the metrics client returns for a metric of
// type typ: per-pod samples, an object's value or an external metric's values.
func observationString(now time.Time, typ autoscalingv2.MetricSourceType, o recommender.Observation) string {
	if o.Error != "" {
		return fmt.Sprintf("error %q", o.Error)
	}
	var parts []string
	switch typ {
	case autoscalingv2.ObjectMetricSourceType:
		parts = append(parts, fmt.Sprintf("value=%dm", o.Value))
	case autoscalingv2.ExternalMetricSourceType:
		parts = append(parts, fmt.Sprintf("values=%vm", o.Values))
	default:
		ss := make([]string, 0, len(o.PodMetrics))
		for _, s := range o.PodMetrics {
			ss = append(ss, fmt.Sprintf("%s=%dm@%s/%s", s.Pod, s.Value, rel(now, s.Timestamp), s.Window.Duration))
		}
		parts = append(parts, "pods["+strings.Join(ss, " ")+"]")
	}
	parts = append(parts, "at "+rel(now, o.Timestamp))
	return strings.Join(parts, " ")
}
