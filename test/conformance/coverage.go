package conformance

import (
	"fmt"
	"sort"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// coverage tallies what a run exercised, so that a green run can be seen to
// have covered every metric kind, target type, behavior and upstream outcome.
type coverage struct {
	groups map[string]map[string]int
}

func newCoverage() *coverage { return &coverage{groups: map[string]map[string]int{}} }

func (c *coverage) inc(group, key string) {
	if c.groups[group] == nil {
		c.groups[group] = map[string]int{}
	}
	c.groups[group][key]++
}

// add records one scenario and upstream's outcome for it.
func (c *coverage) add(in recommender.Input, up Outcome) {
	spec := HPAFor(in).Spec
	for i, m := range spec.Metrics {
		key := string(m.Type) + "/" + string(metricTarget(m).Type)
		if i < len(in.Observations) && in.Observations[i].Error != "" {
			key += " (fetch error)"
		}
		c.inc("metrics", key)
	}
	switch b := in.Spec.Behavior; {
	case b == nil:
		c.inc("behavior", "nil")
	default:
		for dir, r := range map[string]*autoscalingv2.HPAScalingRules{"scaleUp": b.ScaleUp, "scaleDown": b.ScaleDown} {
			switch {
			case r == nil:
				c.inc("behavior", dir+" defaulted")
			case r.SelectPolicy != nil:
				c.inc("behavior", dir+" select "+string(*r.SelectPolicy))
			default:
				c.inc("behavior", dir+" partial")
			}
		}
	}
	switch {
	case up.Rescale && up.Desired > in.Target.SpecReplicas:
		c.inc("outcome", "scale up")
	case up.Rescale:
		c.inc("outcome", "scale down")
	default:
		c.inc("outcome", "no rescale")
	}
	if up.Error != "" {
		c.inc("outcome", "reconcile error")
	}
	for _, cond := range up.Status.Conditions {
		if cond.Reason == "Previous" {
			continue
		}
		c.inc("conditions", fmt.Sprintf("%s=%s/%s", cond.Type, cond.Status, cond.Reason))
	}
}

func metricTarget(m autoscalingv2.MetricSpec) autoscalingv2.MetricTarget {
	switch {
	case m.Resource != nil:
		return m.Resource.Target
	case m.ContainerResource != nil:
		return m.ContainerResource.Target
	case m.Pods != nil:
		return m.Pods.Target
	case m.Object != nil:
		return m.Object.Target
	case m.External != nil:
		return m.External.Target
	}
	return autoscalingv2.MetricTarget{}
}

func (c *coverage) String() string {
	var b strings.Builder
	groups := make([]string, 0, len(c.groups))
	for g := range c.groups {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	for _, g := range groups {
		keys := make([]string, 0, len(c.groups[g]))
		for k := range c.groups[g] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s: %d", k, c.groups[g][k]))
		}
		fmt.Fprintf(&b, "  %s: %s\n", g, strings.Join(parts, ", "))
	}
	return b.String()
}
