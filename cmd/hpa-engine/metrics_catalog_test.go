package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"k8s.io/apiserver/pkg/authentication/request/anonymous"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	fakediscovery "k8s.io/client-go/discovery/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/hpa-engine/hpa-engine/adapter"
	"github.com/hpa-engine/hpa-engine/adapter/provider"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
	"github.com/hpa-engine/hpa-engine/recommender/loop"
	"github.com/hpa-engine/hpa-engine/scaler"
)

// exportedMetricsFile is the list of hpa_engine_* metric names the roles
// export, one per line, sorted. The dashboards' test reads it, so that the
// dashboards package checks its queries without importing the runtime
// packages. Rewrite it with `go test ./cmd/hpa-engine -run TestMetricsCatalog -update`.
const exportedMetricsFile = "../../dashboards/testdata/exported_metrics.txt"

// catalogConfig is a one-rule adapter configuration: the provider needs a
// file to start from.
const catalogConfig = `rules:
- seriesQuery: 'http_requests_total{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'
`

// recordingRegisterer registers on a registry and keeps the collectors, so
// that the test can give every vector a series: a vector without one is not
// gathered, and promlint would not see it.
type recordingRegisterer struct {
	*prometheus.Registry
	collectors []prometheus.Collector
}

var _ prometheus.Registerer = (*recordingRegisterer)(nil)

func newRecordingRegisterer() *recordingRegisterer {
	return &recordingRegisterer{Registry: prometheus.NewRegistry()}
}

func (r *recordingRegisterer) Register(c prometheus.Collector) error {
	if err := r.Registry.Register(c); err != nil {
		return err
	}
	r.collectors = append(r.collectors, c)
	return nil
}

func (r *recordingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// variableLabels matches the variable labels in a Desc's String(), the only
// place client_golang shows them.
var variableLabels = regexp.MustCompile(`variableLabels: \{([^}]*)\}`)

// fillVectors gives every registered vector one series with placeholder
// label values.
func (r *recordingRegisterer) fillVectors(t *testing.T) {
	t.Helper()
	for _, c := range r.collectors {
		switch v := c.(type) {
		case *prometheus.CounterVec:
			v.WithLabelValues(placeholders(t, c)...).Inc()
		case *prometheus.GaugeVec:
			v.WithLabelValues(placeholders(t, c)...).Set(1)
		case *prometheus.HistogramVec:
			v.WithLabelValues(placeholders(t, c)...).Observe(1)
		case *prometheus.SummaryVec:
			v.WithLabelValues(placeholders(t, c)...).Observe(1)
		}
	}
}

// placeholders returns one value per variable label of a vector, which
// describes itself with a single Desc.
func placeholders(t *testing.T, vec prometheus.Collector) []string {
	t.Helper()
	descs := make(chan *prometheus.Desc, 1)
	vec.Describe(descs)
	d := <-descs
	m := variableLabels.FindStringSubmatch(d.String())
	if m == nil {
		t.Fatalf("cannot read the labels of %s", d)
	}
	if m[1] == "" {
		return nil
	}
	return slices.Repeat([]string{"x"}, len(strings.Split(m[1], ",")))
}

// roleRegistries builds each role's registry with the constructors the
// commands use: the Go and process collectors, the shared provider
// (newPromProvider), the adapter server's request metrics, the loop's and the
// scaler's metrics.
func roleRegistries(t *testing.T) map[string]*recordingRegisterer {
	t.Helper()
	cfgFile := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgFile, []byte(catalogConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	newRegistry := func() *recordingRegisterer {
		reg := newRecordingRegisterer()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		return reg
	}
	newProvider := func(reg prometheus.Registerer) *promProvider {
		p, err := newPromProvider(cfgFile, provider.Config{}, hpametrics.ClientConfig{URL: "http://127.0.0.1:9", Timeout: hpametrics.DefaultTimeout, Verb: hpametrics.VerbPOST},
			&fakediscovery.FakeDiscovery{Fake: &clienttesting.Fake{}}, metadatafake.NewSimpleMetadataClient(metadatafake.NewTestScheme()), reg)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	adapterReg := newRegistry()
	p := newProvider(adapterReg)
	if _, err := adapter.New(adapter.Config{
		Authenticator: anonymous.NewAuthenticator(nil),
		Authorizer:    authorizerfactory.NewAlwaysAllowAuthorizer(),
	}, adapter.Deps{Custom: p, External: p, Registerer: adapterReg}); err != nil {
		t.Fatal(err)
	}

	controllerReg := newRegistry()
	newProvider(controllerReg)
	loop.NewMetrics(controllerReg)
	scaler.NewMetrics(controllerReg)

	return map[string]*recordingRegisterer{"adapter": adapterReg, "controller": controllerReg}
}

// TestMetricsCatalog lints every role's metrics with promlint and compares
// the hpa_engine_* names they export with exportedMetricsFile.
func TestMetricsCatalog(t *testing.T) {
	var names []string
	for role, reg := range roleRegistries(t) {
		t.Run(role, func(t *testing.T) {
			reg.fillVectors(t)
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("promlint: %s: %s", p.Metric, p.Text)
			}
			have := map[string]bool{}
			for _, mf := range mfs {
				have[mf.GetName()] = true
				if strings.HasPrefix(mf.GetName(), "hpa_engine_") {
					names = append(names, mf.GetName())
				}
			}
			// The Go and process collectors, which the dashboards may use.
			for _, want := range []string{"go_goroutines", "process_cpu_seconds_total"} {
				if !have[want] {
					t.Errorf("%s does not export %s", role, want)
				}
			}
		})
	}
	slices.Sort(names)
	names = slices.Compact(names)
	got := strings.Join(names, "\n") + "\n"
	if *updateExplain {
		if err := os.WriteFile(exportedMetricsFile, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(exportedMetricsFile)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if string(want) != got {
		t.Errorf("%s is stale: run go test ./cmd/hpa-engine -run TestMetricsCatalog -update\ngot:\n%s\nwant:\n%s", exportedMetricsFile, got, want)
	}
}
