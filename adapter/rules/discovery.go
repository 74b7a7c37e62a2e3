package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/hpa-engine/hpa-engine/adapter/config"
)

// Series is what discovery needs of a series: its metric name and the
// names of its other labels. Values are dropped, as prometheus-adapter
// does, so thousands of series of one metric collapse into a few.
type Series struct {
	// Name is the metric name (__name__).
	Name string
	// Labels are the label names other than __name__, sorted.
	Labels []string
}

// SeriesFromLabelSets turns the label sets /api/v1/series returned into
// distinct Series, sorted by name then labels. Sets without a metric name
// are skipped: no rule can name them.
func SeriesFromLabelSets(sets []model.LabelSet) []Series {
	seen := make(map[string]bool)
	var out []Series
	for _, set := range sets {
		name := string(set[model.MetricNameLabel])
		if name == "" {
			continue
		}
		labels := make([]string, 0, len(set)-1)
		for l := range set {
			if l != model.MetricNameLabel {
				labels = append(labels, string(l))
			}
		}
		sort.Strings(labels)
		key := name + "\x00" + strings.Join(labels, "\x00")
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, Series{Name: name, Labels: labels})
	}
	sortSeries(out)
	return out
}

func sortSeries(s []Series) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Name != s[j].Name {
			return s[i].Name < s[j].Name
		}
		return slices.Compare(s[i].Labels, s[j].Labels) < 0
	})
}

// CustomMetric is one metric a rule exposes on one resource, with what a
// request needs to query it.
type CustomMetric struct {
	// Resource is the canonical group-resource ("pods", "deployments.apps").
	Resource schema.GroupResource
	// Metric is the API name.
	Metric string
	// Namespaced says whether the objects live in namespaces.
	Namespaced bool
	// Series is the Prometheus metric name .Series renders.
	Series string
	// ResourceLabel holds the objects' names; it is .GroupBy.
	ResourceLabel string
	// NamespaceLabel holds namespace names.
	NamespaceLabel string
	// Rule is the rule that exposes the metric.
	Rule *config.Rule
}

// String names the metric as discovery lists it, "pods/http_requests".
func (m *CustomMetric) String() string { return m.Resource.String() + "/" + m.Metric }

// ExternalMetric is one metric an external rule exposes.
type ExternalMetric struct {
	// Metric is the API name.
	Metric string
	// Series is the Prometheus metric name .Series renders.
	Series string
	// Namespaced says whether the request's namespace becomes a matcher
	// (resources.namespaced, true by default).
	Namespaced bool
	// NamespaceLabel holds namespace names.
	NamespaceLabel string
	// Rule is the rule that exposes the metric.
	Rule *config.Rule
}

// DiscoverCustom returns the metrics a custom rule exposes for the series
// its seriesQuery returned: for each series that Keep allows, its API name
// on every resource its labels map to. When several series give one
// (resource, metric), the last in name order wins, as in prometheus-adapter.
// Problems are resources the mapper could not resolve, for logging.
func DiscoverCustom(r *config.Rule, series []Series, m ResourceMapper) (metrics []CustomMetric, problems []error) {
	mp := NewMapping(r.Resources, m)
	for _, p := range mp.Problems() {
		problems = append(problems, fmt.Errorf("%s.resources: %w", r.ID(), p))
	}
	nsLabel, err := mp.NamespaceLabel()
	if err != nil {
		problems = append(problems, fmt.Errorf("%s.resources: %w", r.ID(), err))
	}
	type key struct {
		gr     schema.GroupResource
		metric string
	}
	index := map[key]int{}
	labelOf := map[schema.GroupResource]string{}
	badLabel := map[schema.GroupResource]bool{}
	for _, s := range series {
		if !Keep(r, s.Name) {
			continue
		}
		name, ok := MetricName(r, s.Name)
		if !ok || name == "" {
			continue
		}
		for _, a := range mp.Associations(s.Labels) {
			l, known := labelOf[a.Resource]
			if !known && !badLabel[a.Resource] {
				l, err = mp.LabelForResource(a.Resource)
				if err != nil {
					badLabel[a.Resource] = true
					problems = append(problems, fmt.Errorf("%s.resources: %w", r.ID(), err))
				} else {
					labelOf[a.Resource] = l
				}
			}
			if badLabel[a.Resource] {
				continue
			}
			cm := CustomMetric{
				Resource:       a.Resource,
				Metric:         name,
				Namespaced:     Namespaced(a.Resource),
				Series:         s.Name,
				ResourceLabel:  l,
				NamespaceLabel: nsLabel,
				Rule:           r,
			}
			k := key{a.Resource, name}
			if i, dup := index[k]; dup {
				metrics[i] = cm
				continue
			}
			index[k] = len(metrics)
			metrics = append(metrics, cm)
		}
	}
	return metrics, problems
}

// DiscoverExternal returns the metrics an external rule exposes for the
// series its seriesQuery returned: the API name of each series Keep allows.
// When several series give one name, the last in name order wins.
func DiscoverExternal(r *config.Rule, series []Series) []ExternalMetric {
	// An external rule's namespace label only matters when it is namespaced;
	// without a mapper, a template naming "namespaces" would need the
	// singular, which for namespaces is known.
	nsLabel := externalNamespaceLabel(r.Resources)
	index := map[string]int{}
	var out []ExternalMetric
	for _, s := range series {
		if !Keep(r, s.Name) {
			continue
		}
		name, ok := MetricName(r, s.Name)
		if !ok || name == "" {
			continue
		}
		em := ExternalMetric{Metric: name, Series: s.Name, Namespaced: r.Resources.Namespaced, NamespaceLabel: nsLabel, Rule: r}
		if i, dup := index[name]; dup {
			out[i] = em
			continue
		}
		index[name] = len(out)
		out = append(out, em)
	}
	return out
}

// externalNamespaceLabel finds the namespace label of an external rule
// without a mapper: an override naming "namespace" or "namespaces" (core
// group), else the template with "namespace", else "namespace".
func externalNamespaceLabel(res *config.Resources) string {
	labels := make([]string, 0, len(res.Overrides))
	for l := range res.Overrides {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		gr := res.Overrides[l]
		if gr.Group == "" && (gr.Resource == "namespace" || gr.Resource == "namespaces") {
			return l
		}
	}
	if res.Template != nil {
		if l, err := res.FormatLabel("", "namespace"); err == nil {
			return l
		}
	}
	return "namespace"
}

// DistinctSeries reduces label sets, as a series listing returns them, to
// the distinct shapes discovery needs (a listing holds one set per pod, but a
// handful of shapes), then to Series as SeriesFromLabelSets does.
func DistinctSeries(sets []map[string]string) []Series {
	seen := map[string]bool{}
	var unique []model.LabelSet
	var names []string
	for _, set := range sets {
		names = names[:0]
		for l := range set {
			names = append(names, l)
		}
		sort.Strings(names)
		// The metric name is one of the label names; its value tells series
		// of different metrics apart.
		key := set[model.MetricNameLabel] + "\x00" + strings.Join(names, "\x00")
		if seen[key] {
			continue
		}
		seen[key] = true
		ls := make(model.LabelSet, len(set))
		for l, v := range set {
			ls[model.LabelName(l)] = model.LabelValue(v)
		}
		unique = append(unique, ls)
	}
	return SeriesFromLabelSets(unique)
}
