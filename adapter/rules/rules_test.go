package rules

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/hpa-engine/hpa-engine/adapter/config"
)

// loadRule compiles a one-rule configuration for table tests.
func loadRule(t *testing.T, doc string) *config.Rule {
	t.Helper()
	cfg, err := config.Load([]byte(doc))
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	if len(cfg.Rules) > 0 {
		return cfg.Rules[0]
	}
	return cfg.ExternalRules[0]
}

// TestDocumentedExamples pins the metric names and queries that
// prometheus-adapter's documentation states, beyond the golden files.
func TestDocumentedExamples(t *testing.T) {
	walkthrough, err := config.LoadFile("testdata/config-walkthrough.yaml")
	if err != nil {
		t.Fatal(err)
	}
	series := map[QueryKey][]Series{
		KeyOf(walkthrough.Rules[0]): {{Name: "http_requests_total", Labels: []string{"kubernetes_namespace", "kubernetes_pod_name", "method"}}},
	}
	ix := NewIndex(walkthrough, series, BuiltinMapper())

	t.Run("walkthrough discovery lists pods and namespaces", func(t *testing.T) {
		var got []string
		for _, m := range ix.CustomMetrics() {
			got = append(got, fmt.Sprintf("%s namespaced=%v", m, m.Namespaced))
		}
		want := []string{"namespaces/http_requests_per_second namespaced=false", "pods/http_requests_per_second namespaced=true"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("discovery = %q, want %q", got, want)
		}
	})
	t.Run("walkthrough query for two pods", func(t *testing.T) {
		m, ok := ix.Custom(schema.GroupResource{Resource: "pods"}, "http_requests_per_second")
		if !ok {
			t.Fatal("pods/http_requests_per_second not discovered")
		}
		got, err := RenderCustom(m, CustomQuery{Namespace: "production", Names: []string{"frontend-server-abcd-0123", "fronted-server-abcd-4567"}})
		want := `sum(rate(http_requests_total{kubernetes_namespace="production",kubernetes_pod_name=~"frontend-server-abcd-0123|fronted-server-abcd-4567"}[2m])) by (kubernetes_pod_name)`
		if err != nil || got != want {
			t.Errorf("RenderCustom() = %q, %v\nwant %q", got, err, want)
		}
	})

	t.Run("config.md querying fields", func(t *testing.T) {
		r := loadRule(t, `rules:
- seriesQuery: '{namespace!=""}'
  resources: {template: "<<.Resource>>"}
  name: {matches: "^(.*)_total$", as: "${1}_per_second"}
  metricsQuery: 'Series=<<.Series>> LabelMatchers=<<.LabelMatchers>> GroupBy=<<.GroupBy>> pod=<<index .LabelValuesByName "pod">> slice=<<.GroupBySlice>>'
`)
		ms, _ := DiscoverCustom(r, []Series{{Name: "http_requests_total", Labels: []string{"ingress", "namespace", "pod", "service", "verb"}}}, BuiltinMapper())
		var pods *CustomMetric
		for i := range ms {
			if ms[i].Resource.Resource == "pods" {
				pods = &ms[i]
			}
		}
		if pods == nil || pods.Metric != "http_requests_per_second" {
			t.Fatalf("no pods/http_requests_per_second in %v", ms)
		}
		got, err := RenderCustom(pods, CustomQuery{Namespace: "somens", Names: []string{"pod1", "pod2"}})
		want := `Series=http_requests_total LabelMatchers=namespace="somens",pod=~"pod1|pod2" GroupBy=pod pod=pod1|pod2 slice=[pod]`
		if err != nil || got != want {
			t.Errorf("RenderCustom() = %q, %v\nwant %q", got, err, want)
		}
	})
}

func TestNaming(t *testing.T) {
	tests := []struct {
		name     string
		rule     string
		series   string
		wantKeep bool
		wantName string
	}{
		{name: "no matches keeps the whole name", rule: `{}`, series: "up", wantKeep: true, wantName: "up"},
		{name: "one group defaults to $1", rule: `{matches: "^container_(.*)_seconds_total$"}`, series: "container_cpu_usage_seconds_total", wantKeep: true, wantName: "cpu_usage"},
		{name: "matches is an implicit filter", rule: `{matches: "^container_(.*)_seconds_total$"}`, series: "container_memory_bytes", wantKeep: false},
		{name: "as with a group", rule: `{matches: "^(.*)_total$", as: "${1}_per_second"}`, series: "http_requests_total", wantKeep: true, wantName: "http_requests_per_second"},
		{name: "constant as", rule: `{as: "cheesy_goodness"}`, series: "cheddar", wantKeep: true, wantName: "cheesy_goodness"},
		{name: "unanchored matches", rule: `{matches: "requests"}`, series: "http_requests_total", wantKeep: true, wantName: "requests"},
		{name: "two groups with as", rule: `{matches: "^(.*)_(total|count)$", as: "${2}_of_${1}"}`, series: "jobs_count", wantKeep: true, wantName: "count_of_jobs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := loadRule(t, "rules:\n- seriesQuery: up\n  name: "+tt.rule+"\n  metricsQuery: x\n")
			if got := Keep(r, tt.series); got != tt.wantKeep {
				t.Errorf("Keep(%q) = %v, want %v", tt.series, got, tt.wantKeep)
			}
			if !tt.wantKeep {
				return
			}
			if got, ok := MetricName(r, tt.series); !ok || got != tt.wantName {
				t.Errorf("MetricName(%q) = %q, %v; want %q", tt.series, got, ok, tt.wantName)
			}
		})
	}
}

func TestSeriesFilters(t *testing.T) {
	r := loadRule(t, `rules:
- seriesQuery: up
  seriesFilters:
  - is: "^container_"
  - isNot: "_seconds_total$"
  name: {matches: "_total$"}
  metricsQuery: x
`)
	tests := []struct {
		series string
		want   bool
	}{
		{series: "container_fs_reads_total", want: true},
		{series: "container_cpu_usage_seconds_total", want: false}, // isNot
		{series: "http_requests_total", want: false},               // is
		{series: "container_memory_bytes", want: false},            // name.matches
	}
	for _, tt := range tests {
		t.Run(tt.series, func(t *testing.T) {
			if got := Keep(r, tt.series); got != tt.want {
				t.Errorf("Keep(%q) = %v, want %v", tt.series, got, tt.want)
			}
		})
	}
}

func TestResourceMapping(t *testing.T) {
	mapper := BuiltinMapper()
	rule := loadRule(t, `rules:
- seriesQuery: up
  resources:
    template: "kube_<<.Group>>_<<.Resource>>"
    overrides:
      namespace: {resource: namespace}
      pod_name: {resource: pod}
      app: {group: apps, resource: deployment}
      widget: {group: example.com, resource: widget}
  metricsQuery: x
`)
	mp := NewMapping(rule.Resources, mapper)
	gr := func(group, resource string) schema.GroupResource {
		return schema.GroupResource{Group: group, Resource: resource}
	}

	for _, tt := range []struct {
		name   string
		label  string
		want   schema.GroupResource
		wantOK bool
	}{
		{name: "override singular becomes plural", label: "pod_name", want: gr("", "pods"), wantOK: true},
		{name: "override with group", label: "app", want: gr("apps", "deployments"), wantOK: true},
		{name: "namespace override", label: "namespace", want: gr("", "namespaces"), wantOK: true},
		{name: "template with group", label: "kube_apps_statefulset", want: gr("apps", "statefulsets"), wantOK: true},
		{name: "template with plural resource", label: "kube_batch_jobs", want: gr("batch", "jobs"), wantOK: true},
		{name: "template, unknown resource", label: "kube_apps_widget", wantOK: false},
		{name: "unresolvable override", label: "widget", wantOK: false},
		{name: "plain label", label: "verb", wantOK: false},
	} {
		t.Run("ResourceForLabel "+tt.name, func(t *testing.T) {
			got, ok := mp.ResourceForLabel(tt.label)
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("ResourceForLabel(%q) = %v, %v; want %v, %v", tt.label, got, ok, tt.want, tt.wantOK)
			}
		})
	}
	for _, tt := range []struct {
		name    string
		gr      schema.GroupResource
		want    string
		wantErr error
	}{
		{name: "override wins over template", gr: gr("", "pods"), want: "pod_name"},
		{name: "override with group", gr: gr("apps", "deployments"), want: "app"},
		{name: "template singularizes", gr: gr("apps", "statefulsets"), want: "kube_apps_statefulset"},
		{name: "template sanitizes group", gr: gr("networking.k8s.io", "ingresses"), want: "kube_networking_k8s_io_ingress"},
		{name: "template core group", gr: gr("", "services"), want: "kube__service"},
	} {
		t.Run("LabelForResource "+tt.name, func(t *testing.T) {
			got, err := mp.LabelForResource(tt.gr)
			if err != nil || got != tt.want {
				t.Errorf("LabelForResource(%v) = %q, %v; want %q", tt.gr, got, err, tt.want)
			}
		})
	}
	if len(mp.Problems()) != 1 || !strings.Contains(mp.Problems()[0].Error(), `override "widget"`) {
		t.Errorf("Problems() = %v, want the widget override", mp.Problems())
	}

	t.Run("no template and no override", func(t *testing.T) {
		bare := NewMapping(loadRule(t, "rules:\n- seriesQuery: up\n  resources: {overrides: {pod: {resource: pod}}}\n  metricsQuery: x\n").Resources, mapper)
		if _, err := bare.LabelForResource(gr("apps", "deployments")); !errors.Is(err, ErrNoLabel) {
			t.Errorf("LabelForResource() error = %v, want ErrNoLabel", err)
		}
		if l, err := bare.NamespaceLabel(); err != nil || l != "namespace" {
			t.Errorf("NamespaceLabel() = %q, %v; want the namespace fallback", l, err)
		}
	})
	t.Run("associations of a series", func(t *testing.T) {
		got := mp.Associations([]string{"app", "namespace", "pod_name", "verb"})
		want := []Association{{gr("apps", "deployments"), "app"}, {gr("", "namespaces"), "namespace"}, {gr("", "pods"), "pod_name"}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Associations() = %v, want %v", got, want)
		}
	})
}

func TestNamespaced(t *testing.T) {
	for _, tt := range []struct {
		gr   schema.GroupResource
		want bool
	}{
		{gr: schema.GroupResource{Resource: "pods"}, want: true},
		{gr: schema.GroupResource{Group: "apps", Resource: "deployments"}, want: true},
		{gr: schema.GroupResource{Resource: "namespaces"}, want: false},
		{gr: schema.GroupResource{Resource: "nodes"}, want: false},
		{gr: schema.GroupResource{Resource: "persistentvolumes"}, want: false},
	} {
		t.Run(tt.gr.String(), func(t *testing.T) {
			if got := Namespaced(tt.gr); got != tt.want {
				t.Errorf("Namespaced(%v) = %v, want %v", tt.gr, got, tt.want)
			}
		})
	}
}

func TestSeriesFromLabelSets(t *testing.T) {
	sets := []model.LabelSet{
		{"__name__": "b", "pod": "p1", "namespace": "n"},
		{"__name__": "b", "pod": "p2", "namespace": "n"},
		{"__name__": "a", "node": "x"},
		{"pod": "no-name"},
		{"__name__": "b", "pod": "p3"},
	}
	got := fmt.Sprint(SeriesFromLabelSets(sets))
	want := "[{a [node]} {b [namespace pod]} {b [pod]}]"
	if got != want {
		t.Errorf("SeriesFromLabelSets() = %s, want %s", got, want)
	}
}

func TestIndexConflicts(t *testing.T) {
	cfg, err := config.Load([]byte(`rules:
- seriesQuery: 'a'
  resources: {template: "<<.Resource>>"}
  metricsQuery: 'first(<<.Series>>{<<.LabelMatchers>>})'
- seriesQuery: 'b'
  resources: {template: "<<.Resource>>"}
  name: {as: "requests"}
  metricsQuery: 'second(<<.Series>>{<<.LabelMatchers>>})'
externalRules:
- seriesQuery: 'q'
  metricsQuery: 'ext(<<.Series>>{<<.LabelMatchers>>})'
`))
	if err != nil {
		t.Fatal(err)
	}
	series := map[QueryKey][]Series{
		{SeriesQuery: "a"}: {{Name: "requests", Labels: []string{"namespace", "pod"}}},
		{SeriesQuery: "b"}: {{Name: "other", Labels: []string{"pod"}}},
		{SeriesQuery: "q"}: {{Name: "queue_a"}, {Name: "queue_b"}},
	}
	ix := NewIndex(cfg, series, BuiltinMapper())
	m, ok := ix.Custom(schema.GroupResource{Resource: "pods"}, "requests")
	if !ok || m.Rule.Index != 1 || m.Series != "other" {
		t.Errorf("pods/requests = %+v, %v; want the later rule's", m, ok)
	}
	if _, ok := ix.Custom(schema.GroupResource{Resource: "namespaces"}, "requests"); !ok {
		t.Error("namespaces/requests missing")
	}
	if _, ok := ix.External("queue_b"); !ok || len(ix.ExternalMetrics()) != 2 {
		t.Errorf("external metrics = %v", ix.ExternalMetrics())
	}
	if len(ix.Problems()) != 1 || !strings.Contains(ix.Problems()[0], "rules[1]: pods/requests also exposed by rules[0]") {
		t.Errorf("Problems() = %q", ix.Problems())
	}
	if got := fmt.Sprint(SeriesQueries(cfg)); got != "[{ a} { b} { q}]" {
		t.Errorf("SeriesQueries() = %s", got)
	}
}

func TestSelectorMatchers(t *testing.T) {
	tests := []struct {
		name     string
		selector string
		want     string
		wantErr  error
	}{
		{name: "empty", selector: "", want: ""},
		{name: "equals", selector: "app=web", want: `app="web"`},
		{name: "double equals", selector: "app==web", want: `app="web"`},
		{name: "not equals", selector: "app!=web", want: `app!="web"`},
		{name: "in quotes regexp metacharacters", selector: "version in (1.0,2.0)", want: `version=~"^(1\\.0|2\\.0)$"`},
		{name: "notin", selector: "tier notin (cache,db)", want: `tier!~"^(cache|db)$"`},
		{name: "exists", selector: "canary", want: `canary!=""`},
		{name: "does not exist", selector: "!canary", want: `canary=""`},
		{name: "several, sorted by key", selector: "z=1,a=2", want: `a="2",z="1"`},
		{name: "greater than", selector: "replicas>3", wantErr: ErrUnsupportedSelector},
		{name: "less than", selector: "replicas<3", wantErr: ErrUnsupportedSelector},
		{name: "key not a Prometheus label name", selector: "app.kubernetes.io/name=web", wantErr: ErrUnsupportedSelector},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := labels.Parse(tt.selector)
			if err != nil {
				t.Fatalf("labels.Parse: %v", err)
			}
			ms, err := SelectorMatchers(sel)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("SelectorMatchers() error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || FormatMatchers(ms) != tt.want {
				t.Errorf("SelectorMatchers() = %s, %v; want %s", FormatMatchers(ms), err, tt.want)
			}
		})
	}
}

func TestRequirementMatcherEscaping(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		op      selection.Operator
		values  []string
		want    string
		wantErr error
	}{
		{name: "reserved key", key: "__name__", op: selection.Equals, values: []string{"secret_metric"}, wantErr: ErrUnsupportedSelector},
		{name: "key with a dash", key: "app-name", op: selection.Equals, values: []string{"web"}, wantErr: ErrUnsupportedSelector},
		{name: "quote cannot end the literal", op: selection.Equals, values: []string{`a"} or vector(1) #`}, want: `k="a\"} or vector(1) #"`},
		{name: "backslash and newline", op: selection.NotEquals, values: []string{"a\\b\nc"}, want: `k!="a\\b\nc"`},
		{name: "regexp alternation cannot widen", op: selection.In, values: []string{"a|.*", ")"}, want: `k=~"^(\\)|a\\|\\.\\*)$"`},
		{name: "empty value in a set", op: selection.NotIn, values: []string{""}, want: `k!~"^()$"`},
		{name: "not UTF-8", op: selection.Equals, values: []string{"\xff"}, wantErr: ErrUnsupportedSelector},
		{name: "equals with two values", op: selection.Equals, values: []string{"a", "b"}, wantErr: ErrUnsupportedSelector},
		{name: "in with no values", op: selection.In, wantErr: ErrUnsupportedSelector},
		{name: "exists with a value", op: selection.Exists, values: []string{"a"}, wantErr: ErrUnsupportedSelector},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := tt.key
			if key == "" {
				key = "k"
			}
			m, err := RequirementMatcher(key, tt.op, tt.values)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("RequirementMatcher() error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || m.String() != tt.want {
				t.Errorf("RequirementMatcher() = %s, %v; want %s", m, err, tt.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	custom := &CustomMetric{
		Resource: schema.GroupResource{Resource: "pods"}, Metric: "rps", Namespaced: true, Series: "http_requests_total",
		ResourceLabel: "pod", NamespaceLabel: "namespace",
		Rule: loadRule(t, "rules:\n- seriesQuery: up\n  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>) # <<.LabelValuesByName>>'\n"),
	}
	sel := func(s string) labels.Selector {
		out, err := labels.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		name    string
		q       CustomQuery
		want    string
		wantErr error
	}{
		{name: "one object", q: CustomQuery{Namespace: "ns", Names: []string{"web-0"}},
			want: `sum(http_requests_total{namespace="ns",pod="web-0"}) by (pod) # map[namespace:ns pod:web-0]`},
		{name: "several objects, names regexp-quoted", q: CustomQuery{Namespace: "ns", Names: []string{"web.0", "web-1"}},
			want: `sum(http_requests_total{namespace="ns",pod=~"web\\.0|web-1"}) by (pod) # map[namespace:ns pod:web\\.0|web-1]`},
		{name: "all objects in the namespace", q: CustomQuery{Namespace: "ns", AllObjects: true, Names: []string{"ignored"}},
			want: `sum(http_requests_total{namespace="ns",pod!=""}) by (pod) # map[namespace:ns pod:]`},
		{name: "root-scoped has no namespace matcher", q: CustomQuery{Names: []string{"a"}},
			want: `sum(http_requests_total{pod="a"}) by (pod) # map[pod:a]`},
		{name: "metric selector first", q: CustomQuery{Namespace: "ns", Names: []string{"a"}, MetricSelector: sel("verb in (GET)")},
			want: `sum(http_requests_total{verb=~"^(GET)$",namespace="ns",pod="a"}) by (pod) # map[namespace:ns pod:a verb:GET]`},
		{name: "hostile name stays quoted", q: CustomQuery{Namespace: "ns", Names: []string{`a"}) or vector(1) #`}},
			want: `sum(http_requests_total{namespace="ns",pod="a\"}) or vector(1) #"}) by (pod) # map[namespace:ns pod:a\"\\}\\) or vector\\(1\\) #]`},
		{name: "no names", q: CustomQuery{Namespace: "ns"}, wantErr: ErrInvalidName},
		{name: "empty name", q: CustomQuery{Namespace: "ns", Names: []string{""}}, wantErr: ErrInvalidName},
		{name: "namespace not UTF-8", q: CustomQuery{Namespace: "\xff", Names: []string{"a"}}, wantErr: ErrInvalidName},
		{name: "unsupported selector", q: CustomQuery{Names: []string{"a"}, MetricSelector: sel("x>1")}, wantErr: ErrUnsupportedSelector},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderCustom(custom, tt.q)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("RenderCustom() error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("RenderCustom() = %s, %v\nwant %s", got, err, tt.want)
			}
		})
	}

	external := func(namespaced bool) *ExternalMetric {
		return &ExternalMetric{Metric: "queue_depth", Series: "queue_depth", Namespaced: namespaced, NamespaceLabel: "kubernetes_namespace",
			Rule: loadRule(t, "externalRules:\n- seriesQuery: q\n  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (topic)<<.GroupBy>><<.GroupBySlice>>'\n")}
	}
	for _, tt := range []struct {
		name       string
		namespaced bool
		namespace  string
		selector   string
		want       string
	}{
		{name: "namespaced", namespaced: true, namespace: "ns", selector: "topic=orders", want: `sum(queue_depth{topic="orders",kubernetes_namespace="ns"}) by (topic)[]`},
		{name: "namespaced: false drops the namespace", namespaced: false, namespace: "ns", selector: "topic=orders", want: `sum(queue_depth{topic="orders"}) by (topic)[]`},
		{name: "no matchers at all", namespaced: false, namespace: "ns", want: `sum(queue_depth{}) by (topic)[]`},
	} {
		t.Run("external "+tt.name, func(t *testing.T) {
			got, err := RenderExternal(external(tt.namespaced), tt.namespace, sel(tt.selector))
			if err != nil || got != tt.want {
				t.Errorf("RenderExternal() = %s, %v\nwant %s", got, err, tt.want)
			}
		})
	}

	t.Run("rule without metricsQuery", func(t *testing.T) {
		m := *custom
		m.Rule = loadRule(t, "rules:\n- seriesQuery: up\n")
		if _, err := RenderCustom(&m, CustomQuery{Names: []string{"a"}}); !errors.Is(err, ErrNoQuery) {
			t.Errorf("RenderCustom() error = %v, want ErrNoQuery", err)
		}
	})
}
