package adapter

import (
	"cmp"
	"slices"
)

// sortedCustom returns a sorted copy so discovery documents are stable.
func sortedCustom(in []CustomMetricInfo) []CustomMetricInfo {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b CustomMetricInfo) int {
		return cmp.Compare(a.String(), b.String())
	})
	return out
}

// sortedExternal returns a sorted copy so discovery documents are stable.
func sortedExternal(in []ExternalMetricInfo) []ExternalMetricInfo {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b ExternalMetricInfo) int { return cmp.Compare(a.Metric, b.Metric) })
	return out
}
