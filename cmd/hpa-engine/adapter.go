package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/hpa-engine/hpa-engine/adapter"
	"github.com/hpa-engine/hpa-engine/adapter/provider"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
)

// adapterOptions are the flags of `hpa-engine adapter`: the serving flags of
// adapter.Options plus prometheus-adapter's own, so its manifests carry over.
type adapterOptions struct {
	Server *adapter.Options

	ConfigFile     string
	Kubeconfig     string
	RelistInterval time.Duration
	SeriesMaxAge   time.Duration
	MaxQueryNames  int

	Prometheus hpametrics.ClientConfig
	// Headers are the raw --prometheus-header values, key=value.
	Headers []string
}

func newAdapterOptions() *adapterOptions {
	return &adapterOptions{
		Server:         adapter.NewOptions(),
		RelistInterval: provider.DefaultRelistInterval,
		MaxQueryNames:  provider.DefaultMaxQueryNames,
		Prometheus:     hpametrics.ClientConfig{Timeout: hpametrics.DefaultTimeout, Verb: hpametrics.VerbPOST},
	}
}

func (o *adapterOptions) AddFlags(fs *pflag.FlagSet) {
	o.Server.AddFlags(fs)
	fs.StringVar(&o.ConfigFile, "config", o.ConfigFile, "The prometheus-adapter compatible configuration file (rules, externalRules, resourceRules). Reloaded when it changes.")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Kubeconfig of the cluster; in-cluster configuration when empty.")
	fs.DurationVar(&o.RelistInterval, "metrics-relist-interval", o.RelistInterval, "How often the series of every seriesQuery are listed again (the file's metricsRelistInterval wins when set).")
	fs.DurationVar(&o.SeriesMaxAge, "metrics-max-age", o.SeriesMaxAge, "How far back a series listing looks; 10m or the relist interval, whichever is longer, when 0.")
	fs.IntVar(&o.MaxQueryNames, "max-query-names", o.MaxQueryNames, "Largest selection of objects queried by name; larger selections are queried by namespace and filtered in the adapter.")
	fs.StringVar(&o.Prometheus.URL, "prometheus-url", o.Prometheus.URL, "URL of the default Prometheus-compatible query API.")
	fs.DurationVar(&o.Prometheus.Timeout, "prometheus-timeout", o.Prometheus.Timeout, "Timeout of each request to Prometheus.")
	fs.StringVar(&o.Prometheus.Verb, "prometheus-verb", o.Prometheus.Verb, "HTTP verb of queries, POST or GET.")
	fs.StringVar(&o.Prometheus.TLS.CAFile, "prometheus-ca-file", o.Prometheus.TLS.CAFile, "CA bundle that verifies Prometheus' certificate.")
	fs.StringVar(&o.Prometheus.TLS.CertFile, "prometheus-client-cert", o.Prometheus.TLS.CertFile, "Client certificate presented to Prometheus.")
	fs.StringVar(&o.Prometheus.TLS.KeyFile, "prometheus-client-key", o.Prometheus.TLS.KeyFile, "Key of --prometheus-client-cert.")
	fs.BoolVar(&o.Prometheus.TLS.InsecureSkipVerify, "prometheus-insecure-skip-tls-verify", o.Prometheus.TLS.InsecureSkipVerify, "Do not verify Prometheus' certificate (testing only).")
	fs.StringVar(&o.Prometheus.BearerTokenFile, "prometheus-token-file", o.Prometheus.BearerTokenFile, "File holding a bearer token for Prometheus, re-read when it changes.")
	fs.StringArrayVar(&o.Headers, "prometheus-header", o.Headers, "Header sent with every request to Prometheus, as key=value (e.g. X-Scope-OrgID=tenant); repeatable.")
}

// Validate reports every invalid flag at once; it does not touch the network.
func (o *adapterOptions) Validate() []error {
	errs := o.Server.Validate()
	if o.ConfigFile == "" {
		errs = append(errs, errors.New("--config is required"))
	}
	if o.RelistInterval <= 0 {
		errs = append(errs, fmt.Errorf("--metrics-relist-interval %s: must be positive", o.RelistInterval))
	}
	if o.SeriesMaxAge < 0 {
		errs = append(errs, fmt.Errorf("--metrics-max-age %s: must not be negative", o.SeriesMaxAge))
	}
	if o.MaxQueryNames <= 0 {
		errs = append(errs, fmt.Errorf("--max-query-names %d: must be positive", o.MaxQueryNames))
	}
	headers, err := parseHeaders(o.Headers)
	if err != nil {
		errs = append(errs, err)
	}
	cc := o.Prometheus
	cc.Headers = headers
	if err := cc.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("--prometheus-*: %w", err))
	}
	return errs
}

// parseHeaders turns repeated key=value flags into a map.
func parseHeaders(raw []string) (map[string]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(raw))
	for _, h := range raw {
		k, v, ok := strings.Cut(h, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("--prometheus-header %q: want key=value", h)
		}
		out[k] = v
	}
	return out, nil
}

func newAdapterCommand() *cobra.Command { return adapterCommand(newAdapterOptions()) }

// adapterCommand builds the command over o, which its flags fill.
func adapterCommand(o *adapterOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "adapter",
		Short: "Serve custom.metrics.k8s.io and external.metrics.k8s.io from Prometheus",
		Long: `adapter serves the custom metrics API (v1beta1, v1beta2) and the external
metrics API (v1beta1) from Prometheus, as a drop-in replacement for
prometheus-adapter: the same configuration file and flags, one PromQL query per
request, hot reload of --config, and a 503 rather than a made-up 0 when
Prometheus cannot answer.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if errs := o.Validate(); len(errs) > 0 {
				return errors.Join(errs...)
			}
			return o.Run(cmd.Context())
		},
	}
	o.AddFlags(cmd.Flags())
	// -v and --vmodule, as every Kubernetes component has them.
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	cmd.Flags().AddGoFlag(klogFlags.Lookup("v"))
	cmd.Flags().AddGoFlag(klogFlags.Lookup("vmodule"))
	return cmd
}

// Run builds the adapter's components from validated options and runs them
// until ctx is done or one of them fails.
func (o *adapterOptions) Run(ctx context.Context) error {
	restCfg, err := kubeConfig(o.Kubeconfig)
	if err != nil {
		return err
	}
	// API discovery each relist and the informers' lists at start must not
	// queue behind client-go's default 5 requests per second.
	restCfg.QPS, restCfg.Burst = 50, 100
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	reloader := provider.NewReloader(o.ConfigFile, reg)
	rules, err := reloader.Load()
	if err != nil {
		return err
	}
	cc := o.Prometheus
	cc.Headers, _ = parseHeaders(o.Headers) // validated
	queryMetrics := hpametrics.NewQueryMetrics(reg)
	querier, err := provider.NewQuerier("default", cc, queryMetrics)
	if err != nil {
		return err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(restCfg)
	if err != nil {
		return fmt.Errorf("discovery client: %w", err)
	}
	meta, err := metadata.NewForConfig(restCfg)
	if err != nil {
		return fmt.Errorf("metadata client: %w", err)
	}
	objects := provider.NewObjectCache(meta, 0, 0)
	p, err := provider.New(provider.Config{
		Rules:          rules,
		RelistInterval: o.RelistInterval,
		SeriesMaxAge:   o.SeriesMaxAge,
		MaxQueryNames:  o.MaxQueryNames,
	}, provider.Deps{
		Querier:    querier,
		NewQuerier: provider.QuerierFactory(cc.Verb, queryMetrics),
		Mapper:     discoveryMapper(disc),
		Objects:    objects,
		Registerer: reg,
	})
	if err != nil {
		return err
	}

	o.Server.Kubeconfig = o.Kubeconfig
	serverCfg, err := o.Server.Config()
	if err != nil {
		return err
	}
	server, err := adapter.New(*serverCfg, adapter.Deps{
		Custom:   p,
		External: p,
		Metrics:  promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
		Ready:    p.Ready,
	})
	if err != nil {
		return err
	}

	klog.InfoS("Starting the adapter", "prometheus", cc.URL, "config", o.ConfigFile, "relistInterval", o.RelistInterval)
	return runAll(ctx,
		objects.Run,
		func(ctx context.Context) error {
			// Pods are what HPAs select; list them before the first request.
			if err := objects.Prepare(ctx, schema.GroupVersionResource{Version: "v1", Resource: "pods"}); err != nil && ctx.Err() == nil {
				klog.ErrorS(err, "Pods not cached yet; the first requests will wait for them")
			}
			return nil
		},
		p.Run,
		func(ctx context.Context) error { return reloader.Run(ctx, p.SetConfig) },
		server.Run,
	)
}

// kubeConfig loads the kubeconfig, or the in-cluster configuration when the
// path is empty.
func kubeConfig(path string) (*rest.Config, error) {
	if path == "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster configuration (set --kubeconfig outside a cluster): %w", err)
		}
		return cfg, nil
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: path}, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %q: %w", path, err)
	}
	return cfg, nil
}

// discoveryMapper returns a provider mapper source that reads the cluster's
// API discovery each relist, so resources installed later (CRDs) resolve.
// A partial discovery (one aggregated API down, ours included while it
// starts) still maps everything it did get.
func discoveryMapper(dc discovery.DiscoveryInterface) func(context.Context) (provider.Mapper, error) {
	dcc := discovery.ToDiscoveryInterfaceWithContext(dc)
	return func(ctx context.Context) (provider.Mapper, error) {
		groups, err := restmapper.GetAPIGroupResourcesWithContext(ctx, dcc)
		if len(groups) == 0 {
			if err == nil {
				err = errors.New("no API groups")
			}
			return nil, fmt.Errorf("API discovery: %w", err)
		}
		if err != nil {
			klog.V(2).InfoS("API discovery partial; mapping the groups it returned", "err", err)
		}
		return restmapper.NewDiscoveryRESTMapper(groups), nil
	}
}

// runAll runs every function until ctx is done or one of them returns an
// error, which cancels the others; it returns once all have returned.
func runAll(ctx context.Context, fns ...func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				cancel()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
