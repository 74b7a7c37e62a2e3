package adapter

import (
	"cmp"
	"slices"
)

// sortedCustom returns a sorted copy so discovery documents are stable.
func sortedCustom(in []CustomMetricInfo) []CustomMetricInfo {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b CustomMetricInfo) int {
		if c := cmp.Compare(a.String(), b.String()); c != 0 {
			return c
		}
		// A resource advertised both ways keeps its namespaced entry, so
		// the first of equal names is the same on every request.
		switch {
		case a.Namespaced == b.Namespaced:
			return 0
		case a.Namespaced:
			return -1
		}
		return 1
	})
	return out
}

// sortedExternal returns a sorted copy so discovery documents are stable.
func sortedExternal(in []ExternalMetricInfo) []ExternalMetricInfo {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b ExternalMetricInfo) int { return cmp.Compare(a.Metric, b.Metric) })
	return out
}
