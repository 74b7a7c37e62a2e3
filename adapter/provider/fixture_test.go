package provider

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	metadatafake "k8s.io/client-go/metadata/fake"

	"github.com/hpa-engine/hpa-engine/adapter/config"
	"github.com/hpa-engine/hpa-engine/adapter/rules"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
	"github.com/hpa-engine/hpa-engine/metrics/metricstest"
)

// testConfig exposes, over the series of testSeries:
//   - pods/http_requests_per_second and namespaces/http_requests_per_second,
//     a rate over 2m (so a 120 s window);
//   - services/queue_depth, an instantaneous value, through a template;
//   - nodes/node_load, root-scoped;
//   - the external metric queue_messages_ready, namespaced.
const testConfig = `
rules:
- seriesQuery: 'http_requests_total{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  name:
    matches: "^(.*)_total$"
    as: "${1}_per_second"
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'
- seriesQuery: 'queue_depth{namespace!="",service!=""}'
  resources:
    template: <<.Resource>>
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
- seriesQuery: 'node_load{node!=""}'
  resources:
    overrides:
      node: {resource: node}
  metricsQuery: 'max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
externalRules:
- seriesQuery: 'queue_messages_ready{queue!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)'
`

// testSeries is what the fake Prometheus lists for testConfig's series
// queries.
var testSeries = map[string][]map[string]string{
	`http_requests_total{namespace!="",pod!=""}`: {
		{"__name__": "http_requests_total", "namespace": "ns", "pod": "web-0", "job": "web"},
		{"__name__": "http_requests_total", "namespace": "ns", "pod": "web-1", "job": "web"},
	},
	`queue_depth{namespace!="",service!=""}`: {
		{"__name__": "queue_depth", "namespace": "ns", "service": "queue"},
	},
	`node_load{node!=""}`: {
		{"__name__": "node_load", "node": "node-a"},
	},
	`queue_messages_ready{queue!=""}`: {
		{"__name__": "queue_messages_ready", "namespace": "ns", "queue": "orders"},
	},
}

var (
	podsGVR     = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	servicesGVR = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	nodesGVR    = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
)

// t0 is the fake clock's time.
var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func mustLoad(t testing.TB, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Load([]byte(yaml))
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	return cfg
}

// metadataScheme registers the kinds the fixture's objects have as
// metadata-only objects, which is what the fake metadata client stores.
func metadataScheme() *runtime.Scheme {
	s := metadatafake.NewTestScheme()
	for _, kind := range []string{"Pod", "Service", "Node"} {
		s.AddKnownTypeWithName(schema.GroupVersionKind{Version: "v1", Kind: kind}, &metav1.PartialObjectMetadata{})
	}
	return s
}

// object is one object of the fake API server, metadata only.
func object(kind, namespace, name string, lbls map[string]string) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: lbls},
	}
}

// pods returns n pods named prefix-0.. with the labels.
func pods(namespace, prefix string, n int, lbls map[string]string) []runtime.Object {
	out := make([]runtime.Object, n)
	for i := range n {
		out[i] = object("Pod", namespace, fmt.Sprintf("%s-%d", prefix, i), lbls)
	}
	return out
}

// fixture is a provider over the fake querier and fake API server, with
// discovery already run.
type fixture struct {
	p       *Provider
	q       *metricstest.Querier
	objects *ObjectCache
	reg     *prometheus.Registry
}

type fixtureOptions struct {
	config        string
	maxQueryNames int
	objects       []runtime.Object
	querier       *metricstest.Querier
	noRelist      bool
}

func newFixture(t testing.TB, o fixtureOptions) *fixture {
	t.Helper()
	if o.config == "" {
		o.config = testConfig
	}
	q := o.querier
	if q == nil {
		q = &metricstest.Querier{}
	}
	if q.SeriesSets == nil && q.SeriesFunc == nil {
		q.SeriesSets = testSeries
	}
	if q.Samples == nil {
		q.Samples = map[string][]hpametrics.Sample{}
	}
	client := metadatafake.NewSimpleMetadataClient(metadataScheme(), o.objects...)
	objects := NewObjectCache(client, 0, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = objects.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	reg := prometheus.NewPedanticRegistry()
	p, err := New(Config{Rules: mustLoad(t, o.config), MaxQueryNames: o.maxQueryNames}, Deps{
		Querier:    q,
		Mapper:     func(context.Context) (Mapper, error) { return rules.BuiltinMapper(), nil },
		Objects:    objects,
		Registerer: reg,
		Now:        func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if !o.noRelist {
		// The objects' informers may not have been started yet when the
		// first request arrives; ObjectCache waits for them.
		waitRunning(t, objects)
		if err := p.Relist(context.Background()); err != nil {
			t.Fatalf("Relist: %v", err)
		}
		q.Reset()
	}
	return &fixture{p: p, q: q, objects: objects, reg: reg}
}

// waitRunning waits until Run has let the cache start informers.
func waitRunning(t testing.TB, c *ObjectCache) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		running := c.stop != nil
		c.mu.Unlock()
		if running {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("object cache did not start")
		}
		time.Sleep(time.Millisecond)
	}
}

// queries returns the instant queries the fake received.
func (f *fixture) queries() []string {
	var out []string
	for _, c := range f.q.Calls() {
		if c.Kind == hpametrics.KindQuery {
			out = append(out, c.Query)
		}
	}
	return out
}

// sample builds a sample whose label is the object's name.
func sample(label, name string, v float64, ts time.Time) hpametrics.Sample {
	return hpametrics.Sample{Labels: map[string]string{label: name}, Value: v, Timestamp: ts}
}
