package v1alpha1

import (
	"slices"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// ToHPASpec returns the autoscaling/v2 spec the Autoscaler's spec copies,
// without the engine's extensions. It shares the spec's pointers and slices:
// callers treat the result as read-only, as they treat informer objects.
func (s *AutoscalerSpec) ToHPASpec() autoscalingv2.HorizontalPodAutoscalerSpec {
	return autoscalingv2.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: s.ScaleTargetRef,
		MinReplicas:    s.MinReplicas,
		MaxReplicas:    s.MaxReplicas,
		Metrics:        s.Metrics,
		Behavior:       s.Behavior,
	}
}

// ToHPAStatus returns the autoscaling/v2 part of the status. It shares the
// status's pointers and slices.
func (s *AutoscalerStatus) ToHPAStatus() autoscalingv2.HorizontalPodAutoscalerStatus {
	return autoscalingv2.HorizontalPodAutoscalerStatus{
		ObservedGeneration: s.ObservedGeneration,
		LastScaleTime:      s.LastScaleTime,
		CurrentReplicas:    s.CurrentReplicas,
		DesiredReplicas:    s.DesiredReplicas,
		CurrentMetrics:     s.CurrentMetrics,
		Conditions:         s.Conditions,
	}
}

// SetHPAStatus sets the autoscaling/v2 part of the status from st, leaving
// history, explanation and recommendation time alone. It shares st's
// pointers and slices.
func (s *AutoscalerStatus) SetHPAStatus(st autoscalingv2.HorizontalPodAutoscalerStatus) {
	s.ObservedGeneration = st.ObservedGeneration
	s.LastScaleTime = st.LastScaleTime
	s.CurrentReplicas = st.CurrentReplicas
	s.DesiredReplicas = st.DesiredReplicas
	s.CurrentMetrics = st.CurrentMetrics
	s.Conditions = st.Conditions
}

// FromHPA returns the Autoscaler an HPA converts to: the same metadata (name,
// namespace, labels, annotations; not the server-set fields), the same spec,
// no extensions, and an empty status. The result shares nothing with hpa.
func FromHPA(hpa *autoscalingv2.HorizontalPodAutoscaler) *Autoscaler {
	h := hpa.DeepCopy()
	return &Autoscaler{
		TypeMeta: metav1.TypeMeta{APIVersion: SchemeGroupVersion.String(), Kind: Kind},
		ObjectMeta: metav1.ObjectMeta{
			Name:        h.Name,
			Namespace:   h.Namespace,
			Labels:      h.Labels,
			Annotations: h.Annotations,
		},
		Spec: AutoscalerSpec{
			ScaleTargetRef: h.Spec.ScaleTargetRef,
			MinReplicas:    h.Spec.MinReplicas,
			MaxReplicas:    h.Spec.MaxReplicas,
			Metrics:        h.Spec.Metrics,
			Behavior:       h.Spec.Behavior,
		},
	}
}

// HistoryFromStatus returns the recommender's history stored in a status;
// an empty History when there is none (the recommender then seeds it, as
// upstream does for an autoscaler it sees first). Lists longer than
// MaxHistoryItems (which the API refuses anyway) keep their newest entries.
func HistoryFromStatus(st *AutoscalerStatus) recommender.History {
	var h recommender.History
	if st == nil || st.History == nil {
		return h
	}
	recs := newestRecommendations(st.History.Recommendations)
	if len(recs) > 0 {
		h.Recommendations = make([]recommender.TimestampedRecommendation, len(recs))
		for i, r := range recs {
			h.Recommendations[i] = recommender.TimestampedRecommendation{Replicas: r.Replicas, Timestamp: r.Timestamp.Time}
		}
	}
	h.ScaleUpEvents = eventsFromStatus(st.History.ScaleUpEvents)
	h.ScaleDownEvents = eventsFromStatus(st.History.ScaleDownEvents)
	return h
}

// HistoryToStatus returns h as the API stores it, nil when h is empty.
// Timestamps are kept to the nanosecond in Go; the API server stores them
// to the microsecond (MicroTime). Each list keeps at most MaxHistoryItems
// entries, the newest ones, in their original order: the recommender reuses
// slots in place, so its order is not chronological and must survive a round
// trip for HistoryFromStatus(HistoryToStatus(h)) to equal h.
func HistoryToStatus(h recommender.History) *AutoscalerHistory {
	if len(h.Recommendations) == 0 && len(h.ScaleUpEvents) == 0 && len(h.ScaleDownEvents) == 0 {
		return nil
	}
	out := &AutoscalerHistory{
		ScaleUpEvents:   eventsToStatus(h.ScaleUpEvents),
		ScaleDownEvents: eventsToStatus(h.ScaleDownEvents),
	}
	recs := newest(h.Recommendations, func(r recommender.TimestampedRecommendation) time.Time { return r.Timestamp })
	if len(recs) > 0 {
		out.Recommendations = make([]TimestampedRecommendation, len(recs))
		for i, r := range recs {
			out.Recommendations[i] = TimestampedRecommendation{Replicas: r.Replicas, Timestamp: metav1.NewMicroTime(r.Timestamp)}
		}
	}
	return out
}

func newestRecommendations(recs []TimestampedRecommendation) []TimestampedRecommendation {
	return newest(recs, func(r TimestampedRecommendation) time.Time { return r.Timestamp.Time })
}

func eventsFromStatus(events []ScaleEvent) []recommender.ScaleEvent {
	events = newest(events, func(e ScaleEvent) time.Time { return e.Timestamp.Time })
	if len(events) == 0 {
		return nil
	}
	out := make([]recommender.ScaleEvent, len(events))
	for i, e := range events {
		out[i] = recommender.ScaleEvent{ReplicaChange: e.ReplicaChange, Timestamp: e.Timestamp.Time, Outdated: e.Outdated}
	}
	return out
}

func eventsToStatus(events []recommender.ScaleEvent) []ScaleEvent {
	events = newest(events, func(e recommender.ScaleEvent) time.Time { return e.Timestamp })
	if len(events) == 0 {
		return nil
	}
	out := make([]ScaleEvent, len(events))
	for i, e := range events {
		out[i] = ScaleEvent{ReplicaChange: e.ReplicaChange, Timestamp: metav1.NewMicroTime(e.Timestamp), Outdated: e.Outdated}
	}
	return out
}

// newest returns items when it has at most MaxHistoryItems entries, and
// otherwise the MaxHistoryItems newest by ts (ties broken towards later
// positions), in their original order. It never modifies items.
func newest[T any](items []T, ts func(T) time.Time) []T {
	if len(items) <= MaxHistoryItems {
		return items
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	// Newest first; among equal times the later slot first.
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := ts(items[b]).Compare(ts(items[a])); c != 0 {
			return c
		}
		return b - a
	})
	keep := idx[:MaxHistoryItems]
	slices.Sort(keep)
	out := make([]T, len(keep))
	for i, k := range keep {
		out[i] = items[k]
	}
	return out
}

// Bounds of the explanation's lists and strings; they follow the MaxItems
// and MaxLength markers of Explanation.
const (
	maxExplanationProposals = 64
	maxExplanationSteps     = 16
	maxShortString          = 512
	maxMessage              = 1024
)

// ExplanationFromResult summarizes a recommendation for the status, within
// the schema's bounds (long strings are cut, extra entries dropped).
func ExplanationFromResult(r *recommender.Result) *Explanation {
	e := &Explanation{
		Metric:                truncate(r.Metric, maxShortString),
		MetricIndex:           int32(r.MetricIndex),
		MetricDesiredReplicas: r.MetricDesiredReplicas,
		Rescale:               r.Rescale,
	}
	switch {
	case r.Rescale:
		e.Message = truncate(r.RescaleReason, maxMessage)
	case r.Error != "":
		e.Message = truncate(r.Error, maxMessage)
	}
	for _, p := range r.Proposals[:min(len(r.Proposals), maxExplanationProposals)] {
		e.Proposals = append(e.Proposals, ProposalSummary{
			Type:     p.Type,
			Name:     truncate(p.Name, maxShortString),
			Replicas: p.Replicas,
			Rule:     string(p.Rule),
			Error:    truncate(p.Error, maxMessage),
		})
	}
	for _, s := range r.Steps[:min(len(r.Steps), maxExplanationSteps)] {
		e.Steps = append(e.Steps, ExplanationStep{
			Kind:          string(s.Kind),
			From:          s.From,
			To:            s.To,
			Reason:        truncate(s.Reason, maxShortString),
			WindowSeconds: copyInt32(s.WindowSeconds),
			Limit:         copyInt32(s.Limit),
			Policy:        truncate(s.Policy, maxShortString),
		})
	}
	return e
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// copyInt32 keeps the explanation from sharing the result's pointers.
func copyInt32(p *int32) *int32 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}
