package adapter_test

import (
	"context"
	"os"
	"os/signal"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/hpa-engine/hpa-engine/adapter"
	"github.com/hpa-engine/hpa-engine/adapter/adaptertest"
)

// Example shows the wiring a command does: flags into Options, Options into
// a Config, the Config and the providers into a Server, run until a signal.
func Example() {
	fs := pflag.NewFlagSet("adapter", pflag.ExitOnError)
	opts := adapter.NewOptions()
	opts.AddFlags(fs)
	_ = fs.Parse(os.Args[1:])
	opts.Kubeconfig = os.Getenv("KUBECONFIG") // the command's --kubeconfig

	cfg, err := opts.Config()
	if err != nil {
		klog.ErrorS(err, "Invalid adapter configuration")
		return
	}
	reg := prometheus.NewRegistry()
	provider := &adaptertest.Provider{} // the Prometheus-backed provider in production
	srv, err := adapter.New(*cfg, adapter.Deps{
		Custom:     provider,
		External:   provider,
		Metrics:    promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		Registerer: reg,
	})
	if err != nil {
		klog.ErrorS(err, "Adapter server")
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := srv.Run(ctx); err != nil {
		klog.ErrorS(err, "Adapter server stopped")
	}
}
