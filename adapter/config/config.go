package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"text/template"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Config is a loaded configuration: validated, with every regular
// expression and template compiled. It is read-only once returned and safe
// to share between goroutines.
type Config struct {
	// Rules are the custom-metrics rules, in file order.
	Rules []*Rule
	// ExternalRules are the external-metrics rules, in file order.
	ExternalRules []*Rule
	// ResourceRules are the resource-metrics queries; nil when absent.
	ResourceRules *ResourceQueries
	// MetricsRelistInterval is the file's relist interval; zero when the
	// file leaves it to the flag.
	MetricsRelistInterval time.Duration
	// Backends are the named backends in file order; rules whose Backend is
	// empty use the --prometheus-url one, which is not listed here.
	Backends []*Backend
	// Warnings describe rules that load but cannot serve anything (an empty
	// metricsQuery, a rule that maps no resource). prometheus-adapter
	// accepts such files, so they are not errors; callers should log them.
	Warnings []string
}

// Backend returns the named backend, or false when the file has none by
// that name. The empty name is the --prometheus-url backend and is never
// found here.
func (c *Config) Backend(name string) (*Backend, bool) {
	for _, b := range c.Backends {
		if b.Name == name {
			return b, true
		}
	}
	return nil, false
}

// Rule is a compiled discovery rule.
type Rule struct {
	// List is "rules" or "externalRules", and Index the rule's position in
	// it; together they name the rule in logs and errors.
	List  string
	Index int
	// SeriesQuery is the series selector sent to /api/v1/series.
	SeriesQuery string
	// SeriesFilters are the seriesFilters entries, in order.
	SeriesFilters []Filter
	// NameMatches is name.matches compiled (".*" when empty); a series
	// whose name does not match is not exposed.
	NameMatches *regexp.Regexp
	// NameAs is name.as with prometheus-adapter's defaults applied.
	NameAs string
	// Resources is the rule's label <-> group-resource association.
	Resources *Resources
	// MetricsQuery is metricsQuery compiled with << >> delimiters; its data
	// is a QueryArgs. Nil when the file leaves metricsQuery empty.
	MetricsQuery *template.Template
	// MetricsQueryText is metricsQuery as written.
	MetricsQueryText string
	// Backend names the backend the rule queries; empty for the default.
	Backend string
}

// ID names the rule as the file does, "rules[2]" or "externalRules[0]".
func (r *Rule) ID() string { return fmt.Sprintf("%s[%d]", r.List, r.Index) }

// External reports whether the rule serves the external metrics API.
func (r *Rule) External() bool { return r.List == "externalRules" }

// Filter is a compiled seriesFilters entry.
type Filter struct {
	// Regexp is the is or isNot expression.
	Regexp *regexp.Regexp
	// Keep is true for is (keep matching names), false for isNot.
	Keep bool
}

// Allows reports whether a series with this name passes the filter.
func (f Filter) Allows(name string) bool { return f.Regexp.MatchString(name) == f.Keep }

// QueryArgs is the data a metricsQuery template sees. The fields and their
// meaning are prometheus-adapter's.
type QueryArgs struct {
	// Series is the Prometheus metric name.
	Series string
	// LabelMatchers is the comma-separated matchers: the metric selector's,
	// then the namespace's, then the objects'.
	LabelMatchers string
	// LabelValuesByName maps each matched label to its values joined by
	// "|", regular-expression quoted and escaped for use inside a
	// double-quoted PromQL string.
	LabelValuesByName map[string]string
	// GroupBy is the comma-separated labels to aggregate by: the resource's
	// label for custom metrics, empty for external ones.
	GroupBy string
	// GroupBySlice is GroupBy as a list.
	GroupBySlice []string
}

// LabelArgs is the data a resources.template sees.
type LabelArgs struct {
	// Group is the API group with dots and dashes turned into underscores.
	Group string
	// Resource is the singular resource name.
	Resource string
}

// Resources is a compiled resource mapping.
type Resources struct {
	// Template is resources.template compiled; nil when absent.
	Template *template.Template
	// TemplateText is resources.template as written.
	TemplateText string
	// Overrides maps label names to the group-resources written in the
	// file, not yet resolved against the cluster (a resource may be
	// singular there).
	Overrides map[string]schema.GroupResource
	// Namespaced is resources.namespaced, true when unset.
	Namespaced bool

	labelPattern *regexp.Regexp
	groupIndex   int // -1 when the template has no .Group
	resIndex     int
}

// ParseLabel extracts the group and resource a label names through the
// template, as written in the label (resource singular or plural, group
// with underscores). It returns false when there is no template or the
// label does not have its form. Overrides are not consulted.
func (r *Resources) ParseLabel(label string) (group, resource string, ok bool) {
	if r.labelPattern == nil {
		return "", "", false
	}
	m := r.labelPattern.FindStringSubmatch(label)
	if m == nil {
		return "", "", false
	}
	if r.groupIndex >= 0 {
		group = m[r.groupIndex]
	}
	return group, m[r.resIndex], true
}

// FormatLabel executes the template for a group-resource whose resource is
// already singular. The group's dots and dashes become underscores, as in
// prometheus-adapter.
func (r *Resources) FormatLabel(group, singularResource string) (string, error) {
	if r.Template == nil {
		return "", fmt.Errorf("no resources.template to name the label of %s", schema.GroupResource{Group: group, Resource: singularResource})
	}
	b := LimitedBuilder{Max: maxLabelBytes}
	args := LabelArgs{Group: SanitizeGroup(group), Resource: singularResource}
	if err := r.Template.Execute(&b, args); err != nil {
		return "", fmt.Errorf("resources.template: %w", err)
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("resources.template rendered an empty label for %s", schema.GroupResource{Group: group, Resource: singularResource})
	}
	return b.String(), nil
}

// maxLabelBytes bounds what a label template renders; label names are short.
const maxLabelBytes = 4 << 10

// SanitizeGroup turns an API group into label-name characters the way
// prometheus-adapter does: dots and dashes become underscores.
func SanitizeGroup(group string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' {
			return '_'
		}
		return r
	}, group)
}

// ResourceQueries are the compiled resourceRules.
type ResourceQueries struct {
	// CPU holds the cpu queries.
	CPU *ResourceQuery
	// Memory holds the memory queries.
	Memory *ResourceQuery
	// Window is the range the queries compute over.
	Window time.Duration
}

// ResourceQuery holds the compiled queries of one resource (cpu or
// memory). Their data is a QueryArgs, as for metricsQuery.
type ResourceQuery struct {
	// ContainerQuery renders the per-container query.
	ContainerQuery *template.Template
	// ContainerQueryText is containerQuery as written.
	ContainerQueryText string
	// NodeQuery renders the per-node query.
	NodeQuery *template.Template
	// NodeQueryText is nodeQuery as written.
	NodeQueryText string
	// Resources maps labels to group-resources.
	Resources *Resources
	// ContainerLabel is the label that holds the container name.
	ContainerLabel string
}

// Backend is a compiled named backend.
type Backend struct {
	// Name is what rules write in their backend field.
	Name string
	// URL is the parsed base URL.
	URL *url.URL
	// Timeout bounds each query; zero means the caller's default.
	Timeout time.Duration
	// Headers are sent with every request; names are valid HTTP tokens and
	// values hold no line breaks.
	Headers map[string]string
	// BearerTokenFile holds a bearer token; empty for none.
	BearerTokenFile string
	// BasicAuth is set when the backend uses basic authentication; never
	// together with BearerTokenFile.
	BasicAuth *BasicAuth
	// TLS is the client TLS configuration; nil for the defaults.
	TLS *TLS
}

// LimitedBuilder is a strings.Builder that fails once it holds more than Max
// bytes. Templates render into it so that one that loops ends with an error
// instead of taking the process's memory.
type LimitedBuilder struct {
	strings.Builder
	Max int
}

// Write appends p, or fails without appending when that would pass Max.
func (b *LimitedBuilder) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.Max {
		return 0, fmt.Errorf("%w: renders more than %d bytes", ErrTooLarge, b.Max)
	}
	return b.Builder.Write(p)
}

// WriteString appends s, or fails without appending when that would pass Max.
func (b *LimitedBuilder) WriteString(s string) (int, error) {
	if b.Len()+len(s) > b.Max {
		return 0, fmt.Errorf("%w: renders more than %d bytes", ErrTooLarge, b.Max)
	}
	return b.Builder.WriteString(s)
}
