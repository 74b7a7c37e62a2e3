package rules

import "github.com/hpa-engine/hpa-engine/adapter/config"

// Keep reports whether a rule exposes the series with this name: every
// seriesFilters entry allows it and name.matches matches it (the implicit
// filter prometheus-adapter adds).
func Keep(r *config.Rule, seriesName string) bool {
	for _, f := range r.SeriesFilters {
		if !f.Allows(seriesName) {
			return false
		}
	}
	return r.NameMatches.MatchString(seriesName)
}

// MetricName returns the API name of a series: name.as expanded with
// name.matches' groups ("$1", "${1}_per_second"). It returns false when
// name.matches does not match the series name.
func MetricName(r *config.Rule, seriesName string) (string, bool) {
	loc := r.NameMatches.FindStringSubmatchIndex(seriesName)
	if loc == nil {
		return "", false
	}
	return string(r.NameMatches.ExpandString(nil, r.NameAs, seriesName, loc)), true
}
