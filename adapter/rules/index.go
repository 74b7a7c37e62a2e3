package rules

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/hpa-engine/hpa-engine/adapter/config"
)

// QueryKey identifies one series listing: rules with the same seriesQuery
// on the same backend share it.
type QueryKey struct {
	// Backend is the rule's backend name; empty for the default one.
	Backend string
	// SeriesQuery is the selector sent to /api/v1/series.
	SeriesQuery string
}

// SeriesQueries returns the distinct series listings a configuration
// needs, custom rules first, in file order.
func SeriesQueries(cfg *config.Config) []QueryKey {
	seen := map[QueryKey]bool{}
	var out []QueryKey
	for _, list := range [][]*config.Rule{cfg.Rules, cfg.ExternalRules} {
		for _, r := range list {
			k := QueryKey{Backend: r.Backend, SeriesQuery: r.SeriesQuery}
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// KeyOf returns the listing a rule's series come from.
func KeyOf(r *config.Rule) QueryKey { return QueryKey{Backend: r.Backend, SeriesQuery: r.SeriesQuery} }

// Index is the outcome of one discovery: every metric the rules expose for
// the series listed, ready for lookups by request. It is immutable and safe
// for concurrent use; discovery builds a new one each relist.
type Index struct {
	custom     map[customKey]*CustomMetric
	customList []*CustomMetric
	external   map[string]*ExternalMetric
	extList    []*ExternalMetric
	problems   []string
}

type customKey struct {
	gr     schema.GroupResource
	metric string
}

// NewIndex maps the listed series through every rule. series holds the
// result of each listing (SeriesQueries); a listing that is missing (it
// failed) contributes nothing. When two rules expose the same metric, the
// later rule wins, as in prometheus-adapter, and the clash is a problem.
func NewIndex(cfg *config.Config, series map[QueryKey][]Series, m ResourceMapper) *Index {
	ix := &Index{custom: map[customKey]*CustomMetric{}, external: map[string]*ExternalMetric{}}
	for _, r := range cfg.Rules {
		metrics, problems := DiscoverCustom(r, series[KeyOf(r)], m)
		for _, p := range problems {
			ix.problems = append(ix.problems, p.Error())
		}
		for i := range metrics {
			cm := &metrics[i]
			k := customKey{cm.Resource, cm.Metric}
			if prev, clash := ix.custom[k]; clash && prev.Rule != cm.Rule {
				ix.problems = append(ix.problems, fmt.Sprintf("%s: %s also exposed by %s; %s wins", cm.Rule.ID(), cm, prev.Rule.ID(), cm.Rule.ID()))
			}
			ix.custom[k] = cm
		}
	}
	for _, r := range cfg.ExternalRules {
		for _, em := range DiscoverExternal(r, series[KeyOf(r)]) {
			if prev, clash := ix.external[em.Metric]; clash && prev.Rule != em.Rule {
				ix.problems = append(ix.problems, fmt.Sprintf("%s: external metric %s also exposed by %s; %s wins", em.Rule.ID(), em.Metric, prev.Rule.ID(), em.Rule.ID()))
			}
			ix.external[em.Metric] = &em
		}
	}
	for _, cm := range ix.custom {
		ix.customList = append(ix.customList, cm)
	}
	sort.Slice(ix.customList, func(i, j int) bool {
		a, b := ix.customList[i], ix.customList[j]
		if a.Resource != b.Resource {
			return a.Resource.String() < b.Resource.String()
		}
		return a.Metric < b.Metric
	})
	for _, em := range ix.external {
		ix.extList = append(ix.extList, em)
	}
	sort.Slice(ix.extList, func(i, j int) bool { return ix.extList[i].Metric < ix.extList[j].Metric })
	return ix
}

// Custom returns the metric of a canonical group-resource (normalize
// request resources with NormalizeResource first).
func (ix *Index) Custom(gr schema.GroupResource, metric string) (*CustomMetric, bool) {
	cm, ok := ix.custom[customKey{gr, metric}]
	return cm, ok
}

// External returns the external metric with this name.
func (ix *Index) External(metric string) (*ExternalMetric, bool) {
	em, ok := ix.external[metric]
	return em, ok
}

// CustomMetrics lists the custom metrics, sorted by resource then name.
// The slice is shared; do not modify it.
func (ix *Index) CustomMetrics() []*CustomMetric { return ix.customList }

// ExternalMetrics lists the external metrics, sorted by name. The slice is
// shared; do not modify it.
func (ix *Index) ExternalMetrics() []*ExternalMetric { return ix.extList }

// Problems describes what discovery skipped or overrode: unresolvable
// resources and metrics two rules both expose. Callers log them.
func (ix *Index) Problems() []string { return ix.problems }
