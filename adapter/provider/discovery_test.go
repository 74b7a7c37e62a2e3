package provider

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/hpa-engine/hpa-engine/adapter"
	"github.com/hpa-engine/hpa-engine/adapter/config"
	"github.com/hpa-engine/hpa-engine/adapter/rules"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
	"github.com/hpa-engine/hpa-engine/metrics/metricstest"
)

var (
	testCustomMetrics = []adapter.CustomMetricInfo{
		{GroupResource: namespacesGR, Metric: "http_requests_per_second"},
		{GroupResource: namespacesGR, Metric: "queue_depth"},
		{GroupResource: nodesGR, Metric: "node_load"},
		{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"},
		{GroupResource: servicesGR, Namespaced: true, Metric: "queue_depth"},
	}
	testExternalMetrics = []adapter.ExternalMetricInfo{{Metric: "queue_messages_ready"}}
)

func TestRelist(t *testing.T) {
	tests := []struct {
		name       string
		config     string
		wantCustom []adapter.CustomMetricInfo
		wantExt    []adapter.ExternalMetricInfo
		wantSeries []string
		wantStart  time.Time
	}{
		{
			name:       "every distinct series query once, mapped through the rules",
			config:     testConfig,
			wantCustom: testCustomMetrics,
			wantExt:    testExternalMetrics,
			wantSeries: []string{
				`http_requests_total{namespace!="",pod!=""}`,
				`queue_depth{namespace!="",service!=""}`,
				`node_load{node!=""}`,
				`queue_messages_ready{queue!=""}`,
			},
			wantStart: t0.Add(-DefaultSeriesMaxAge),
		},
		{
			name: "rules sharing a series query share its listing; a file's interval longer than the default max age bounds the series' age",
			config: `
metricsRelistInterval: 15m
rules:
- seriesQuery: 'http_requests_total{namespace!="",pod!=""}'
  resources: {overrides: {pod: {resource: pod}}}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
- seriesQuery: 'http_requests_total{namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}}}
  name: {matches: "^http_(.*)$"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
`,
			wantCustom: []adapter.CustomMetricInfo{
				{GroupResource: namespacesGR, Metric: "requests_total"},
				{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_total"},
			},
			wantSeries: []string{`http_requests_total{namespace!="",pod!=""}`},
			wantStart:  t0.Add(-15 * time.Minute),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, fixtureOptions{config: tt.config, noRelist: true})
			if got := f.p.ListAllMetrics(); len(got) != 0 {
				t.Fatalf("metrics before discovery: %v", got)
			}
			if err := f.p.Relist(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := f.p.ListAllMetrics(); !reflect.DeepEqual(got, tt.wantCustom) {
				t.Errorf("custom metrics:\n got %v\nwant %v", got, tt.wantCustom)
			}
			if got := f.p.ListAllExternalMetrics(); !reflect.DeepEqual(got, tt.wantExt) {
				t.Errorf("external metrics:\n got %v\nwant %v", got, tt.wantExt)
			}
			var series []string
			for _, c := range f.q.Calls() {
				if c.Kind != hpametrics.KindSeries {
					t.Errorf("discovery sent a %s call", c.Kind)
					continue
				}
				series = append(series, c.Query)
				if !c.Start.Equal(tt.wantStart) || !c.End.Equal(t0) {
					t.Errorf("series %q over [%s, %s], want [%s, %s]", c.Query, c.Start, c.End, tt.wantStart, t0)
				}
			}
			if !reflect.DeepEqual(series, tt.wantSeries) {
				t.Errorf("series calls:\n got %q\nwant %q", series, tt.wantSeries)
			}
		})
	}
}

// TestDiscoveryNeverBlocks holds Prometheus' series answer and checks that
// discovery documents, requests and readiness answer meanwhile.
func TestDiscoveryNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	q := &metricstest.Querier{SeriesFunc: func(ctx context.Context, match string, _, _ time.Time) ([]map[string]string, error) {
		select {
		case <-release:
			return testSeries[match], nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}}
	f := newFixture(t, fixtureOptions{querier: q, noRelist: true})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.p.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	// Wait until discovery is stuck in Prometheus.
	waitFor(t, func() bool { return len(q.Calls()) > 0 })

	answered := make(chan struct{})
	go func() {
		defer close(answered)
		if got := f.p.ListAllMetrics(); len(got) != 0 {
			t.Errorf("custom metrics before discovery: %v", got)
		}
		if got := f.p.ListAllExternalMetrics(); len(got) != 0 {
			t.Errorf("external metrics before discovery: %v", got)
		}
		if err := f.p.Ready(); !errors.Is(err, ErrNotReady) {
			t.Errorf("Ready = %v, want ErrNotReady", err)
		}
		_, err := f.p.GetMetricByName(context.Background(), types.NamespacedName{Namespace: "ns", Name: "web-0"},
			adapter.CustomMetricInfo{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_per_second"}, labels.Everything())
		if !errors.Is(err, adapter.ErrMetricNotFound) {
			t.Errorf("GetMetricByName = %v, want ErrMetricNotFound", err)
		}
	}()
	select {
	case <-answered:
	case <-time.After(5 * time.Second):
		t.Fatal("the provider waited on discovery")
	}

	close(release)
	waitFor(t, func() bool { return f.p.Ready() == nil && len(f.p.ListAllMetrics()) == len(testCustomMetrics) })
}

// TestRelistFailureKeepsPreviousSeries: a Prometheus outage during a relist
// must not empty discovery.
func TestRelistFailureKeepsPreviousSeries(t *testing.T) {
	var down atomic.Bool
	q := &metricstest.Querier{SeriesFunc: func(_ context.Context, match string, _, _ time.Time) ([]map[string]string, error) {
		if down.Load() {
			return nil, errUnavailable
		}
		return testSeries[match], nil
	}}
	f := newFixture(t, fixtureOptions{querier: q})
	down.Store(true)
	err := f.p.Relist(context.Background())
	if !errors.Is(err, hpametrics.ErrUnavailable) {
		t.Fatalf("Relist = %v, want the listings' errors", err)
	}
	if got := f.p.ListAllMetrics(); !reflect.DeepEqual(got, testCustomMetrics) {
		t.Errorf("custom metrics after a failed relist:\n got %v\nwant %v", got, testCustomMetrics)
	}
	if got := testutil.ToFloat64(f.p.metrics.relists.WithLabelValues(outcomeFailure)); got != 1 {
		t.Errorf("failed relists = %v, want 1", got)
	}
}

// TestRelistMapperFailureKeepsPreviousMapping: a failed discovery of the
// cluster's resources keeps the previous mapping.
func TestRelistMapperFailureKeepsPreviousMapping(t *testing.T) {
	var fail atomic.Bool
	f := newFixture(t, fixtureOptions{})
	f.p.deps.Mapper = func(context.Context) (Mapper, error) {
		if fail.Load() {
			return nil, errors.New("the server is currently unable to handle the request")
		}
		return rules.BuiltinMapper(), nil
	}
	fail.Store(true)
	if err := f.p.Relist(context.Background()); err == nil {
		t.Fatal("Relist hid the mapping failure")
	}
	if got := f.p.ListAllMetrics(); !reflect.DeepEqual(got, testCustomMetrics) {
		t.Errorf("custom metrics:\n got %v\nwant %v", got, testCustomMetrics)
	}
}

func TestDiscoveryMetrics(t *testing.T) {
	now := t0
	var mu sync.Mutex
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	reg := prometheus.NewPedanticRegistry()
	q := &metricstest.Querier{SeriesSets: testSeries}
	p, err := New(Config{Rules: mustLoad(t, testConfig)}, Deps{
		Querier:    q,
		Mapper:     func(context.Context) (Mapper, error) { return rules.BuiltinMapper(), nil },
		Objects:    NewObjectCache(nil, 0, 0),
		Registerer: reg,
		Now:        clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Relist(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = t0.Add(90 * time.Second)
	mu.Unlock()

	golden, err := os.Open(filepath.Join("testdata", "discovery_metrics.golden"))
	if err != nil {
		t.Fatal(err)
	}
	defer golden.Close()
	if err := testutil.GatherAndCompare(reg, golden,
		"hpa_engine_adapter_discovery_metrics",
		"hpa_engine_adapter_discovery_age_seconds",
		"hpa_engine_adapter_discovery_last_success_timestamp_seconds",
		"hpa_engine_adapter_discovery_relists_total",
		"hpa_engine_adapter_object_queries_total",
	); err != nil {
		t.Error(err)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range problems {
		t.Errorf("promlint: %s: %s", pr.Metric, pr.Text)
	}
}

func TestSetConfig(t *testing.T) {
	renamed := `
rules:
- seriesQuery: 'http_requests_total{namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: "^(.*)_total$", as: "${1}_rate"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'
- seriesQuery: 'jobs_queued{namespace!=""}'
  resources: {overrides: {namespace: {resource: namespace}}}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
`
	f := newFixture(t, fixtureOptions{})
	if err := f.p.SetConfig(mustLoad(t, renamed)); err != nil {
		t.Fatal(err)
	}
	// Served at once from the series already listed, before any relist.
	want := []adapter.CustomMetricInfo{
		{GroupResource: namespacesGR, Metric: "http_requests_rate"},
		{GroupResource: podsGR, Namespaced: true, Metric: "http_requests_rate"},
	}
	if got := f.p.ListAllMetrics(); !reflect.DeepEqual(got, want) {
		t.Errorf("custom metrics after SetConfig:\n got %v\nwant %v", got, want)
	}
	if got := f.p.ListAllExternalMetrics(); len(got) != 0 {
		t.Errorf("external metrics after SetConfig: %v", got)
	}
	select {
	case <-f.p.relistNow:
	default:
		t.Error("SetConfig did not ask for a relist")
	}
	if len(f.q.Calls()) != 0 {
		t.Errorf("SetConfig talked to Prometheus: %v", f.q.Calls())
	}
}

func TestSetConfigBackends(t *testing.T) {
	const twoBackends = `
backends:
- name: a
  url: http://a:9090
- name: b
  url: http://b:9090
rules:
- seriesQuery: 'queue_depth{namespace!="",service!=""}'
  backend: b
  resources: {template: <<.Resource>>}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
`
	const bChanged = `
backends:
- name: a
  url: http://a:9090
- name: b
  url: http://b:9091
rules:
- seriesQuery: 'queue_depth{namespace!="",service!=""}'
  backend: b
  resources: {template: <<.Resource>>}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
`
	var built []string
	fail := false
	queriers := map[string]*metricstest.Querier{}
	p, err := New(Config{Rules: mustLoad(t, twoBackends)}, Deps{
		Querier: &metricstest.Querier{},
		NewQuerier: func(b *config.Backend) (Querier, error) {
			if fail {
				return nil, errors.New("ca file: no such file")
			}
			built = append(built, b.Name+"@"+b.URL.Host)
			q := &metricstest.Querier{SeriesSets: testSeries}
			queriers[b.Name] = q
			return q, nil
		},
		Mapper:  func(context.Context) (Mapper, error) { return rules.BuiltinMapper(), nil },
		Objects: NewObjectCache(nil, 0, 0),
		Now:     func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a@a:9090", "b@b:9090"}; !reflect.DeepEqual(built, want) {
		t.Errorf("built %v, want %v", built, want)
	}
	if err := p.Relist(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(queriers["b"].Calls()); n != 1 {
		t.Errorf("backend b got %d series calls, want 1", n)
	}
	if got := p.ListAllMetrics(); len(got) != 2 {
		t.Errorf("metrics of backend b: %v", got)
	}

	// Only the changed backend is rebuilt.
	built = nil
	if err := p.SetConfig(mustLoad(t, bChanged)); err != nil {
		t.Fatal(err)
	}
	if want := []string{"b@b:9091"}; !reflect.DeepEqual(built, want) {
		t.Errorf("rebuilt %v, want %v", built, want)
	}

	// A backend that cannot be built rejects the whole configuration.
	fail = true
	before := p.state.Load()
	if err := p.SetConfig(mustLoad(t, twoBackends)); err == nil {
		t.Fatal("SetConfig accepted a configuration whose backend failed")
	}
	if p.state.Load() != before {
		t.Error("a rejected configuration replaced the serving one")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRunRelistsAfterSetConfig: with an hour between relists, a new
// configuration's series query is still listed right away.
func TestRunRelistsAfterSetConfig(t *testing.T) {
	series := map[string][]map[string]string{}
	for k, v := range testSeries {
		series[k] = v
	}
	series[`jobs_queued{namespace!=""}`] = []map[string]string{{"__name__": "jobs_queued", "namespace": "ns"}}
	q := &metricstest.Querier{SeriesSets: series}
	f := newFixture(t, fixtureOptions{querier: q, noRelist: true, config: "metricsRelistInterval: 1h\n" + testConfig})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.p.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	waitFor(t, func() bool { return f.p.Ready() == nil })

	next := testConfig + `
- seriesQuery: 'jobs_queued{namespace!=""}'
  resources: {overrides: {namespace: {resource: namespace}}}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'
`
	if err := f.p.SetConfig(mustLoad(t, next)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		for _, m := range f.p.ListAllExternalMetrics() {
			if m.Metric == "jobs_queued" {
				return true
			}
		}
		return false
	})
}
