package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/hpa-engine/hpa-engine/adapter"
	"github.com/hpa-engine/hpa-engine/adapter/provider"
)

// adapterOptions are the flags of `hpa-engine adapter`: the serving flags of
// adapter.Options plus prometheus-adapter's own, so its manifests carry over.
type adapterOptions struct {
	Server *adapter.Options
	providerOptions

	Kubeconfig string
}

func newAdapterOptions() *adapterOptions {
	return &adapterOptions{Server: adapter.NewOptions(), providerOptions: newProviderOptions()}
}

func (o *adapterOptions) AddFlags(fs *pflag.FlagSet) {
	o.Server.AddFlags(fs)
	o.providerOptions.AddFlags(fs)
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Kubeconfig of the cluster; in-cluster configuration when empty.")
}

// Validate reports every invalid flag at once; it does not touch the network.
func (o *adapterOptions) Validate() []error {
	return append(o.Server.Validate(), o.providerOptions.Validate()...)
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
	addKlogFlags(cmd.Flags())
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

	cc, err := o.clientConfig()
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
	p, err := newPromProvider(o.ConfigFile, o.providerConfig(), cc, disc, meta, reg)
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
		// hpa_engine_adapter_requests_total and its latency.
		Registerer: reg,
	})
	if err != nil {
		return err
	}

	klog.InfoS("Starting the adapter", "prometheus", cc.URL, "config", o.ConfigFile, "relistInterval", o.RelistInterval)
	return runAll(ctx, append(p.runners(), server.Run)...)
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
