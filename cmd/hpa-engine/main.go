// Command hpa-engine is the metrics adapter, recommender and scaler for
// Kubernetes autoscaling. main only turns signals into a context and runs the
// root command; each subcommand lives in its own file.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hpa-engine:", err)
		os.Exit(1)
	}
}
