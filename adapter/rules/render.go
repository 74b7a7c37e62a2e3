package rules

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/hpa-engine/hpa-engine/adapter/config"
)

// MaxQueryBytes bounds a rendered query. A template that loops (text/template
// can range over an integer) must fail rather than exhaust memory; real
// queries, even by name for 10,000 objects, stay far below it.
const MaxQueryBytes = 16 << 20

// CustomQuery is what a custom-metrics request asks of one metric.
type CustomQuery struct {
	// Namespace is the objects' namespace; empty for root-scoped resources
	// (namespaces, nodes, persistentvolumes), which get no namespace
	// matcher.
	Namespace string
	// Names are the objects' names. One name renders `label="name"`,
	// several `label=~"a|b"` (each regexp-quoted), as prometheus-adapter
	// does. Ignored when AllObjects is set.
	Names []string
	// AllObjects renders the query for every object of the resource in the
	// namespace: the resource label must merely be present (`label!=""`).
	// Callers use it when a selection is large, so the query's length does
	// not grow with it, and keep the objects they want from the result.
	AllObjects bool
	// MetricSelector narrows the series by their labels (v1beta2's
	// metricLabelSelector); nil for none.
	MetricSelector labels.Selector
}

// RenderCustom renders the PromQL query for a custom metric: the rule's
// metricsQuery over .Series (the series name), .LabelMatchers (the metric
// selector's matchers, then namespace="ns", then the objects' matcher),
// .GroupBy and .GroupBySlice (the resource's label) and .LabelValuesByName.
// Bad input wraps ErrUnsupportedSelector or ErrInvalidName.
func RenderCustom(m *CustomMetric, q CustomQuery) (string, error) {
	ms, err := SelectorMatchers(q.MetricSelector)
	if err != nil {
		return "", err
	}
	values := valuesByName(ms)
	if q.Namespace != "" {
		if err := checkName("namespace", q.Namespace); err != nil {
			return "", err
		}
		ns := Matcher{Label: m.NamespaceLabel, Op: MatchEqual, Value: q.Namespace}
		ms = append(ms, ns)
		values[ns.Label] = quoteInner(regexp.QuoteMeta(q.Namespace))
	}
	switch {
	case q.AllObjects:
		ms = append(ms, Matcher{Label: m.ResourceLabel, Op: MatchNotEqual, Value: ""})
		values[m.ResourceLabel] = ""
	case len(q.Names) == 0:
		return "", fmt.Errorf("%w: no object names to query %s for", ErrInvalidName, m.Metric)
	default:
		for _, n := range q.Names {
			if err := checkName("object name", n); err != nil {
				return "", err
			}
		}
		alt := alternation(q.Names)
		obj := Matcher{Label: m.ResourceLabel, Op: MatchEqual, Value: q.Names[0]}
		if len(q.Names) > 1 {
			obj = Matcher{Label: m.ResourceLabel, Op: MatchRegexp, Value: alt}
		}
		ms = append(ms, obj)
		values[m.ResourceLabel] = quoteInner(alt)
	}
	return execute(m.Rule, config.QueryArgs{
		Series:            m.Series,
		LabelMatchers:     FormatMatchers(ms),
		LabelValuesByName: values,
		GroupBy:           m.ResourceLabel,
		GroupBySlice:      []string{m.ResourceLabel},
	})
}

// RenderExternal renders the PromQL query for an external metric: the
// rule's metricsQuery over .Series, .LabelMatchers (the metric selector's
// matchers, then namespace="ns" unless the rule says namespaced: false) and
// an empty .GroupBy, which is why external templates name their own
// aggregation labels. Bad input wraps ErrUnsupportedSelector or
// ErrInvalidName.
func RenderExternal(m *ExternalMetric, namespace string, sel labels.Selector) (string, error) {
	ms, err := SelectorMatchers(sel)
	if err != nil {
		return "", err
	}
	values := valuesByName(ms)
	if m.Namespaced && namespace != "" {
		if err := checkName("namespace", namespace); err != nil {
			return "", err
		}
		ms = append(ms, Matcher{Label: m.NamespaceLabel, Op: MatchEqual, Value: namespace})
		values[m.NamespaceLabel] = quoteInner(regexp.QuoteMeta(namespace))
	}
	return execute(m.Rule, config.QueryArgs{
		Series:            m.Series,
		LabelMatchers:     FormatMatchers(ms),
		LabelValuesByName: values,
		GroupBy:           "",
		GroupBySlice:      []string{},
	})
}

// valuesByName builds .LabelValuesByName from selector matchers: each
// label's value (or, for in/notin, its values) regexp-quoted, joined by
// "|", and escaped for a double-quoted PromQL string, so a template that
// writes `label=~"<<index .LabelValuesByName "label">>"` is safe.
func valuesByName(ms []Matcher) map[string]string {
	out := make(map[string]string, len(ms)+2)
	for _, m := range ms {
		switch m.Op {
		case MatchRegexp, MatchNotRegexp:
			// Strip the anchors SelectorMatchers adds: the documented form is
			// the bare alternation.
			out[m.Label] = quoteInner(strings.TrimSuffix(strings.TrimPrefix(m.Value, "^("), ")$"))
		default:
			out[m.Label] = quoteInner(regexp.QuoteMeta(m.Value))
		}
	}
	return out
}

func checkName(what, name string) error {
	if name == "" || !utf8.ValidString(name) {
		return fmt.Errorf("%w: %s %q", ErrInvalidName, what, name)
	}
	return nil
}

func execute(r *config.Rule, args config.QueryArgs) (string, error) {
	if r.MetricsQuery == nil {
		return "", fmt.Errorf("%w: %s has no metricsQuery", ErrNoQuery, r.ID())
	}
	b := config.LimitedBuilder{Max: MaxQueryBytes}
	if err := r.MetricsQuery.Execute(&b, args); err != nil {
		return "", fmt.Errorf("%s.metricsQuery: %w", r.ID(), err)
	}
	if strings.TrimSpace(b.String()) == "" {
		return "", fmt.Errorf("%w: %s.metricsQuery rendered an empty query", ErrNoQuery, r.ID())
	}
	return b.String(), nil
}
