package config

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// maxTrialBytes bounds the trial rendering of a query template at load.
const maxTrialBytes = 1 << 20

// compiler turns a parsed File into a Config, collecting every problem.
type compiler struct {
	lines    map[string]int
	errs     Errors
	warnings []string
	backends map[string]bool
}

func compile(f *File, lines map[string]int) (*Config, error) {
	c := &compiler{lines: lines, backends: map[string]bool{}}
	cfg := &Config{}
	for i := range f.Backends {
		if b := c.backend(fmt.Sprintf("backends[%d]", i), &f.Backends[i]); b != nil {
			cfg.Backends = append(cfg.Backends, b)
		}
	}
	for i := range f.Rules {
		cfg.Rules = append(cfg.Rules, c.rule("rules", i, &f.Rules[i]))
	}
	for i := range f.ExternalRules {
		cfg.ExternalRules = append(cfg.ExternalRules, c.rule("externalRules", i, &f.ExternalRules[i]))
	}
	if f.ResourceRules != nil {
		cfg.ResourceRules = c.resourceRules("resourceRules", f.ResourceRules)
	}
	if f.MetricsRelistInterval != "" {
		cfg.MetricsRelistInterval = c.positiveDuration("metricsRelistInterval", f.MetricsRelistInterval)
	}
	if len(c.errs) > 0 {
		sortErrors(c.errs)
		return nil, c.errs
	}
	cfg.Warnings = c.warnings
	return cfg, nil
}

// fail records a problem at path, with the line of the nearest enclosing
// path the document has (a missing field is reported at its parent).
func (c *compiler) fail(path string, err error) {
	c.errs = append(c.errs, &FieldError{Path: path, Line: c.line(path), Err: err})
}

func (c *compiler) failf(path, format string, args ...any) {
	c.fail(path, fmt.Errorf(format, args...))
}

func (c *compiler) warnf(path, format string, args ...any) {
	msg := path + ": " + fmt.Sprintf(format, args...)
	if l := c.line(path); l > 0 {
		msg = fmt.Sprintf("line %d: %s", l, msg)
	}
	c.warnings = append(c.warnings, msg)
}

func (c *compiler) line(path string) int {
	for path != "" {
		if l, ok := c.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
	return 0
}

func (c *compiler) rule(list string, index int, in *DiscoveryRule) *Rule {
	path := fmt.Sprintf("%s[%d]", list, index)
	r := &Rule{List: list, Index: index, SeriesQuery: in.SeriesQuery, Backend: in.Backend, MetricsQueryText: in.MetricsQuery}

	if strings.TrimSpace(in.SeriesQuery) == "" {
		c.failf(path+".seriesQuery", "required: the series selector that lists this rule's series")
	}
	for i, f := range in.SeriesFilters {
		fpath := fmt.Sprintf("%s.seriesFilters[%d]", path, i)
		switch {
		case f.Is != "" && f.IsNot != "":
			c.failf(fpath, "set one of is and isNot, not both")
		case f.Is == "" && f.IsNot == "":
			c.failf(fpath, "set one of is or isNot")
		case f.Is != "":
			if re := c.regexp(fpath+".is", f.Is); re != nil {
				r.SeriesFilters = append(r.SeriesFilters, Filter{Regexp: re, Keep: true})
			}
		default:
			if re := c.regexp(fpath+".isNot", f.IsNot); re != nil {
				r.SeriesFilters = append(r.SeriesFilters, Filter{Regexp: re, Keep: false})
			}
		}
	}

	matches := in.Name.Matches
	if matches == "" {
		matches = ".*"
	}
	r.NameMatches = c.regexp(path+".name.matches", matches)
	r.NameAs = in.Name.As
	if r.NameMatches != nil && r.NameAs == "" {
		switch groups := r.NameMatches.NumSubexp(); groups {
		case 0:
			r.NameAs = "$0"
		case 1:
			r.NameAs = "$1"
		default:
			c.failf(path+".name.as", "required: name.matches %q has %d capture groups, so the metric name is ambiguous", in.Name.Matches, groups)
		}
	}

	r.Resources = c.resources(path+".resources", &in.Resources)
	if !r.External() && in.Resources.Template == "" && len(in.Resources.Overrides) == 0 {
		c.warnf(path+".resources", "neither template nor overrides: the rule's series map to no Kubernetes object, so it exposes no metric")
	}

	if in.MetricsQuery == "" {
		c.warnf(path+".metricsQuery", "empty: every query for this rule's metrics will fail")
	} else {
		r.MetricsQuery = c.queryTemplate(path+".metricsQuery", in.MetricsQuery, !r.External())
	}

	if in.Backend != "" && !c.backends[in.Backend] {
		c.failf(path+".backend", "no backend named %q in backends", in.Backend)
	}
	return r
}

func (c *compiler) regexp(path, expr string) *regexp.Regexp {
	re, err := regexp.Compile(expr)
	if err != nil {
		c.fail(path, err)
		return nil
	}
	return re
}

// queryTemplate parses a << >> query template and executes it once on
// sample data: a template that fails there (an unknown field, a bad
// function call) would fail on every request, so it is a load error.
func (c *compiler) queryTemplate(path, text string, grouped bool) *template.Template {
	t, err := template.New(path).Delims("<<", ">>").Parse(text)
	if err != nil {
		c.fail(path, err)
		return nil
	}
	if err := checkRanges(t); err != nil {
		c.fail(path, err)
		return nil
	}
	args := QueryArgs{
		Series:            "sample_metric",
		LabelMatchers:     `namespace="sample",pod=~"a|b"`,
		LabelValuesByName: map[string]string{"namespace": "sample", "pod": "a|b"},
		GroupBySlice:      []string{},
	}
	if grouped {
		args.GroupBy, args.GroupBySlice = "pod", []string{"pod"}
	}
	// The trial output is small for any real query; the limit stops a
	// template that loops from hanging the load (or a hot reload).
	b := LimitedBuilder{Max: maxTrialBytes}
	if err := t.Execute(&b, args); err != nil {
		c.fail(path, err)
		return nil
	}
	if strings.TrimSpace(b.String()) == "" {
		c.failf(path, "renders an empty query")
		return nil
	}
	return t
}

func (c *compiler) resources(path string, in *ResourceMapping) *Resources {
	r := &Resources{TemplateText: in.Template, Namespaced: true, groupIndex: -1}
	if in.Namespaced != nil {
		r.Namespaced = *in.Namespaced
	}
	if in.Template != "" {
		c.labelTemplate(path+".template", in.Template, r)
	}
	if len(in.Overrides) > 0 {
		r.Overrides = make(map[string]schema.GroupResource, len(in.Overrides))
	}
	labels := make([]string, 0, len(in.Overrides))
	for l := range in.Overrides {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		gr := in.Overrides[l]
		opath := joinPath(path+".overrides", l)
		ok := true
		if !model.LegacyValidation.IsValidLabelName(l) {
			c.failf(opath, "%q is not a valid Prometheus label name", l)
			ok = false
		}
		if strings.TrimSpace(gr.Resource) == "" {
			c.failf(opath+".resource", "required: the resource the label names")
			ok = false
		}
		if ok {
			r.Overrides[l] = schema.GroupResource{Group: gr.Group, Resource: gr.Resource}
		}
	}
	return r
}

// labelTemplate compiles resources.template both ways: forwards to name a
// label, and backwards into a regular expression that recognises labels of
// its form (prometheus-adapter's technique: execute the template with
// capture groups in place of the fields).
func (c *compiler) labelTemplate(path, text string, r *Resources) {
	t, err := template.New(path).Delims("<<", ">>").Parse(text)
	if err != nil {
		c.fail(path, err)
		return
	}
	if err := checkRanges(t); err != nil {
		c.fail(path, err)
		return
	}
	pat := LimitedBuilder{Max: maxLabelBytes}
	if err := t.Execute(&pat, LabelArgs{Group: "(?P<group>.+?)", Resource: "(?P<resource>.+?)"}); err != nil {
		c.fail(path, err)
		return
	}
	re, err := regexp.Compile("^" + pat.String() + "$")
	if err != nil {
		c.failf(path, "cannot match labels against the template: %w", err)
		return
	}
	r.resIndex, r.groupIndex = -1, -1
	for i, name := range re.SubexpNames() {
		switch name {
		case "group":
			r.groupIndex = i
		case "resource":
			r.resIndex = i
		}
	}
	if r.resIndex < 0 {
		c.failf(path, "must use <<.Resource>>")
		return
	}
	r.Template, r.labelPattern = t, re
	sample, err := r.FormatLabel("apps", "deployment")
	if err != nil {
		r.Template, r.labelPattern = nil, nil
		c.fail(path, err)
		return
	}
	if !model.LegacyValidation.IsValidLabelName(sample) {
		r.Template, r.labelPattern = nil, nil
		c.failf(path, "renders %q for deployments.apps, not a valid Prometheus label name", sample)
	}
}

func (c *compiler) resourceRules(path string, in *ResourceRules) *ResourceQueries {
	out := &ResourceQueries{
		CPU:    c.resourceRule(path+".cpu", &in.CPU),
		Memory: c.resourceRule(path+".memory", &in.Memory),
	}
	if in.Window != "" {
		d, err := model.ParseDuration(in.Window)
		if err != nil {
			c.fail(path+".window", err)
		}
		out.Window = time.Duration(d)
	}
	return out
}

func (c *compiler) resourceRule(path string, in *ResourceRule) *ResourceQuery {
	out := &ResourceQuery{
		ContainerQueryText: in.ContainerQuery,
		NodeQueryText:      in.NodeQuery,
		Resources:          c.resources(path+".resources", &in.Resources),
		ContainerLabel:     in.ContainerLabel,
	}
	if in.ContainerQuery == "" {
		c.failf(path+".containerQuery", "required")
	} else {
		out.ContainerQuery = c.queryTemplate(path+".containerQuery", in.ContainerQuery, true)
	}
	if in.NodeQuery == "" {
		c.failf(path+".nodeQuery", "required")
	} else {
		out.NodeQuery = c.queryTemplate(path+".nodeQuery", in.NodeQuery, true)
	}
	switch {
	case in.ContainerLabel == "":
		c.failf(path+".containerLabel", "required: the label that holds the container name")
	case !model.LegacyValidation.IsValidLabelName(in.ContainerLabel):
		c.failf(path+".containerLabel", "%q is not a valid Prometheus label name", in.ContainerLabel)
	}
	return out
}

func (c *compiler) positiveDuration(path, text string) time.Duration {
	d, err := model.ParseDuration(text)
	if err != nil {
		c.fail(path, err)
		return 0
	}
	if d <= 0 {
		c.failf(path, "must be greater than zero")
		return 0
	}
	return time.Duration(d)
}

func (c *compiler) backend(path string, in *BackendSpec) *Backend {
	before := len(c.errs)
	switch {
	case in.Name == "":
		c.failf(path+".name", "required: the name rules use in their backend field")
	case c.backends[in.Name]:
		c.failf(path+".name", "duplicate backend name %q", in.Name)
	}
	// A name is taken even when the rest is wrong, so rules naming it get
	// one error (the backend's) rather than two.
	if in.Name != "" {
		c.backends[in.Name] = true
	}
	out := &Backend{Name: in.Name, Headers: in.Headers, BearerTokenFile: in.BearerTokenFile, BasicAuth: in.BasicAuth, TLS: in.TLS}

	u, err := url.Parse(in.URL)
	switch {
	case in.URL == "":
		c.failf(path+".url", "required")
	case err != nil:
		c.fail(path+".url", err)
	case u.Scheme != "http" && u.Scheme != "https":
		c.failf(path+".url", "scheme must be http or https, got %q", u.Scheme)
	case u.Host == "":
		c.failf(path+".url", "no host in %q", in.URL)
	default:
		out.URL = u
	}
	if in.Timeout != "" {
		out.Timeout = c.positiveDuration(path+".timeout", in.Timeout)
	}
	for _, name := range sortedKeys(in.Headers) {
		hpath := joinPath(path+".headers", name)
		if !isHTTPToken(name) {
			c.failf(hpath, "%q is not a valid HTTP header name", name)
		}
		if strings.ContainsAny(in.Headers[name], "\r\n\x00") {
			c.failf(hpath, "header values must not contain line breaks or NUL")
		}
	}
	if in.BasicAuth != nil {
		if in.BasicAuth.Username == "" {
			c.failf(path+".basicAuth.username", "required")
		}
		if in.BasicAuth.PasswordFile == "" {
			c.failf(path+".basicAuth.passwordFile", "required")
		}
		if in.BearerTokenFile != "" {
			c.failf(path+".basicAuth", "set one of basicAuth and bearerTokenFile, not both")
		}
	}
	if in.TLS != nil && (in.TLS.CertFile == "") != (in.TLS.KeyFile == "") {
		c.failf(path+".tls", "certFile and keyFile go together")
	}
	if len(c.errs) > before {
		return nil
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// isHTTPToken reports whether s is an RFC 9110 token, the syntax of a
// header name.
func isHTTPToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}
