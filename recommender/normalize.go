package recommender

import (
	"fmt"
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// This file mirrors upstream's normalizeDesiredReplicas (no behavior) and
// normalizeDesiredReplicasWithBehaviors with their helpers.

const (
	msgReadyForNewScale    = "recommended size matches current size"
	msgScaleDownStabilized = "recent recommendations were higher than current one, applying the highest recent recommendation"
	msgScaleUpStabilized   = "recent recommendations were lower than current one, applying the lowest recent recommendation"
	msgWithinRange         = "the desired count is within the acceptable range"
	msgScaleUpLimit        = "the desired replica count is increasing faster than the maximum scale rate"
	msgScaleDownLimit      = "the desired replica count is decreasing faster than the maximum scale rate"
	msgTooMany             = "the desired replica count is more than the maximum replica count"
	msgTooFew              = "the desired replica count is less than the minimum replica count"
)

// normalize is upstream's normalizeDesiredReplicas: the highest
// recommendation of the downscale window, then [min, max] and the legacy
// scale-up limit.
func (r *reconciler) normalize(current, prenormalized, minReplicas int32) int32 {
	stabilized := r.stabilize(prenormalized)
	if stabilized != prenormalized {
		r.setCondition(autoscalingv2.AbleToScale, corev1.ConditionTrue, "ScaleDownStabilized", msgScaleDownStabilized)
		r.step(Step{Kind: StepStabilized, From: prenormalized, To: stabilized, Reason: "ScaleDownStabilized", Message: msgScaleDownStabilized,
			WindowSeconds: ptrTo(int32(r.set.downscaleWindow.Seconds()))})
	} else {
		r.setCondition(autoscalingv2.AbleToScale, corev1.ConditionTrue, "ReadyForNewScale", msgReadyForNewScale)
	}
	desired, reason, message := limitWithRules(current, stabilized, minReplicas, r.spec.MaxReplicas)
	if desired == stabilized {
		r.setCondition(autoscalingv2.ScalingLimited, corev1.ConditionFalse, reason, message)
	} else {
		r.setCondition(autoscalingv2.ScalingLimited, corev1.ConditionTrue, reason, message)
		r.step(Step{Kind: StepLimited, From: stabilized, To: desired, Reason: reason, Message: message, Limit: ptrTo(desired),
			Policy: legacyNote(reason, current, desired)})
	}
	return desired
}

// stabilize is upstream's stabilizeRecommendation: the highest recommendation
// not older than the downscale window, recording this one in the last slot
// older than the window (or appending).
func (r *reconciler) stabilize(prenormalized int32) int32 {
	highest := prenormalized
	cutoff := r.now.Add(-r.set.downscaleWindow)
	old := -1
	for i, rec := range r.hist.Recommendations {
		if rec.Timestamp.Before(cutoff) {
			old = i
		} else if rec.Replicas > highest {
			highest = rec.Replicas
		}
	}
	r.record(old, prenormalized)
	return highest
}

func (r *reconciler) record(slot int, replicas int32) {
	rec := TimestampedRecommendation{Replicas: replicas, Timestamp: r.now}
	if slot >= 0 {
		r.hist.Recommendations[slot] = rec
		return
	}
	r.hist.Recommendations = boundedAppend(r.hist.Recommendations, rec)
}

// limitWithRules is upstream's convertDesiredReplicasWithRules.
func limitWithRules(current, desired, minReplicas, maxReplicas int32) (int32, string, string) {
	maxAllowed := maxReplicas
	reason, message := "TooManyReplicas", msgTooMany
	if limit := scaleUpLimit(current); maxReplicas > limit {
		maxAllowed = limit
		reason, message = "ScaleUpLimit", msgScaleUpLimit
	}
	if desired < minReplicas {
		return minReplicas, "TooFewReplicas", msgTooFew
	}
	if desired > maxAllowed {
		return maxAllowed, reason, message
	}
	return desired, "DesiredWithinRange", msgWithinRange
}

func scaleUpLimit(current int32) int32 {
	return int32(math.Max(scaleUpLimitFactor*float64(current), scaleUpLimitMinimum))
}

// normalizeWithBehaviors is upstream's normalizeDesiredReplicasWithBehaviors:
// stabilization between the lowest recommendation of the scale-up window and
// the highest of the scale-down window, then the policies' rate limits and
// the bounds.
func (r *reconciler) normalizeWithBehaviors(current, prenormalized, minReplicas int32) int32 {
	up, down := r.spec.Behavior.ScaleUp, r.spec.Behavior.ScaleDown
	stabilized, reason, message := r.stabilizeWithBehaviors(current, prenormalized, up, down)
	if stabilized != prenormalized {
		r.setCondition(autoscalingv2.AbleToScale, corev1.ConditionTrue, reason, message)
		window := *down.StabilizationWindowSeconds
		if reason == "ScaleUpStabilized" {
			window = *up.StabilizationWindowSeconds
		}
		r.step(Step{Kind: StepStabilized, From: prenormalized, To: stabilized, Reason: reason, Message: message, WindowSeconds: ptrTo(window)})
	} else {
		r.setCondition(autoscalingv2.AbleToScale, corev1.ConditionTrue, "ReadyForNewScale", msgReadyForNewScale)
	}
	desired, reason, message := r.limitWithBehaviors(current, stabilized, minReplicas, up, down)
	if desired == stabilized {
		r.setCondition(autoscalingv2.ScalingLimited, corev1.ConditionFalse, reason, message)
	} else {
		r.setCondition(autoscalingv2.ScalingLimited, corev1.ConditionTrue, reason, message)
		note := boundNote(reason, desired)
		switch reason {
		case "ScaleUpLimit":
			note = r.policyNote(current, desired, up, true)
		case "ScaleDownLimit":
			note = r.policyNote(current, desired, down, false)
		}
		r.step(Step{Kind: StepLimited, From: stabilized, To: desired, Reason: reason, Message: message, Limit: ptrTo(desired), Policy: note})
	}
	return desired
}

// stabilizeWithBehaviors is upstream's stabilizeRecommendationWithBehaviors.
func (r *reconciler) stabilizeWithBehaviors(current, desired int32, up, down *autoscalingv2.HPAScalingRules) (int32, string, string) {
	upRec, downRec := desired, desired
	upCutoff := r.now.Add(-time.Second * time.Duration(*up.StabilizationWindowSeconds))
	downCutoff := r.now.Add(-time.Second * time.Duration(*down.StabilizationWindowSeconds))
	old := -1
	for i, rec := range r.hist.Recommendations {
		if rec.Timestamp.After(upCutoff) {
			upRec = min(rec.Replicas, upRec)
		}
		if rec.Timestamp.After(downCutoff) {
			downRec = max(rec.Replicas, downRec)
		}
		if rec.Timestamp.Before(upCutoff) && rec.Timestamp.Before(downCutoff) {
			old = i
		}
	}
	recommendation := current
	if recommendation < upRec {
		recommendation = upRec
	}
	if recommendation > downRec {
		recommendation = downRec
	}
	r.record(old, desired)
	if desired >= current {
		return recommendation, "ScaleUpStabilized", msgScaleUpStabilized
	}
	return recommendation, "ScaleDownStabilized", msgScaleDownStabilized
}

// limitWithBehaviors is upstream's convertDesiredReplicasWithBehaviorRate.
func (r *reconciler) limitWithBehaviors(current, desired, minReplicas int32, up, down *autoscalingv2.HPAScalingRules) (int32, string, string) {
	ups, downs := r.hist.ScaleUpEvents, r.hist.ScaleDownEvents
	switch {
	case desired > current:
		limit := scaleUpLimitWithRules(current, ups, downs, up, r.now)
		if limit < current {
			// Scale-up events still fill the period: no further scale-up.
			limit = current
		}
		maxAllowed := r.spec.MaxReplicas
		reason, message := "TooManyReplicas", msgTooMany
		if maxAllowed > limit {
			maxAllowed = limit
			reason, message = "ScaleUpLimit", msgScaleUpLimit
		}
		if desired > maxAllowed {
			return maxAllowed, reason, message
		}
	case desired < current:
		limit := scaleDownLimitWithRules(current, ups, downs, down, r.now)
		if limit > current {
			limit = current
		}
		minAllowed := minReplicas
		reason, message := "TooFewReplicas", msgTooFew
		if minAllowed < limit {
			minAllowed = limit
			reason, message = "ScaleDownLimit", msgScaleDownLimit
		}
		if desired < minAllowed {
			return minAllowed, reason, message
		}
	}
	return desired, "DesiredWithinRange", msgWithinRange
}

// periodStart is the replica count at the start of a policy's period:
// current, minus what was added and plus what was removed within it.
func periodStart(current int32, period int32, ups, downs []ScaleEvent, now time.Time) int32 {
	return current - replicasChangedWithin(period, ups, now) + replicasChangedWithin(period, downs, now)
}

// scaleUpLimitWithRules is upstream's calculateScaleUpLimitWithScalingRules.
func scaleUpLimitWithRules(current int32, ups, downs []ScaleEvent, rules *autoscalingv2.HPAScalingRules, now time.Time) int32 {
	var result int32
	var pick func(a, b int32) int32
	switch *rules.SelectPolicy {
	case autoscalingv2.DisabledPolicySelect:
		return current
	case autoscalingv2.MinChangePolicySelect:
		result, pick = math.MaxInt32, minInt32
	default:
		result, pick = math.MinInt32, maxInt32
	}
	// Declared outside the loop as upstream does: a policy of unknown type
	// repeats the previous proposal.
	var proposed int32
	for _, policy := range rules.Policies {
		start := periodStart(current, policy.PeriodSeconds, ups, downs, now)
		switch policy.Type {
		case autoscalingv2.PodsScalingPolicy:
			proposed = start + policy.Value
		case autoscalingv2.PercentScalingPolicy:
			// Rounded up so that a small percentage still adds a pod.
			proposed = int32(math.Ceil(float64(start) * (1 + float64(policy.Value)/100)))
		}
		result = pick(result, proposed)
	}
	return result
}

// scaleDownLimitWithRules is upstream's calculateScaleDownLimitWithBehaviors.
func scaleDownLimitWithRules(current int32, ups, downs []ScaleEvent, rules *autoscalingv2.HPAScalingRules, now time.Time) int32 {
	var result int32
	var pick func(a, b int32) int32
	switch *rules.SelectPolicy {
	case autoscalingv2.DisabledPolicySelect:
		return current
	case autoscalingv2.MinChangePolicySelect:
		result, pick = math.MinInt32, maxInt32
	default:
		result, pick = math.MaxInt32, minInt32
	}
	// Declared outside the loop as upstream does: a policy of unknown type
	// repeats the previous proposal.
	var proposed int32
	for _, policy := range rules.Policies {
		start := periodStart(current, policy.PeriodSeconds, ups, downs, now)
		switch policy.Type {
		case autoscalingv2.PodsScalingPolicy:
			proposed = start - policy.Value
		case autoscalingv2.PercentScalingPolicy:
			proposed = int32(float64(start) * (1 - float64(policy.Value)/100))
		}
		result = pick(result, proposed)
	}
	return result
}

func minInt32(a, b int32) int32 { return min(a, b) }
func maxInt32(a, b int32) int32 { return max(a, b) }

// legacyNote says which rule limited a recommendation without behavior.
func legacyNote(reason string, current, limit int32) string {
	if reason == "ScaleUpLimit" {
		return fmt.Sprintf("legacy scale-up limit max(2 x %d, 4) = %d", current, limit)
	}
	return boundNote(reason, limit)
}

func boundNote(reason string, limit int32) string {
	switch reason {
	case "TooManyReplicas":
		return fmt.Sprintf("maxReplicas %d", limit)
	case "TooFewReplicas":
		return fmt.Sprintf("minReplicas %d", limit)
	}
	return ""
}

// policyNote says which scaling policy gave the limit, recomputing the
// policies' proposals the way the limit functions do. It only describes.
func (r *reconciler) policyNote(current, limit int32, rules *autoscalingv2.HPAScalingRules, up bool) string {
	sel := *rules.SelectPolicy
	if sel == autoscalingv2.DisabledPolicySelect {
		return "selectPolicy Disabled"
	}
	for _, p := range rules.Policies {
		start := periodStart(current, p.PeriodSeconds, r.hist.ScaleUpEvents, r.hist.ScaleDownEvents, r.now)
		var proposed int32
		switch {
		case p.Type == autoscalingv2.PodsScalingPolicy && up:
			proposed = start + p.Value
		case p.Type == autoscalingv2.PodsScalingPolicy:
			proposed = start - p.Value
		case p.Type == autoscalingv2.PercentScalingPolicy && up:
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		case p.Type == autoscalingv2.PercentScalingPolicy:
			proposed = int32(float64(start) * (1 - float64(p.Value)/100))
		default:
			continue
		}
		if proposed == limit {
			return fmt.Sprintf("policy %s %d per %d s from %d replicas at the start of the period (selectPolicy %s)", p.Type, p.Value, p.PeriodSeconds, start, sel)
		}
	}
	// The policies would go past current: earlier events used up the period.
	return fmt.Sprintf("scale events of the policies' periods already used the allowed change (selectPolicy %s)", sel)
}
