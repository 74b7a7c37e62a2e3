package conformance

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// clockSlack is how far apart two times written "now" by each side may be:
// upstream reads time.Now() a little after our core's Now. Times that come
// from the input are at least half a second apart from each other and from
// now (see Generate), so this cannot hide a wrong timestamp.
const clockSlack = 250 * time.Millisecond

// Outcome is what one side decided in one reconcile, in comparable form.
type Outcome struct {
	// Rescale is whether a scale update was attempted, Desired the replicas
	// it asked for (the current ones otherwise).
	Rescale bool
	Desired int32
	// Status is the autoscaler status written.
	Status autoscalingv2.HorizontalPodAutoscalerStatus
	// Error is the error the reconcile returned ("" for none).
	Error string
	// History is the stabilization history afterwards, scale events included.
	History recommender.History
	// Proposals are the per-metric proposals, when metrics were computed
	// (ours) or could be (upstream, from computeReplicasForMetric).
	Proposals []MetricProposal
}

// MetricProposal is one metric's proposal.
type MetricProposal struct {
	Replicas int32
	// Description is upstream's metric description ("pods metric qps").
	Description string
	// Failed is set when the metric could not be used; Reason and Message
	// are then the ScalingActive condition upstream would set for it.
	Failed  bool
	Reason  string
	Message string
}

// OursOutcome runs our core on in, records the scale event as the controller
// would after a successful rescale, and returns the result as an Outcome.
// With updateErr the scale update fails (recommender.RescaleFailed).
func OursOutcome(in recommender.Input, updateErr error) (Outcome, recommender.Result, error) {
	recommend := recommender.Recommend
	if updateErr != nil {
		recommend = func(in recommender.Input) (recommender.Result, error) {
			return recommender.RescaleFailed(in, updateErr)
		}
	}
	res, err := recommend(in)
	if err != nil {
		return Outcome{}, res, fmt.Errorf("recommend: %w", err)
	}
	out := Outcome{
		Rescale: res.Rescale,
		Desired: res.DesiredReplicas,
		Status:  res.Status,
		Error:   res.Error,
		History: res.History,
	}
	for _, p := range res.Proposals {
		mp := MetricProposal{Replicas: p.Replicas, Description: p.Description}
		if p.Error != "" || p.Rule == recommender.RuleFailed {
			mp = MetricProposal{Failed: true, Reason: p.Reason, Message: "the HPA was unable to compute the replica count: " + p.Error}
		}
		out.Proposals = append(out.Proposals, mp)
	}
	if res.Rescale && updateErr == nil {
		out.History = recommender.RecordScaleEvent(res.History, in.Spec.Behavior, in.Target.SpecReplicas, res.DesiredReplicas, in.Now)
	}
	return out, res, nil
}

// Difference is one field on which the two sides disagree.
type Difference struct {
	Field    string
	Upstream string
	Ours     string
	// Critical marks the fields the brief requires to be identical: replica
	// counts and conditions' type, status and reason. The others (messages,
	// currentMetrics, the error text, the history) are compared as well.
	Critical bool
}

func (d Difference) String() string {
	mark := ""
	if d.Critical {
		mark = " (critical)"
	}
	return fmt.Sprintf("%s%s:\n      upstream: %s\n      ours:     %s", d.Field, mark, d.Upstream, d.Ours)
}

// Diff compares two outcomes.
func Diff(up, ours Outcome, now time.Time) []Difference {
	var ds []Difference
	add := func(critical bool, field string, u, o any) {
		ds = append(ds, Difference{Field: field, Upstream: fmt.Sprint(u), Ours: fmt.Sprint(o), Critical: critical})
	}
	if up.Rescale != ours.Rescale {
		add(true, "rescale", up.Rescale, ours.Rescale)
	}
	if up.Desired != ours.Desired {
		add(true, "desiredReplicas (scale)", up.Desired, ours.Desired)
	}
	us, os := up.Status, ours.Status
	if us.DesiredReplicas != os.DesiredReplicas {
		add(true, "status.desiredReplicas", us.DesiredReplicas, os.DesiredReplicas)
	}
	if us.CurrentReplicas != os.CurrentReplicas {
		add(true, "status.currentReplicas", us.CurrentReplicas, os.CurrentReplicas)
	}
	if fmtGen(us.ObservedGeneration) != fmtGen(os.ObservedGeneration) {
		add(false, "status.observedGeneration", fmtGen(us.ObservedGeneration), fmtGen(os.ObservedGeneration))
	}
	if !sameMetaTime(us.LastScaleTime, os.LastScaleTime) {
		add(false, "status.lastScaleTime", fmtMetaTime(now, us.LastScaleTime), fmtMetaTime(now, os.LastScaleTime))
	}
	if conds(us.Conditions, false) != conds(os.Conditions, false) {
		add(true, "status.conditions", conds(us.Conditions, false), conds(os.Conditions, false))
	} else {
		for i := range us.Conditions {
			uc, oc := us.Conditions[i], os.Conditions[i]
			if normalizeMessage(uc.Message) != normalizeMessage(oc.Message) {
				add(false, fmt.Sprintf("status.conditions[%s].message", uc.Type), uc.Message, oc.Message)
			}
			if !sameTime(uc.LastTransitionTime.Time, oc.LastTransitionTime.Time) {
				add(false, fmt.Sprintf("status.conditions[%s].lastTransitionTime", uc.Type), rel(now, uc.LastTransitionTime.Time), rel(now, oc.LastTransitionTime.Time))
			}
		}
	}
	if len(us.CurrentMetrics) != len(os.CurrentMetrics) {
		add(false, "status.currentMetrics", metricsString(us.CurrentMetrics), metricsString(os.CurrentMetrics))
	} else {
		for i := range us.CurrentMetrics {
			if !equality.Semantic.DeepEqual(us.CurrentMetrics[i], os.CurrentMetrics[i]) {
				add(false, fmt.Sprintf("status.currentMetrics[%d]", i), metricString(us.CurrentMetrics[i]), metricString(os.CurrentMetrics[i]))
			}
		}
	}
	if normalizeMessage(up.Error) != normalizeMessage(ours.Error) {
		add(false, "error", quoteOrNone(up.Error), quoteOrNone(ours.Error))
	}
	if len(ours.Proposals) > 0 {
		if len(up.Proposals) != len(ours.Proposals) {
			add(true, "proposals", fmt.Sprintf("%d proposals", len(up.Proposals)), fmt.Sprintf("%d proposals", len(ours.Proposals)))
		} else {
			for i := range up.Proposals {
				u, o := up.Proposals[i], ours.Proposals[i]
				if u.Failed != o.Failed || u.Replicas != o.Replicas || u.Reason != o.Reason {
					add(true, fmt.Sprintf("proposals[%d]", i), u, o)
				} else if u.Description != o.Description || normalizeMessage(u.Message) != normalizeMessage(o.Message) {
					add(false, fmt.Sprintf("proposals[%d] description or message", i), u, o)
				}
			}
		}
	}
	uh, oh := up.History, ours.History
	if recsString(uh.Recommendations, time.Time{}) != recsString(oh.Recommendations, time.Time{}) || !sameRecTimes(uh.Recommendations, oh.Recommendations) {
		add(false, "history.recommendations", recsString(uh.Recommendations, now), recsString(oh.Recommendations, now))
	}
	if eventsString(uh.ScaleUpEvents, time.Time{}) != eventsString(oh.ScaleUpEvents, time.Time{}) || !sameEventTimes(uh.ScaleUpEvents, oh.ScaleUpEvents) {
		add(false, "history.scaleUpEvents", eventsString(uh.ScaleUpEvents, now), eventsString(oh.ScaleUpEvents, now))
	}
	if eventsString(uh.ScaleDownEvents, time.Time{}) != eventsString(oh.ScaleDownEvents, time.Time{}) || !sameEventTimes(uh.ScaleDownEvents, oh.ScaleDownEvents) {
		add(false, "history.scaleDownEvents", eventsString(uh.ScaleDownEvents, now), eventsString(oh.ScaleDownEvents, now))
	}
	return ds
}

// podRequestError matches the errors upstream's calculateRequests returns for
// the first pod whose requests it cannot read. Upstream lists pods from an
// informer index, a map, so which pod comes first is random: the messages
// are compared up to the pod and container they name.
var podRequestError = regexp.MustCompile(`(missing request for \S+ in container \S+ of Pod|container \S+ not found in Pod|missing pod-level request for \S+ in Pod) \S+`)

// ambiguousPair matches the two autoscalers upstream names in an
// AmbiguousSelector message; it collects them from a map, in random order.
var ambiguousPair = regexp.MustCompile(`\(e\.g\. \[(\S+) (\S+)\]\)`)

func normalizeMessage(m string) string {
	m = podRequestError.ReplaceAllString(m, "<request error of some pod>")
	return ambiguousPair.ReplaceAllStringFunc(m, func(s string) string {
		g := ambiguousPair.FindStringSubmatch(s)
		a, b := g[1], g[2]
		if a > b {
			a, b = b, a
		}
		return "(e.g. [" + a + " " + b + "])"
	})
}

func (p MetricProposal) String() string {
	if p.Failed {
		return fmt.Sprintf("failed %s: %q", p.Reason, p.Message)
	}
	return fmt.Sprintf("%d from %q", p.Replicas, p.Description)
}

func fmtGen(g *int64) string {
	if g == nil {
		return "<nil>"
	}
	return fmt.Sprint(*g)
}

func sameTime(a, b time.Time) bool {
	d := a.Sub(b)
	return d < clockSlack && d > -clockSlack
}

func sameMetaTime(a, b *metav1.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return sameTime(a.Time, b.Time)
}

func fmtMetaTime(now time.Time, t *metav1.Time) string {
	if t == nil {
		return "<nil>"
	}
	return rel(now, t.Time)
}

func quoteOrNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return fmt.Sprintf("%q", s)
}

// conds renders conditions in order as Type=Status/Reason.
func conds(cs []autoscalingv2.HorizontalPodAutoscalerCondition, messages bool) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		s := fmt.Sprintf("%s=%s/%s", c.Type, c.Status, c.Reason)
		if messages {
			s += fmt.Sprintf(" %q", c.Message)
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func metricsString(ms []autoscalingv2.MetricStatus) string {
	parts := make([]string, 0, len(ms))
	for _, m := range ms {
		parts = append(parts, metricString(m))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func metricString(m autoscalingv2.MetricStatus) string {
	switch {
	case m.Resource != nil:
		return fmt.Sprintf("%s{%s %s}", m.Type, m.Resource.Name, valueStatus(m.Resource.Current))
	case m.ContainerResource != nil:
		return fmt.Sprintf("%s{%s/%s %s}", m.Type, m.ContainerResource.Container, m.ContainerResource.Name, valueStatus(m.ContainerResource.Current))
	case m.Pods != nil:
		return fmt.Sprintf("%s{%s sel=%v %s}", m.Type, m.Pods.Metric.Name, m.Pods.Metric.Selector, valueStatus(m.Pods.Current))
	case m.Object != nil:
		return fmt.Sprintf("%s{%s %s/%s sel=%v %s}", m.Type, m.Object.Metric.Name, m.Object.DescribedObject.Kind, m.Object.DescribedObject.Name, m.Object.Metric.Selector, valueStatus(m.Object.Current))
	case m.External != nil:
		return fmt.Sprintf("%s{%s sel=%v %s}", m.Type, m.External.Metric.Name, m.External.Metric.Selector, valueStatus(m.External.Current))
	}
	return fmt.Sprintf("%q{}", m.Type)
}

func valueStatus(v autoscalingv2.MetricValueStatus) string {
	var parts []string
	if v.Value != nil {
		parts = append(parts, "value="+v.Value.String())
	}
	if v.AverageValue != nil {
		parts = append(parts, "averageValue="+v.AverageValue.String())
	}
	if v.AverageUtilization != nil {
		parts = append(parts, fmt.Sprintf("averageUtilization=%d", *v.AverageUtilization))
	}
	return strings.Join(parts, ",")
}

// recsString renders recommendations, with their times relative to now
// unless now is zero.
func recsString(rs []recommender.TimestampedRecommendation, now time.Time) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		s := fmt.Sprint(r.Replicas)
		if !now.IsZero() {
			s += "@" + rel(now, r.Timestamp)
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// sameRecTimes is true when the two lists' timestamps agree within clockSlack.
func sameRecTimes(a, b []recommender.TimestampedRecommendation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameTime(a[i].Timestamp, b[i].Timestamp) {
			return false
		}
	}
	return true
}

// eventsString renders scale events, with their times relative to now
// unless now is zero.
func eventsString(es []recommender.ScaleEvent, now time.Time) string {
	parts := make([]string, 0, len(es))
	for _, e := range es {
		s := fmt.Sprint(e.ReplicaChange)
		if !now.IsZero() {
			s += "@" + rel(now, e.Timestamp)
		}
		if e.Outdated {
			s += "(outdated)"
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func sameEventTimes(a, b []recommender.ScaleEvent) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameTime(a[i].Timestamp, b[i].Timestamp) {
			return false
		}
	}
	return true
}
