package main

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/hpa-engine/hpa-engine/adapter"
)

// serveOptions are the flags of `hpa-engine serve`: the controller's (which
// include the provider's and the REST API's), the adapter's serving,
// authentication and authorization flags, and one switch per role.
type serveOptions struct {
	Controller *controllerOptions
	Server     *adapter.Options

	Adapter     bool
	Recommender bool
	Scaler      bool
}

func newServeOptions() *serveOptions {
	return &serveOptions{
		Controller:  newControllerOptions(),
		Server:      adapter.NewOptions(),
		Adapter:     true,
		Recommender: true,
		Scaler:      true,
	}
}

// AddFlags registers the flags on fs.
func (o *serveOptions) AddFlags(fs *pflag.FlagSet) {
	o.Controller.AddFlags(fs)
	o.Server.AddFlags(fs)
	fs.BoolVar(&o.Adapter, "adapter", o.Adapter, "Serve the custom and external metrics APIs (the adapter role).")
	fs.BoolVar(&o.Recommender, "recommender", o.Recommender, "Recommend replica counts for every HPA and Autoscaler and serve them over REST (the recommender role).")
	fs.BoolVar(&o.Scaler, "scaler", o.Scaler, "Scale the Autoscalers' targets (the scaler role); needs --recommender. Without it the Autoscalers are left alone and only HPAs are recommended for.")
}

// Validate reports every invalid flag at once; it does not touch the network.
func (o *serveOptions) Validate() []error {
	var errs []error
	if !o.Adapter && !o.Recommender {
		errs = append(errs, errors.New("--adapter=false and --recommender=false: nothing to serve"))
	}
	if o.Scaler && !o.Recommender {
		errs = append(errs, errors.New("--scaler needs --recommender: the scaler applies the recommender's results"))
	}
	if o.Adapter {
		errs = append(errs, o.Server.Validate()...)
	}
	return append(errs, o.Controller.Validate()...)
}

func newServeCommand() *cobra.Command { return serveCommand(newServeOptions()) }

// serveCommand builds the command over o, which its flags fill.
func serveCommand(o *serveOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the adapter, the recommender and the scaler in one process, each switchable",
		Long: `serve runs every role in one process: the adapter (--adapter), the
recommender with its REST API (--recommender) and the scaler (--scaler), all on
by default. The roles share one Prometheus provider (one series discovery, one
metadata cache) and one /metrics registry. Each role's flags are those of
` + "`hpa-engine adapter`" + ` and ` + "`hpa-engine controller`" + `; the adapter's /metrics, /healthz
and /readyz are on its HTTPS port, the controller's on --rest-address.`,
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

// Run builds the enabled roles over one set of clients, one registry and one
// provider, and runs them until ctx is done or one of them fails.
func (o *serveOptions) Run(ctx context.Context) error {
	cfg, err := o.Controller.Config()
	if err != nil {
		return err
	}
	cfg.NoScaler = !o.Scaler
	restCfg, err := kubeConfig(cfg.Kubeconfig)
	if err != nil {
		return err
	}
	// As for `hpa-engine adapter`: discovery and the informers' lists must
	// not queue behind client-go's default 5 requests per second.
	restCfg.QPS, restCfg.Burst = 50, 100
	clients, err := clientsFromConfig(restCfg)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	var (
		prov    *promProvider
		runners []func(context.Context) error
	)
	if o.Recommender {
		parts, err := buildController(cfg, clients, reg)
		if err != nil {
			return err
		}
		defer parts.stop()
		prov = parts.Provider
		runners = append(parts.runners, func(ctx context.Context) error { return serveHTTP(ctx, cfg.REST.Address, parts.REST) })
	} else {
		if prov, err = newPromProvider(cfg.ConfigFile, cfg.Provider, cfg.Prometheus, clients.Discovery, clients.Metadata, reg); err != nil {
			return err
		}
		runners = prov.runners()
	}
	if o.Adapter {
		o.Server.Kubeconfig = cfg.Kubeconfig
		serverCfg, err := o.Server.Config()
		if err != nil {
			return err
		}
		server, err := adapter.New(*serverCfg, adapter.Deps{
			Custom:     prov,
			External:   prov,
			Metrics:    promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
			Ready:      prov.Ready,
			Registerer: reg,
		})
		if err != nil {
			return err
		}
		runners = append(runners, server.Run)
	}
	klog.InfoS("Starting hpa-engine", "adapter", o.Adapter, "recommender", o.Recommender, "scaler", o.Scaler,
		"prometheus", cfg.Prometheus.URL, "config", cfg.ConfigFile)
	return runAll(ctx, runners...)
}
