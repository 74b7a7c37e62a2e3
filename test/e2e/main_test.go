//go:build integration

package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hpa-engine/hpa-engine/test/testbed"
)

// The shared environment of this package: one control plane, one
// Prometheus, one adapter registered for all three metrics APIs.
var (
	env     *testbed.Env
	cp      *testbed.ControlPlane
	prom    *testbed.Prometheus
	adapter *testbed.Process
	// adapterURL is https://127.0.0.1:<port> of the adapter.
	adapterURL string
	// queryLog is Prometheus' query log file.
	queryLog string
)

// adapterConfig is a prometheus-adapter configuration file, in its own
// format, over the series the tests push.
const adapterConfig = `rules:
- seriesQuery: 'e2e_pod_load{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
- seriesQuery: 'e2e_service_rps{namespace!="",service!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      service: {resource: "service"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
- seriesQuery: 'e2e_requests_total{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
      pod: {resource: "pod"}
  name:
    matches: "^(.*)_total$"
    as: "${1}_per_second"
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'
externalRules:
- seriesQuery: 'e2e_queue_length{namespace!="",queue!=""}'
  resources:
    overrides:
      namespace: {resource: "namespace"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (queue)'
`

func TestMain(m *testing.M) {
	os.Exit(testbed.Main(m, func(e *testbed.Env) error {
		env = e
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		var err error
		if cp, err = e.StartControlPlane(ctx, testbed.ControlPlaneOptions{ControllerManager: true, FakeKubelet: true}); err != nil {
			return err
		}
		// The query log shows the PromQL the adapter sends (benchmarks read it).
		queryLog = filepath.Join(e.Dir, "prometheus-queries.log")
		promCfg := strings.Replace(testbed.DefaultPrometheusConfig, "global:\n", "global:\n  query_log_file: "+queryLog+"\n", 1)
		if prom, err = e.StartPrometheus(ctx, testbed.PrometheusOptions{Config: promCfg}); err != nil {
			return err
		}
		return startAdapter(ctx, e)
	}))
}

// startAdapter runs `hpa-engine adapter` as a cluster would: serving
// certificate for its Service's name, delegated authentication and
// authorization against kube-apiserver, and APIServices for custom v1beta1,
// v1beta2 and external v1beta1 pointing at it.
func startAdapter(ctx context.Context, e *testbed.Env) error {
	bin, err := e.BuildEngine(ctx)
	if err != nil {
		return err
	}
	const service = "hpa-engine-adapter"
	certFile, keyFile, err := cp.PKI.ServingCert("adapter", testbed.ServiceDNSName(testbed.DefaultAPIServiceNamespace, service))
	if err != nil {
		return err
	}
	cfgFile := filepath.Join(e.Dir, "adapter-config.yaml")
	if err := os.WriteFile(cfgFile, []byte(adapterConfig), 0o600); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	adapterURL = "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	adapter, err = e.StartProcess(ctx, testbed.ProcessOptions{
		Name: "hpa-engine-adapter",
		Path: bin,
		Args: []string{
			"adapter",
			"--kubeconfig=" + cp.AdminKubeconfig,
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(port),
			"--tls-cert-file=" + certFile,
			"--tls-private-key-file=" + keyFile,
			"--config=" + cfgFile,
			"--prometheus-url=" + prom.URL,
			"--metrics-relist-interval=1s",
			"--v=2",
		},
		Ready: testbed.HTTPReady(adapterURL + "/healthz"),
	})
	if err != nil {
		return err
	}
	for _, gv := range [][2]string{
		{"custom.metrics.k8s.io", "v1beta1"},
		{"custom.metrics.k8s.io", "v1beta2"},
		{"external.metrics.k8s.io", "v1beta1"},
	} {
		if err := cp.RegisterAPIService(ctx, testbed.APIServiceOptions{
			Group: gv[0], Version: gv[1], Port: port, CABundle: cp.PKI.CAPEM, Service: service,
		}); err != nil {
			return fmt.Errorf("register %s/%s: %w", gv[0], gv[1], err)
		}
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
