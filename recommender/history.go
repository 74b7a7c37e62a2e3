package recommender

import (
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// RecordScaleEvent returns h with the rescale from prev to next replicas
// recorded at now, as upstream's storeScaleEvent does after a successful
// scale update: only when the autoscaler has a behavior (the legacy path never
// reads events), reusing the last slot older than the direction's longest
// policy period, appending otherwise. Call it after the scale update
// succeeded; Recommend does not, because it cannot know.
func RecordScaleEvent(h History, behavior *autoscalingv2.HorizontalPodAutoscalerBehavior, prev, next int32, now time.Time) History {
	out := h.clone()
	if behavior == nil || prev == next {
		return out
	}
	spec := DefaultSpec(autoscalingv2.HorizontalPodAutoscalerSpec{Behavior: behavior}, DefaultDownscaleStabilizationWindow)
	if next > prev {
		out.ScaleUpEvents = storeEvent(out.ScaleUpEvents, longestPolicyPeriod(spec.Behavior.ScaleUp), next-prev, now)
	} else {
		out.ScaleDownEvents = storeEvent(out.ScaleDownEvents, longestPolicyPeriod(spec.Behavior.ScaleDown), prev-next, now)
	}
	return out
}

// storeEvent marks events older than the longest period as outdated (the mark
// stays, as upstream's does) and puts the new event in the last outdated slot.
func storeEvent(events []ScaleEvent, longestPeriod int32, change int32, now time.Time) []ScaleEvent {
	cutoff := now.Add(-time.Second * time.Duration(longestPeriod))
	slot := -1
	for i := range events {
		if events[i].Timestamp.Before(cutoff) {
			events[i].Outdated = true
		}
		if events[i].Outdated {
			slot = i
		}
	}
	ev := ScaleEvent{ReplicaChange: change, Timestamp: now}
	if slot >= 0 {
		events[slot] = ev
		return events
	}
	return boundedAppend(events, ev)
}

func longestPolicyPeriod(rules *autoscalingv2.HPAScalingRules) int32 {
	var longest int32
	if rules == nil {
		return 0
	}
	for _, p := range rules.Policies {
		longest = max(longest, p.PeriodSeconds)
	}
	return longest
}

// replicasChangedWithin sums the changes of the events strictly newer than
// now minus the period, as upstream's getReplicasChangePerPeriod does.
func replicasChangedWithin(periodSeconds int32, events []ScaleEvent, now time.Time) int32 {
	cutoff := now.Add(-time.Second * time.Duration(periodSeconds))
	var sum int32
	for _, e := range events {
		if e.Timestamp.After(cutoff) {
			sum += e.ReplicaChange
		}
	}
	return sum
}

// boundedAppend appends and, past MaxHistory, drops the oldest entries; no
// window can need them (windows are at most an hour).
func boundedAppend[T any](list []T, v T) []T {
	list = append(list, v)
	if over := len(list) - MaxHistory; over > 0 {
		list = append(list[:0:0], list[over:]...)
	}
	return list
}

// clone copies the lists so that Recommend and RecordScaleEvent never write
// into the caller's slices.
func (h History) clone() History {
	return History{
		Recommendations: cloneSlice(h.Recommendations),
		ScaleUpEvents:   cloneSlice(h.ScaleUpEvents),
		ScaleDownEvents: cloneSlice(h.ScaleDownEvents),
	}
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}
