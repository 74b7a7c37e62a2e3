package testbed

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/exp/api/remote"
	writev2 "github.com/prometheus/client_golang/exp/api/remote/genproto/v2"
)

// PrometheusOptions configure the Prometheus server the test bed runs.
type PrometheusOptions struct {
	// Config is the prometheus.yml the test provides (scrape jobs of test
	// exporters on 127.0.0.1, say). Empty means DefaultPrometheusConfig.
	Config string
}

// DefaultPrometheusConfig scrapes nothing, evaluates every second and accepts
// out-of-order samples up to a day old, so tests can push history.
const DefaultPrometheusConfig = `global:
  scrape_interval: 1s
  evaluation_interval: 1s
storage:
  tsdb:
    out_of_order_time_window: 1d
`

// Prometheus is a running Prometheus on 127.0.0.1 with the remote-write
// receiver enabled. Stop and Start keep its port and data, so tests can take
// it away and bring it back.
type Prometheus struct {
	// URL is http://127.0.0.1:<port>.
	URL string
	// API is a client_golang query client for URL.
	API promv1.API

	proc   *process
	writer *remote.API
}

// StartPrometheus starts Prometheus and waits until it is ready.
func (e *Env) StartPrometheus(ctx context.Context, opts PrometheusOptions) (*Prometheus, error) {
	bin, err := binary(binPrometheus)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(e.Dir, "prometheus")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cfg := opts.Config
	if cfg == "" {
		cfg = DefaultPrometheusConfig
	}
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &Prometheus{URL: "http://" + hostPort(port)}
	p.proc = &process{
		name:    "prometheus",
		path:    bin,
		logFile: filepath.Join(e.Dir, "prometheus.log"),
		args: []string{
			"--config.file=" + cfgFile,
			"--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + hostPort(port),
			"--web.enable-remote-write-receiver",
			"--web.remote-write-receiver.accepted-protobuf-messages=prometheus.WriteRequest",
			"--web.remote-write-receiver.accepted-protobuf-messages=io.prometheus.write.v2.Request",
			"--web.enable-lifecycle",
			"--log.level=warn",
		},
	}
	e.addProcess(p.proc)
	client, err := api.NewClient(api.Config{Address: p.URL})
	if err != nil {
		return nil, err
	}
	p.API = promv1.NewAPI(client)
	if p.writer, err = remote.NewAPI(p.URL, remote.WithAPIBackoff(remote.BackoffConfig{Min: 50 * time.Millisecond, Max: time.Second, MaxRetries: 3})); err != nil {
		return nil, err
	}
	if err := p.Start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Start (re)starts a stopped Prometheus on the same port and data directory
// and waits until it is ready.
func (p *Prometheus) Start(ctx context.Context) error {
	start := time.Now()
	if err := p.proc.start(); err != nil {
		return err
	}
	if err := waitFor(ctx, "prometheus /-/ready", 60*time.Second, p.proc, httpOK(http.DefaultClient, p.URL+"/-/ready", nil)); err != nil {
		return err
	}
	logf("prometheus ready at %s in %s", p.URL, time.Since(start).Round(time.Millisecond))
	return nil
}

// Stop stops Prometheus; queries then fail with connection refused.
func (p *Prometheus) Stop() { p.proc.stop() }

// Sample is one value of one series, for Push.
type Sample struct {
	// Labels include __name__.
	Labels map[string]string
	Value  float64
	Time   time.Time
}

// Push writes samples through the remote-write receiver (protocol 2.0).
// Samples of one series must be given oldest first.
func (p *Prometheus) Push(ctx context.Context, samples ...Sample) error {
	if len(samples) == 0 {
		return nil
	}
	symbols := writev2.NewSymbolTable()
	req := &writev2.Request{}
	series := map[string]*writev2.TimeSeries{}
	var order []string
	for _, s := range samples {
		if s.Labels["__name__"] == "" {
			return fmt.Errorf("push: sample without __name__: %v", s.Labels)
		}
		names := make([]string, 0, len(s.Labels))
		for k := range s.Labels {
			names = append(names, k)
		}
		sort.Strings(names)
		flat := make([]string, 0, 2*len(names))
		key := ""
		for _, n := range names {
			flat = append(flat, n, s.Labels[n])
			key += strconv.Quote(n) + "=" + strconv.Quote(s.Labels[n]) + ","
		}
		ts, ok := series[key]
		if !ok {
			ts = &writev2.TimeSeries{LabelsRefs: symbols.SymbolizeLabels(flat, nil)}
			series[key] = ts
			order = append(order, key)
		}
		ts.Samples = append(ts.Samples, &writev2.Sample{Value: s.Value, Timestamp: s.Time.UnixMilli()})
	}
	for _, k := range order {
		req.Timeseries = append(req.Timeseries, series[k])
	}
	req.Symbols = symbols.Symbols()
	stats, err := p.writer.Write(ctx, remote.WriteV2MessageType, req)
	if err != nil {
		return fmt.Errorf("remote write: %w", err)
	}
	if stats.Samples != len(samples) {
		return fmt.Errorf("remote write: %d of %d samples written", stats.Samples, len(samples))
	}
	return nil
}
