package rules

import (
	"fmt"
	"regexp"
	"strings"
	"text/template"
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
	args, err := objectArgs(m.Series, m.ResourceLabel, m.NamespaceLabel, nil, q)
	if err != nil {
		return "", err
	}
	if m.Rule.MetricsQuery == nil {
		return "", fmt.Errorf("%w: %s has no metricsQuery", ErrNoQuery, m.Rule.ID())
	}
	return execute(m.Rule.ID()+".metricsQuery", m.Rule.MetricsQuery, args)
}

// objectArgs builds the template data of a query about objects, in
// prometheus-adapter's order: selector matchers, namespace, objects.
func objectArgs(series, resourceLabel, namespaceLabel string, extraGroupBy []string, q CustomQuery) (config.QueryArgs, error) {
	ms, err := SelectorMatchers(q.MetricSelector)
	if err != nil {
		return config.QueryArgs{}, err
	}
	values := valuesByName(ms)
	if q.Namespace != "" {
		if err := checkName("namespace", q.Namespace); err != nil {
			return config.QueryArgs{}, err
		}
		ns := Matcher{Label: namespaceLabel, Op: MatchEqual, Value: q.Namespace}
		ms = append(ms, ns)
		values[ns.Label] = quoteInner(regexp.QuoteMeta(q.Namespace))
	}
	switch {
	case q.AllObjects:
		ms = append(ms, Matcher{Label: resourceLabel, Op: MatchNotEqual, Value: ""})
		values[resourceLabel] = ""
	case len(q.Names) == 0:
		return config.QueryArgs{}, fmt.Errorf("%w: no object names to query", ErrInvalidName)
	default:
		for _, n := range q.Names {
			if err := checkName("object name", n); err != nil {
				return config.QueryArgs{}, err
			}
		}
		alt := alternation(q.Names)
		obj := Matcher{Label: resourceLabel, Op: MatchEqual, Value: q.Names[0]}
		if len(q.Names) > 1 {
			obj = Matcher{Label: resourceLabel, Op: MatchRegexp, Value: alt}
		}
		ms = append(ms, obj)
		values[resourceLabel] = quoteInner(alt)
	}
	groupBy := append([]string{resourceLabel}, extraGroupBy...)
	return config.QueryArgs{
		Series:            series,
		LabelMatchers:     FormatMatchers(ms),
		LabelValuesByName: values,
		GroupBy:           strings.Join(groupBy, ","),
		GroupBySlice:      groupBy,
	}, nil
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
	if m.Rule.MetricsQuery == nil {
		return "", fmt.Errorf("%w: %s has no metricsQuery", ErrNoQuery, m.Rule.ID())
	}
	return execute(m.Rule.ID()+".metricsQuery", m.Rule.MetricsQuery, config.QueryArgs{
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

func execute(name string, t *template.Template, args config.QueryArgs) (string, error) {
	b := config.LimitedBuilder{Max: MaxQueryBytes}
	if err := t.Execute(&b, args); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	if strings.TrimSpace(b.String()) == "" {
		return "", fmt.Errorf("%w: %s rendered an empty query", ErrNoQuery, name)
	}
	return b.String(), nil
}
