package conformance

import (
	"slices"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// maxShrinkChecks bounds the work spent minimizing one mismatch.
const maxShrinkChecks = 400

// Shrink returns a smaller scenario that still fails: it repeatedly tries to
// drop one pod, metric, sample, history entry, condition, container, policy
// or setting, and keeps any change after which fails still returns true.
func Shrink(in recommender.Input, fails func(recommender.Input) bool) recommender.Input {
	checks := 0
	for {
		improved := false
		for _, c := range smaller(in) {
			if checks >= maxShrinkChecks {
				return in
			}
			checks++
			if fails(c) {
				in = c
				improved = true
				break
			}
		}
		if !improved {
			return in
		}
	}
}

// clone deep-copies the parts of an input that smaller edits.
func clone(in recommender.Input) recommender.Input {
	out := in
	out.Spec = *in.Spec.DeepCopy()
	out.Status = *in.Status.DeepCopy()
	out.Target.Pods = slices.Clone(in.Target.Pods)
	for i := range out.Target.Pods {
		p := &out.Target.Pods[i]
		p.Containers = slices.Clone(p.Containers)
		p.InitContainers = slices.Clone(p.InitContainers)
	}
	out.Observations = slices.Clone(in.Observations)
	for i := range out.Observations {
		out.Observations[i].PodMetrics = slices.Clone(out.Observations[i].PodMetrics)
		out.Observations[i].Values = slices.Clone(out.Observations[i].Values)
	}
	out.History = recommender.History{
		Recommendations: slices.Clone(in.History.Recommendations),
		ScaleUpEvents:   slices.Clone(in.History.ScaleUpEvents),
		ScaleDownEvents: slices.Clone(in.History.ScaleDownEvents),
	}
	return out
}

// smaller lists the inputs one simplification away from in, biggest cuts first.
func smaller(in recommender.Input) []recommender.Input {
	var out []recommender.Input
	edit := func(f func(*recommender.Input)) {
		c := clone(in)
		f(&c)
		out = append(out, c)
	}

	if len(in.Spec.Metrics) >= 2 {
		for i := range in.Spec.Metrics {
			edit(func(c *recommender.Input) {
				c.Spec.Metrics = slices.Delete(c.Spec.Metrics, i, i+1)
				c.Observations = slices.Delete(c.Observations, i, i+1)
			})
		}
	}
	for i := range in.Target.Pods {
		edit(func(c *recommender.Input) {
			name := c.Target.Pods[i].Name
			c.Target.Pods = slices.Delete(c.Target.Pods, i, i+1)
			for j := range c.Observations {
				c.Observations[j].PodMetrics = slices.DeleteFunc(c.Observations[j].PodMetrics, func(s recommender.PodMetric) bool { return s.Pod == name })
			}
		})
	}
	if in.Spec.Behavior != nil {
		edit(func(c *recommender.Input) { c.Spec.Behavior = nil })
		if in.Spec.Behavior.ScaleUp != nil {
			edit(func(c *recommender.Input) { c.Spec.Behavior.ScaleUp = nil })
		}
		if in.Spec.Behavior.ScaleDown != nil {
			edit(func(c *recommender.Input) { c.Spec.Behavior.ScaleDown = nil })
		}
	}
	if len(in.History.Recommendations) > 0 {
		edit(func(c *recommender.Input) { c.History.Recommendations = []recommender.TimestampedRecommendation{} })
	}
	if len(in.History.ScaleUpEvents) > 0 {
		edit(func(c *recommender.Input) { c.History.ScaleUpEvents = nil })
	}
	if len(in.History.ScaleDownEvents) > 0 {
		edit(func(c *recommender.Input) { c.History.ScaleDownEvents = nil })
	}
	if len(in.Status.Conditions) > 0 {
		edit(func(c *recommender.Input) { c.Status.Conditions = nil })
	}
	for i := range in.History.Recommendations {
		edit(func(c *recommender.Input) {
			c.History.Recommendations = slices.Delete(c.History.Recommendations, i, i+1)
		})
	}
	for i := range in.History.ScaleUpEvents {
		edit(func(c *recommender.Input) { c.History.ScaleUpEvents = slices.Delete(c.History.ScaleUpEvents, i, i+1) })
	}
	for i := range in.History.ScaleDownEvents {
		edit(func(c *recommender.Input) {
			c.History.ScaleDownEvents = slices.Delete(c.History.ScaleDownEvents, i, i+1)
		})
	}
	for i := range in.Status.Conditions {
		edit(func(c *recommender.Input) { c.Status.Conditions = slices.Delete(c.Status.Conditions, i, i+1) })
	}
	if b := in.Spec.Behavior; b != nil {
		for _, up := range []bool{true, false} {
			r := b.ScaleDown
			if up {
				r = b.ScaleUp
			}
			if r == nil {
				continue
			}
			rules := func(c *recommender.Input) **autoscalingv2.HPAScalingRules {
				if up {
					return &c.Spec.Behavior.ScaleUp
				}
				return &c.Spec.Behavior.ScaleDown
			}
			if len(r.Policies) > 1 {
				for i := range r.Policies {
					edit(func(c *recommender.Input) { (*rules(c)).Policies = slices.Delete((*rules(c)).Policies, i, i+1) })
				}
			}
			if r.Tolerance != nil {
				edit(func(c *recommender.Input) { (*rules(c)).Tolerance = nil })
			}
			if r.SelectPolicy != nil {
				edit(func(c *recommender.Input) { (*rules(c)).SelectPolicy = nil })
			}
			if r.StabilizationWindowSeconds != nil {
				edit(func(c *recommender.Input) { (*rules(c)).StabilizationWindowSeconds = nil })
			}
		}
	}
	for j, o := range in.Observations {
		for k := range o.PodMetrics {
			edit(func(c *recommender.Input) {
				c.Observations[j].PodMetrics = slices.Delete(c.Observations[j].PodMetrics, k, k+1)
			})
		}
	}
	for i, p := range in.Target.Pods {
		if len(p.Containers) > 1 {
			edit(func(c *recommender.Input) { c.Target.Pods[i].Containers = c.Target.Pods[i].Containers[:1] })
		}
		if len(p.InitContainers) > 0 {
			edit(func(c *recommender.Input) { c.Target.Pods[i].InitContainers = nil })
		}
		if len(p.Requests) > 0 || len(p.Overhead) > 0 {
			edit(func(c *recommender.Input) { c.Target.Pods[i].Requests, c.Target.Pods[i].Overhead = nil, nil })
		}
	}
	s := in.Settings
	if s.Tolerance != nil {
		edit(func(c *recommender.Input) { c.Settings.Tolerance = nil })
	}
	if s.CPUInitializationPeriod != nil {
		edit(func(c *recommender.Input) { c.Settings.CPUInitializationPeriod = nil })
	}
	if s.InitialReadinessDelay != nil {
		edit(func(c *recommender.Input) { c.Settings.InitialReadinessDelay = nil })
	}
	if s.DownscaleStabilizationWindow != nil {
		edit(func(c *recommender.Input) { c.Settings.DownscaleStabilizationWindow = nil })
	}
	if in.Status.LastScaleTime != nil {
		edit(func(c *recommender.Input) { c.Status.LastScaleTime = nil })
	}
	return out
}
