package provider

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/hpa-engine/hpa-engine/adapter"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
	"github.com/hpa-engine/hpa-engine/metrics/metricstest"
)

var (
	podsGR       = schema.GroupResource{Resource: "pods"}
	servicesGR   = schema.GroupResource{Resource: "services"}
	namespacesGR = schema.GroupResource{Resource: "namespaces"}
	nodesGR      = schema.GroupResource{Resource: "nodes"}

	ts1 = t0.Add(-15 * time.Second)
	ts2 = t0.Add(-20 * time.Second)

	errUnavailable = fmt.Errorf("post http://prometheus/api/v1/query: connection refused: %w", hpametrics.ErrUnavailable)
)

func podRef(namespace, name string) corev1.ObjectReference {
	return corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: namespace, Name: name}
}

func TestGetMetricByName(t *testing.T) {
	const (
		podQuery     = `sum(rate(http_requests_total{namespace="ns",pod="web-0"}[2m])) by (pod)`
		serviceQuery = `sum(queue_depth{namespace="ns",service="queue"}) by (service)`
		nsQuery      = `sum(rate(http_requests_total{namespace="ns"}[2m])) by (namespace)`
		nodeQuery    = `max(node_load{node="node-a"}) by (node)`
		selQuery     = `sum(rate(http_requests_total{verb="GET",namespace="ns",pod="web-0"}[2m])) by (pod)`
	)
	tests := []struct {
		name           string
		object         types.NamespacedName
		info           adapter.CustomMetricInfo
		metricSelector string
		samples        map[string][]hpametrics.Sample
		errs           map[string]error
		want           adapter.CustomMetricValue
		wantErr        error
		wantQuery      string // "" when no query may be sent
	}{
		{
			name:    "pod: the sample's own timestamp and the rule's 2m window",
			object:  types.NamespacedName{Namespace: "ns", Name: "web-0"},
			info:    adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
			samples: map[string][]hpametrics.Sample{podQuery: {sample("pod", "web-0", 1.5, ts1)}},
			want: adapter.CustomMetricValue{
				DescribedObject: podRef("ns", "web-0"), Timestamp: ts1, Window: 2 * time.Minute, Value: 1.5,
			},
			wantQuery: podQuery,
		},
		{
			name:    "singular resource names resolve",
			object:  types.NamespacedName{Namespace: "ns", Name: "web-0"},
			info:    adapter.CustomMetricInfo{GroupResource: schema.GroupResource{Resource: "pod"}, Namespaced: true, Metric: "http_requests_per_second"},
			samples: map[string][]hpametrics.Sample{podQuery: {sample("pod", "web-0", 2, ts1)}},
			want: adapter.CustomMetricValue{
				DescribedObject: podRef("ns", "web-0"), Timestamp: ts1, Window: 2 * time.Minute, Value: 2,
			},
			wantQuery: podQuery,
		},
		{
			name:           "metric selector becomes a matcher",
			object:         types.NamespacedName{Namespace: "ns", Name: "web-0"},
			info:           adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
			metricSelector: "verb=GET",
			samples:        map[string][]hpametrics.Sample{selQuery: {sample("pod", "web-0", 3, ts1)}},
			want: adapter.CustomMetricValue{
				DescribedObject: podRef("ns", "web-0"), Timestamp: ts1, Window: 2 * time.Minute, Value: 3,
			},
			wantQuery: selQuery,
		},
		{
			name:    "service: instantaneous value has no window",
			object:  types.NamespacedName{Namespace: "ns", Name: "queue"},
			info:    adapter.CustomMetricInfo{GroupResource: servicesGR, Namespaced: true, Metric: "queue_depth"},
			samples: map[string][]hpametrics.Sample{serviceQuery: {sample("service", "queue", 42, ts2)}},
			want: adapter.CustomMetricValue{
				DescribedObject: corev1.ObjectReference{APIVersion: "v1", Kind: "Service", Namespace: "ns", Name: "queue"},
				Timestamp:       ts2, Value: 42,
			},
			wantQuery: serviceQuery,
		},
		{
			name:    "the metric of a namespace is not namespaced",
			object:  types.NamespacedName{Name: "ns"},
			info:    adapter.CustomMetricInfo{GroupResource: namespacesGR, Metric: "http_requests_per_second"},
			samples: map[string][]hpametrics.Sample{nsQuery: {sample("namespace", "ns", 7.25, ts1)}},
			want: adapter.CustomMetricValue{
				DescribedObject: corev1.ObjectReference{APIVersion: "v1", Kind: "Namespace", Name: "ns"},
				Timestamp:       ts1, Window: 2 * time.Minute, Value: 7.25,
			},
			wantQuery: nsQuery,
		},
		{
			name:    "root-scoped node",
			object:  types.NamespacedName{Name: "node-a"},
			info:    adapter.CustomMetricInfo{GroupResource: nodesGR, Metric: "node_load"},
			samples: map[string][]hpametrics.Sample{nodeQuery: {sample("node", "node-a", 0.5, ts1)}},
			want: adapter.CustomMetricValue{
				DescribedObject: corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: "node-a"},
				Timestamp:       ts1, Value: 0.5,
			},
			wantQuery: nodeQuery,
		},
		{
			name:    "a query aggregated without the resource label still answers for its one object",
			object:  types.NamespacedName{Namespace: "ns", Name: "web-0"},
			info:    adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
			samples: map[string][]hpametrics.Sample{podQuery: {{Labels: map[string]string{}, Value: 4, Timestamp: ts1}}},
			want: adapter.CustomMetricValue{
				DescribedObject: podRef("ns", "web-0"), Timestamp: ts1, Window: 2 * time.Minute, Value: 4,
			},
			wantQuery: podQuery,
		},
		{
			name:      "no sample is no data, never 0",
			object:    types.NamespacedName{Namespace: "ns", Name: "web-0"},
			info:      adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
			wantErr:   adapter.ErrNoData,
			wantQuery: podQuery,
		},
		{
			name:   "NaN and Inf are no data",
			object: types.NamespacedName{Namespace: "ns", Name: "web-0"},
			info:   adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
			samples: map[string][]hpametrics.Sample{podQuery: {
				sample("pod", "web-0", math.NaN(), ts1), sample("pod", "web-0", math.Inf(1), ts1),
			}},
			wantErr:   adapter.ErrNoData,
			wantQuery: podQuery,
		},
		{
			name:      "a sample of another object is no data",
			object:    types.NamespacedName{Namespace: "ns", Name: "web-0"},
			info:      adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
			samples:   map[string][]hpametrics.Sample{podQuery: {sample("pod", "web-9", 1, ts1)}},
			wantErr:   adapter.ErrNoData,
			wantQuery: podQuery,
		},
		{
			name:      "Prometheus down is backend unavailable",
			object:    types.NamespacedName{Namespace: "ns", Name: "web-0"},
			info:      adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
			errs:      map[string]error{podQuery: errUnavailable},
			wantErr:   adapter.ErrBackendUnavailable,
			wantQuery: podQuery,
		},
		{
			name:      "a deadline is backend unavailable",
			object:    types.NamespacedName{Namespace: "ns", Name: "web-0"},
			info:      adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
			errs:      map[string]error{podQuery: fmt.Errorf("query: %w", context.DeadlineExceeded)},
			wantErr:   adapter.ErrBackendUnavailable,
			wantQuery: podQuery,
		},
		{
			name:    "unknown metric",
			object:  types.NamespacedName{Namespace: "ns", Name: "web-0"},
			info:    adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "nope"},
			wantErr: adapter.ErrMetricNotFound,
		},
		{
			name:    "unknown resource",
			object:  types.NamespacedName{Namespace: "ns", Name: "x"},
			info:    adapter.CustomMetricInfo{GroupResource: schema.GroupResource{Group: "example.com", Resource: "widgets"}, Namespaced: true, Metric: "queue_depth"},
			wantErr: adapter.ErrMetricNotFound,
		},
		{
			name:    "a namespaced metric asked for cluster-wide",
			object:  types.NamespacedName{Name: "web-0"},
			info:    adapter.CustomMetricInfo{GroupResource: podsGR, Metric: "http_requests_per_second"},
			wantErr: adapter.ErrMetricNotFound,
		},
		{
			name:           "a selector PromQL cannot express is a bad selector",
			object:         types.NamespacedName{Namespace: "ns", Name: "web-0"},
			info:           adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
			metricSelector: "code>499",
			wantErr:        adapter.ErrBadSelector,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, fixtureOptions{querier: &metricstest.Querier{Samples: tt.samples, Errors: tt.errs}})
			sel := labels.Everything()
			if tt.metricSelector != "" {
				var err error
				if sel, err = labels.Parse(tt.metricSelector); err != nil {
					t.Fatal(err)
				}
			}
			got, err := f.p.GetMetricByName(context.Background(), tt.object, tt.info, sel)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			} else if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			var want []string
			if tt.wantQuery != "" {
				want = []string{tt.wantQuery}
			}
			if q := f.queries(); !reflect.DeepEqual(q, want) {
				t.Errorf("queries = %q, want %q", q, want)
			}
		})
	}
}

func TestGetMetricBySelector(t *testing.T) {
	web := map[string]string{"app": "web"}
	db := map[string]string{"app": "db"}
	objects := append(pods("ns", "web", 3, web), pods("ns", "db", 1, db)...)
	objects = append(objects, pods("other", "web", 2, web)...)
	objects = append(objects,
		object("Service", "ns", "queue", map[string]string{"tier": "mq"}),
		object("Node", "", "node-a", map[string]string{"zone": "a"}),
		object("Node", "", "node-b", map[string]string{"zone": "b"}),
	)
	const (
		byNames     = `sum(rate(http_requests_total{namespace="ns",pod=~"web-0|web-1|web-2"}[2m])) by (pod)`
		byNamespace = `sum(rate(http_requests_total{namespace="ns",pod!=""}[2m])) by (pod)`
		services    = `sum(queue_depth{namespace="ns",service="queue"}) by (service)`
		nodes       = `max(node_load{node="node-a"}) by (node)`
	)
	tests := []struct {
		name           string
		namespace      string
		selector       string
		info           adapter.CustomMetricInfo
		metricSelector string
		maxQueryNames  int
		samples        map[string][]hpametrics.Sample
		errs           map[string]error
		want           []adapter.CustomMetricValue
		wantErr        error
		wantQueries    []string
	}{
		{
			name:      "a small selection is matched by name; NaN and Inf are dropped",
			namespace: "ns", selector: "app=web",
			info: adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
			samples: map[string][]hpametrics.Sample{byNames: {
				sample("pod", "web-0", 1.5, ts1),
				sample("pod", "web-1", math.NaN(), ts1),
				sample("pod", "web-2", math.Inf(-1), ts1),
			}},
			want: []adapter.CustomMetricValue{
				{DescribedObject: podRef("ns", "web-0"), Timestamp: ts1, Window: 2 * time.Minute, Value: 1.5},
			},
			wantQueries: []string{byNames},
		},
		{
			name:      "a large selection is queried by namespace and filtered in-process",
			namespace: "ns", selector: "app=web", maxQueryNames: 2,
			info: adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
			samples: map[string][]hpametrics.Sample{byNamespace: {
				sample("pod", "db-0", 9, ts1), // in the namespace, not selected
				sample("pod", "web-0", 1, ts1),
				sample("pod", "web-1", 2, ts2),
				sample("pod", "web-2", math.NaN(), ts1),
				sample("pod", "web-1", 3, ts1), // a duplicate: the first one wins
			}},
			want: []adapter.CustomMetricValue{
				{DescribedObject: podRef("ns", "web-0"), Timestamp: ts1, Window: 2 * time.Minute, Value: 1},
				{DescribedObject: podRef("ns", "web-1"), Timestamp: ts2, Window: 2 * time.Minute, Value: 2},
			},
			wantQueries: []string{byNamespace},
		},
		{
			name:      "no object selected: no query, no values",
			namespace: "ns", selector: "app=none",
			info:        adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
			want:        []adapter.CustomMetricValue{},
			wantQueries: nil,
		},
		{
			name:      "objects without samples give no values, not zeros",
			namespace: "ns", selector: "app=web",
			info:        adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
			want:        []adapter.CustomMetricValue{},
			wantQueries: []string{byNames},
		},
		{
			name:      "services come from their own informer",
			namespace: "ns", selector: "tier=mq",
			info:    adapter.CustomMetricInfo{GroupResource: servicesGR, Namespaced: true, Metric: "queue_depth"},
			samples: map[string][]hpametrics.Sample{services: {sample("service", "queue", 5, ts1)}},
			want: []adapter.CustomMetricValue{{
				DescribedObject: corev1.ObjectReference{APIVersion: "v1", Kind: "Service", Namespace: "ns", Name: "queue"},
				Timestamp:       ts1, Value: 5,
			}},
			wantQueries: []string{services},
		},
		{
			name:     "cluster-scoped nodes",
			selector: "zone=a",
			info:     adapter.CustomMetricInfo{GroupResource: nodesGR, Metric: "node_load"},
			samples:  map[string][]hpametrics.Sample{nodes: {sample("node", "node-a", 0.25, ts1)}},
			want: []adapter.CustomMetricValue{{
				DescribedObject: corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: "node-a"},
				Timestamp:       ts1, Value: 0.25,
			}},
			wantQueries: []string{nodes},
		},
		{
			name:      "Prometheus down is backend unavailable",
			namespace: "ns", selector: "app=web",
			info:        adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
			errs:        map[string]error{byNames: errUnavailable},
			wantErr:     adapter.ErrBackendUnavailable,
			wantQueries: []string{byNames},
		},
		{
			name:      "a metric selector PromQL cannot express is a bad selector",
			namespace: "ns", selector: "app=web", metricSelector: "code>499",
			info:    adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
			wantErr: adapter.ErrBadSelector,
		},
		{
			name:      "unknown metric",
			namespace: "ns", selector: "app=web",
			info:    adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "nope"},
			wantErr: adapter.ErrMetricNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, fixtureOptions{
				objects:       objects,
				maxQueryNames: tt.maxQueryNames,
				querier:       &metricstest.Querier{Samples: tt.samples, Errors: tt.errs},
			})
			sel, err := labels.Parse(tt.selector)
			if err != nil {
				t.Fatal(err)
			}
			msel := labels.Everything()
			if tt.metricSelector != "" {
				if msel, err = labels.Parse(tt.metricSelector); err != nil {
					t.Fatal(err)
				}
			}
			got, err := f.p.GetMetricBySelector(context.Background(), tt.namespace, sel, tt.info, msel)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			} else if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if q := f.queries(); !reflect.DeepEqual(q, tt.wantQueries) {
				t.Errorf("queries = %q, want %q", q, tt.wantQueries)
			}
		})
	}
}

// TestOneQueryWhateverTheObjectCount checks the two promises of selector
// requests: one query per request, and a query whose length stops growing
// with the selection once it passes MaxQueryNames.
func TestOneQueryWhateverTheObjectCount(t *testing.T) {
	web := map[string]string{"app": "web"}
	var lengths []int
	for _, n := range []int{1, 10, 100, 101, 1000, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			q := &metricstest.Querier{QueryFunc: func(_ context.Context, query string, at time.Time) ([]hpametrics.Sample, error) {
				// Every pod of the namespace answers, selected or not.
				out := make([]hpametrics.Sample, 0, n+1)
				for i := range n {
					out = append(out, sample("pod", fmt.Sprintf("web-%d", i), float64(i), at))
				}
				return append(out, sample("pod", "stray", 1, at)), nil
			}}
			objects := append(pods("ns", "web", n, web), object("Pod", "ns", "stray", nil))
			f := newFixture(t, fixtureOptions{objects: objects, querier: q})
			got, err := f.p.GetMetricBySelector(context.Background(), "ns", labels.SelectorFromSet(web),
				adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"}, labels.Everything())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != n {
				t.Errorf("got %d values, want %d", len(got), n)
			}
			for _, v := range got {
				if v.DescribedObject.Name == "stray" {
					t.Errorf("an object outside the selection was returned")
				}
			}
			queries := f.queries()
			if len(queries) != 1 {
				t.Fatalf("%d queries for %d pods, want 1", len(queries), n)
			}
			byNamespace := !strings.Contains(queries[0], "pod=")
			if want := n > DefaultMaxQueryNames; byNamespace != want {
				t.Errorf("query %q: by namespace = %v, want %v", queries[0], byNamespace, want)
			}
			lengths = append(lengths, len(queries[0]))
		})
	}
	// Past the threshold the query is the same whatever the count.
	if len(lengths) != 6 {
		t.Fatalf("lengths %v", lengths)
	}
	if lengths[3] != lengths[4] || lengths[4] != lengths[5] {
		t.Errorf("query lengths %v grow past the threshold", lengths)
	}
	if lengths[2] > 2000 {
		t.Errorf("query for %d names is %d bytes", DefaultMaxQueryNames, lengths[2])
	}
}

func TestGetExternalMetric(t *testing.T) {
	const (
		query    = `sum(queue_messages_ready{namespace="ns"}) by (queue)`
		selQuery = `sum(queue_messages_ready{queue="orders",namespace="ns"}) by (queue)`
	)
	tests := []struct {
		name        string
		metric      string
		selector    string
		samples     map[string][]hpametrics.Sample
		errs        map[string]error
		want        []adapter.ExternalMetricValue
		wantErr     error
		wantQueries []string
	}{
		{
			name:   "every finite series, with its labels and timestamp",
			metric: "queue_messages_ready",
			samples: map[string][]hpametrics.Sample{query: {
				{Labels: map[string]string{"queue": "orders"}, Value: 12, Timestamp: ts1},
				{Labels: map[string]string{"queue": "invoices"}, Value: math.NaN(), Timestamp: ts1},
				{Labels: map[string]string{"queue": "refunds"}, Value: 0.5, Timestamp: ts2},
			}},
			want: []adapter.ExternalMetricValue{
				{Labels: map[string]string{"queue": "orders"}, Timestamp: ts1, Value: 12},
				{Labels: map[string]string{"queue": "refunds"}, Timestamp: ts2, Value: 0.5},
			},
			wantQueries: []string{query},
		},
		{
			name:        "the selector narrows the series",
			metric:      "queue_messages_ready",
			selector:    "queue=orders",
			samples:     map[string][]hpametrics.Sample{selQuery: {{Labels: map[string]string{"queue": "orders"}, Value: 3, Timestamp: ts1}}},
			want:        []adapter.ExternalMetricValue{{Labels: map[string]string{"queue": "orders"}, Timestamp: ts1, Value: 3}},
			wantQueries: []string{selQuery},
		},
		{
			name:        "no sample is no data, never 0",
			metric:      "queue_messages_ready",
			wantErr:     adapter.ErrNoData,
			wantQueries: []string{query},
		},
		{
			name:        "only NaN is no data",
			metric:      "queue_messages_ready",
			samples:     map[string][]hpametrics.Sample{query: {{Labels: map[string]string{}, Value: math.NaN(), Timestamp: ts1}}},
			wantErr:     adapter.ErrNoData,
			wantQueries: []string{query},
		},
		{
			name:        "Prometheus down is backend unavailable",
			metric:      "queue_messages_ready",
			errs:        map[string]error{query: errUnavailable},
			wantErr:     adapter.ErrBackendUnavailable,
			wantQueries: []string{query},
		},
		{
			name:    "unknown metric",
			metric:  "nope",
			wantErr: adapter.ErrMetricNotFound,
		},
		{
			name:     "a selector PromQL cannot express is a bad selector",
			metric:   "queue_messages_ready",
			selector: "depth>3",
			wantErr:  adapter.ErrBadSelector,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, fixtureOptions{querier: &metricstest.Querier{Samples: tt.samples, Errors: tt.errs}})
			sel, err := labels.Parse(tt.selector)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.p.GetExternalMetric(context.Background(), "ns", sel, adapter.ExternalMetricInfo{Metric: tt.metric})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			} else if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if q := f.queries(); !reflect.DeepEqual(q, tt.wantQueries) {
				t.Errorf("queries = %q, want %q", q, tt.wantQueries)
			}
		})
	}
}

// TestExternalLabelsAreCopies guards coalesced results: the provider's
// values must not alias the querier's samples.
func TestExternalLabelsAreCopies(t *testing.T) {
	const query = `sum(queue_messages_ready{namespace="ns"}) by (queue)`
	shared := []hpametrics.Sample{{Labels: map[string]string{"queue": "orders"}, Value: 1, Timestamp: ts1}}
	f := newFixture(t, fixtureOptions{querier: &metricstest.Querier{Samples: map[string][]hpametrics.Sample{query: shared}}})
	got, err := f.p.GetExternalMetric(context.Background(), "ns", labels.Everything(), adapter.ExternalMetricInfo{Metric: "queue_messages_ready"})
	if err != nil {
		t.Fatal(err)
	}
	got[0].Labels["queue"] = "changed"
	if shared[0].Labels["queue"] != "orders" {
		t.Errorf("the querier's sample was modified through the provider's value")
	}
}

func TestNewRejectsMissingDependencies(t *testing.T) {
	cfg := mustLoad(t, testConfig)
	mapper := func(context.Context) (Mapper, error) { return nil, errors.New("unused") }
	full := Deps{Querier: &metricstest.Querier{}, Mapper: mapper, Objects: NewObjectCache(nil, 0, 0)}
	tests := []struct {
		name string
		cfg  Config
		deps func(Deps) Deps
	}{
		{name: "no rules", cfg: Config{}, deps: func(d Deps) Deps { return d }},
		{name: "no querier", cfg: Config{Rules: cfg}, deps: func(d Deps) Deps { d.Querier = nil; return d }},
		{name: "no mapper", cfg: Config{Rules: cfg}, deps: func(d Deps) Deps { d.Mapper = nil; return d }},
		{name: "no objects", cfg: Config{Rules: cfg}, deps: func(d Deps) Deps { d.Objects = nil; return d }},
		{name: "negative interval", cfg: Config{Rules: cfg, RelistInterval: -time.Second}, deps: func(d Deps) Deps { return d }},
		{
			name: "named backends without a factory",
			cfg:  Config{Rules: mustLoad(t, "backends:\n- name: b\n  url: http://b:9090\n")},
			deps: func(d Deps) Deps { return d },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg, tt.deps(full)); err == nil {
				t.Error("New accepted it")
			}
		})
	}
}

// TestLongNamesAreQueriedByNamespace: the name matcher is bounded in bytes
// as well as in names.
func TestLongNamesAreQueriedByNamespace(t *testing.T) {
	lbls := map[string]string{"app": "web"}
	long := strings.Repeat("x", 200)
	var objects []runtime.Object
	for i := range 50 { // 50 names of 200+ bytes: under 100 names, over 8 KiB
		objects = append(objects, object("Pod", "ns", fmt.Sprintf("%s-%d", long, i), lbls))
	}
	q := &metricstest.Querier{}
	f := newFixture(t, fixtureOptions{objects: objects, querier: q})
	if _, err := f.p.GetMetricBySelector(context.Background(), "ns", labels.SelectorFromSet(lbls),
		adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"}, labels.Everything()); err != nil {
		t.Fatal(err)
	}
	want := []string{`sum(rate(http_requests_total{namespace="ns",pod!=""}[2m])) by (pod)`}
	if got := f.queries(); !reflect.DeepEqual(got, want) {
		t.Errorf("queries = %.200q, want %q", got, want)
	}
}
