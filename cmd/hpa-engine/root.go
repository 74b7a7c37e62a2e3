package main

import (
	"flag"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
)

// newRootCommand builds the command tree. Subcommands register here as the
// roles they run land (serve, adapter, controller, demo, simulate, explain).
func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "hpa-engine",
		Short: "Metrics adapter, recommender and scaler for Kubernetes autoscaling",
		Long: `hpa-engine serves the custom and external metrics APIs from Prometheus,
recommends replica counts with the exact autoscaling/v2 HPA algorithm and
explains them, and scales the workloads it owns.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newVersionCommand())
	root.AddCommand(newExplainCommand())
	root.AddCommand(newAdapterCommand())
	root.AddCommand(newControllerCommand())
	root.AddCommand(newServeCommand())
	root.AddCommand(newDemoCommand())
	root.AddCommand(newSimulateCommand())
	return root
}

// addKlogFlags registers -v and --vmodule on fs, as every Kubernetes
// component has them.
func addKlogFlags(fs *pflag.FlagSet) {
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	fs.AddGoFlag(klogFlags.Lookup("v"))
	fs.AddGoFlag(klogFlags.Lookup("vmodule"))
}
