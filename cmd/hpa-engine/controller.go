package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/hpa-engine/hpa-engine/adapter/inprocess"
	"github.com/hpa-engine/hpa-engine/adapter/provider"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
	"github.com/hpa-engine/hpa-engine/recommender"
	"github.com/hpa-engine/hpa-engine/recommender/api"
	"github.com/hpa-engine/hpa-engine/recommender/loop"
	"github.com/hpa-engine/hpa-engine/scaler"
	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

// mapperResetPeriod is how often the discovery-backed REST mapper forgets
// what it learnt, so that kinds installed later (CRDs with /scale) resolve;
// kube-controller-manager resets its mapper every 30 s too.
const mapperResetPeriod = 30 * time.Second

// controllerOptions are the flags of `hpa-engine controller`: the loop's,
// the HPA controller's tuning flags under upstream's names, the in-process
// provider's (the same as `hpa-engine adapter`'s), the REST API's and the
// scaler's leader election.
type controllerOptions struct {
	REST           *api.Options
	LeaderElection *scaler.LeaderElectionOptions

	Kubeconfig string
	SyncPeriod time.Duration
	Workers    int

	// The HPA controller's flags, with kube-controller-manager's names and
	// defaults.
	Tolerance               float64
	CPUInitializationPeriod time.Duration
	InitialReadinessDelay   time.Duration
	DownscaleStabilization  time.Duration

	// The provider's flags, as `hpa-engine adapter` has them.
	providerOptions
}

func newControllerOptions() *controllerOptions {
	return &controllerOptions{
		REST:                    api.NewOptions(),
		LeaderElection:          scaler.NewLeaderElectionOptions(),
		SyncPeriod:              loop.DefaultSyncPeriod,
		Workers:                 loop.DefaultWorkers,
		Tolerance:               recommender.DefaultTolerance,
		CPUInitializationPeriod: recommender.DefaultCPUInitializationPeriod,
		InitialReadinessDelay:   recommender.DefaultInitialReadinessDelay,
		DownscaleStabilization:  recommender.DefaultDownscaleStabilizationWindow,
		providerOptions:         newProviderOptions(),
	}
}

// AddFlags registers the flags on fs.
func (o *controllerOptions) AddFlags(fs *pflag.FlagSet) {
	o.REST.AddFlags(fs)
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Kubeconfig of the cluster; in-cluster configuration when empty.")
	fs.DurationVar(&o.SyncPeriod, "sync-period", o.SyncPeriod, "How often every target's recommendation is computed; each cycle times out after this long.")
	fs.IntVar(&o.Workers, "workers", o.Workers, "How many metric calls and targets a cycle works on at once.")
	fs.Float64Var(&o.Tolerance, "horizontal-pod-autoscaler-tolerance", o.Tolerance, "The minimum change (from 1.0) in the desired-to-actual metrics ratio for a rescale; a behavior's own tolerance wins.")
	fs.DurationVar(&o.CPUInitializationPeriod, "horizontal-pod-autoscaler-cpu-initialization-period", o.CPUInitializationPeriod, "The period after pod start when CPU samples might be skipped.")
	fs.DurationVar(&o.InitialReadinessDelay, "horizontal-pod-autoscaler-initial-readiness-delay", o.InitialReadinessDelay, "The period after pod start during which readiness changes are treated as initial readiness.")
	fs.DurationVar(&o.DownscaleStabilization, "horizontal-pod-autoscaler-downscale-stabilization", o.DownscaleStabilization, "The period for which the recommender looks backwards and does not scale down below any recommendation it made during that period.")
	o.providerOptions.AddFlags(fs)
	o.LeaderElection.AddFlags(fs)
}

// Validate reports every invalid flag at once; it does not touch the network.
func (o *controllerOptions) Validate() []error {
	errs := o.REST.Validate()
	if o.SyncPeriod <= 0 {
		errs = append(errs, fmt.Errorf("--sync-period %s: must be positive", o.SyncPeriod))
	}
	if o.Workers <= 0 {
		errs = append(errs, fmt.Errorf("--workers %d: must be positive", o.Workers))
	}
	if o.Tolerance < 0 {
		errs = append(errs, fmt.Errorf("--horizontal-pod-autoscaler-tolerance %v: must not be negative", o.Tolerance))
	}
	for _, d := range []struct {
		flag  string
		value time.Duration
	}{
		{"--horizontal-pod-autoscaler-cpu-initialization-period", o.CPUInitializationPeriod},
		{"--horizontal-pod-autoscaler-initial-readiness-delay", o.InitialReadinessDelay},
		{"--horizontal-pod-autoscaler-downscale-stabilization", o.DownscaleStabilization},
	} {
		if d.value < 0 {
			errs = append(errs, fmt.Errorf("%s %s: must not be negative", d.flag, d.value))
		}
	}
	errs = append(errs, o.providerOptions.Validate()...)
	errs = append(errs, o.LeaderElection.Validate()...)
	return errs
}

// controllerConfig is the plain configuration validated options produce.
type controllerConfig struct {
	Kubeconfig string
	Loop       loop.Config
	REST       api.Config
	Provider   provider.Config
	ConfigFile string
	Prometheus hpametrics.ClientConfig
	// NoScaler leaves the scaler out (`hpa-engine serve --scaler=false`):
	// the Autoscalers are then left alone (their informer is the scaler's),
	// and only the HPAs are recommended for.
	NoScaler bool
	// LeaderElection decides who runs the scaler; its Leases client is set
	// by runController.
	LeaderElection scaler.LeaderElectionConfig
}

// Config validates the options and returns the configuration Run uses.
func (o *controllerOptions) Config() (controllerConfig, error) {
	if errs := o.Validate(); len(errs) > 0 {
		return controllerConfig{}, errors.Join(errs...)
	}
	rest, err := o.REST.Config()
	if err != nil {
		return controllerConfig{}, err
	}
	cc, err := o.clientConfig()
	if err != nil {
		return controllerConfig{}, err
	}
	tolerance := o.Tolerance
	return controllerConfig{
		Kubeconfig: o.Kubeconfig,
		Loop: loop.Config{
			SyncPeriod: o.SyncPeriod,
			Workers:    o.Workers,
			Settings: recommender.Settings{
				Tolerance:                    &tolerance,
				CPUInitializationPeriod:      &metav1.Duration{Duration: o.CPUInitializationPeriod},
				InitialReadinessDelay:        &metav1.Duration{Duration: o.InitialReadinessDelay},
				DownscaleStabilizationWindow: &metav1.Duration{Duration: o.DownscaleStabilization},
			},
		},
		REST:           rest,
		Provider:       o.providerConfig(),
		ConfigFile:     o.ConfigFile,
		Prometheus:     cc,
		LeaderElection: o.LeaderElection.Config(),
	}, nil
}

func newControllerCommand() *cobra.Command { return controllerCommand(newControllerOptions()) }

// controllerCommand builds the command over o, which its flags fill.
func controllerCommand(o *controllerOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Recommend replica counts for every HPA and Autoscaler, scale the Autoscalers' targets, serve REST",
		Long: `controller computes, every --sync-period, what the autoscaling/v2 HPA
algorithm recommends for every HorizontalPodAutoscaler of the cluster (which it
only reads) and every Autoscaler (autoscaling.hpa-engine.io), with the full
explanation, reading metrics in-process through the adapter's Prometheus
provider in batches (one query per rule and namespace). The recommendations are
served over REST at /api/v1/recommendations, with /metrics, /healthz and
/readyz.

The scaler applies the Autoscalers' recommendations through the scale
subresource of their targets and writes their status. Every replica computes
and serves recommendations; only one scales: with --leader-elect the one
holding the Lease, without it (the default, for a single replica) this
process. Run more than one replica only with --leader-elect, in a namespace
that exists (--leader-elect-resource-namespace). A replica that loses the
Lease exits non-zero, to be restarted with fresh state. When the Autoscaler
CRD is not installed, the controller serves the HPAs' recommendations and
starts the scaler once the CRD appears.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.Config()
			if err != nil {
				return err
			}
			return runController(cmd.Context(), cfg)
		},
	}
	o.AddFlags(cmd.Flags())
	addKlogFlags(cmd.Flags())
	return cmd
}

// runController builds the components from cfg over clients of the cluster
// its kubeconfig names and runs them until ctx is done or one of them fails.
func runController(ctx context.Context, cfg controllerConfig) error {
	restCfg, err := kubeConfig(cfg.Kubeconfig)
	if err != nil {
		return err
	}
	clients, err := clientsFromConfig(restCfg)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	parts, err := buildController(cfg, clients, reg)
	if err != nil {
		return err
	}
	defer parts.stop()

	klog.InfoS("Starting the recommender and the scaler", "prometheus", cfg.Prometheus.URL, "config", cfg.ConfigFile,
		"syncPeriod", cfg.Loop.SyncPeriod, "rest", cfg.REST.Address, "leaderElect", cfg.LeaderElection.Enabled)
	return runAll(ctx, append(parts.runners,
		func(ctx context.Context) error { return serveHTTP(ctx, cfg.REST.Address, parts.REST) },
	)...)
}

// controllerClients are the API clients the controller's components work
// through: built from the kubeconfig by `controller`, from the in-process
// stand-in by `demo`, so that both run the same wiring.
type controllerClients struct {
	Kube      kubernetes.Interface
	Dynamic   dynamic.Interface
	Metadata  metadata.Interface
	Discovery discovery.DiscoveryInterface
	// Scales reads and writes the scale subresource of any kind.
	Scales scale.ScalesGetter
	// Mapper maps kinds to resources; when it has a Reset method (a
	// discovery-backed mapper) it is reset every mapperResetPeriod.
	Mapper meta.RESTMapper
	// ResourceMetrics answers Resource and ContainerResource metrics; nil
	// makes them fail as on a cluster without metrics.k8s.io.
	ResourceMetrics loop.PodMetricsLister
	// RESTAuthenticator, when set, authenticates the REST API's bearer
	// tokens instead of TokenReviews sent through Kube.
	RESTAuthenticator authenticator.Request
}

// clientsFromConfig builds the clients of a real cluster.
func clientsFromConfig(restCfg *rest.Config) (controllerClients, error) {
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return controllerClients{}, fmt.Errorf("kubernetes client: %w", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(restCfg)
	if err != nil {
		return controllerClients{}, fmt.Errorf("discovery client: %w", err)
	}
	metaClient, err := metadata.NewForConfig(restCfg)
	if err != nil {
		return controllerClients{}, fmt.Errorf("metadata client: %w", err)
	}
	resourceClient, err := metricsclient.NewForConfig(restCfg)
	if err != nil {
		return controllerClients{}, fmt.Errorf("resource metrics client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(restCfg)
	if err != nil {
		return controllerClients{}, fmt.Errorf("dynamic client: %w", err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	scales, err := scale.NewForConfig(restCfg, mapper, dynamic.LegacyAPIPathResolverFunc, scale.NewDiscoveryScaleKindResolver(disc))
	if err != nil {
		return controllerClients{}, fmt.Errorf("scale client: %w", err)
	}
	return controllerClients{
		Kube:            client,
		Dynamic:         dyn,
		Metadata:        metaClient,
		Discovery:       disc,
		Scales:          scales,
		Mapper:          mapper,
		ResourceMetrics: loop.NewResourceMetrics(resourceClient, discovery.ToDiscoveryInterfaceWithContext(disc), 0, nil),
	}, nil
}

// controllerParts are the controller's built components: what must run, and
// what `demo` reads besides.
type controllerParts struct {
	// Provider is the in-process Prometheus provider.
	Provider *promProvider
	// Store holds the loop's latest recommendations.
	Store loop.Store
	// REST is the REST API's handler; the caller serves it.
	REST http.Handler
	// runners run the provider, the mapper resets, the informers and the
	// loop, and the scaler, until their context is done.
	runners []func(context.Context) error
	// stop releases what building started (the event broadcaster).
	stop func()
}

// buildController builds the provider, the loop, the scaler and the REST
// handler over clients, registering their metrics with reg.
func buildController(cfg controllerConfig, c controllerClients, reg *prometheus.Registry) (*controllerParts, error) {
	// The in-process provider, built as `hpa-engine adapter` builds it.
	prov, err := newPromProvider(cfg.ConfigFile, cfg.Provider, cfg.Prometheus, c.Discovery, c.Metadata, reg)
	if err != nil {
		return nil, err
	}
	// POST /api/v1/simulate replays specs over the same Prometheus and
	// rules.
	sim, err := newSimulator(cfg.ConfigFile, cfg.Prometheus, cfg.Loop.Settings, c.Mapper)
	if err != nil {
		return nil, err
	}

	// Informers: the HPAs (read only), the built-in workloads and the pods,
	// without managedFields, which nothing here reads.
	factory := informers.NewSharedInformerFactoryWithOptions(c.Kube, 0, informers.WithTransform(stripManagedFields))
	hpas := factory.Autoscaling().V2().HorizontalPodAutoscalers()
	deployments := factory.Apps().V1().Deployments()
	statefulSets := factory.Apps().V1().StatefulSets()
	replicaSets := factory.Apps().V1().ReplicaSets()
	pods := factory.Core().V1().Pods()
	// Asking for each informer registers it, so that Start runs it.
	hpas.Informer()
	deployments.Informer()
	statefulSets.Informer()
	replicaSets.Informer()
	pods.Informer()
	// The Autoscalers, started apart from the others (see runScaler): a
	// dynamic informer over a resource the server does not serve would never
	// sync. Until it runs, its lister is empty.
	autoscalers := scaler.NewAutoscalerInformer(c.Dynamic, "", 0)
	autoscalerSource := scaler.NewAutoscalerSource(autoscalers.Lister())

	l, err := loop.New(cfg.Loop, loop.Deps{
		Sources: []loop.TargetSource{loop.NewHPASource(hpas.Lister()), autoscalerSource},
		Scales: loop.NewScales(loop.WorkloadListers{
			Deployments:  deployments.Lister(),
			StatefulSets: statefulSets.Lister(),
			ReplicaSets:  replicaSets.Lister(),
		}, c.Scales, c.Mapper),
		Pods:            pods.Lister(),
		Metrics:         inprocess.New(prov.Provider, prov.Provider),
		ResourceMetrics: c.ResourceMetrics,
		Mapper:          c.Mapper,
		Instruments:     loop.NewMetrics(reg),
	})
	if err != nil {
		return nil, err
	}

	rec, stopEvents, err := scaler.NewEventRecorder(c.Kube.CoreV1())
	if err != nil {
		return nil, fmt.Errorf("event recorder: %w", err)
	}
	sc, err := scaler.New(scaler.Config{StaleAfter: 2 * cfg.Loop.SyncPeriod}, scaler.Deps{
		Autoscalers:     autoscalerSource,
		Recommendations: l.Store(),
		Scales:          c.Scales,
		Mapper:          c.Mapper,
		Status:          scaler.NewDynamicStatusClient(c.Dynamic),
		Recorder:        rec,
		Metrics:         scaler.NewMetrics(reg),
	})
	if err != nil {
		stopEvents()
		return nil, err
	}
	lec := cfg.LeaderElection
	lec.Leases = c.Kube.CoordinationV1()

	handler, err := api.New(cfg.REST, api.Deps{
		Store:         l.Store(),
		Authenticator: c.RESTAuthenticator,
		TokenReview:   c.Kube.AuthenticationV1(),
		Metrics:       promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
		Ready:         func() error { return errors.Join(prov.Ready(), l.Ready()) },
		Simulator:     sim,
	})
	if err != nil {
		stopEvents()
		return nil, err
	}

	runners := append(prov.runners(),
		func(ctx context.Context) error {
			factory.Start(ctx.Done())
			defer factory.Shutdown()
			for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
				if !ok && ctx.Err() == nil {
					return fmt.Errorf("informer of %v did not sync", typ)
				}
			}
			waitForDiscovery(ctx, prov.Ready)
			return l.Run(ctx)
		},
	)
	if !cfg.NoScaler {
		runners = append(runners, func(ctx context.Context) error {
			return runScaler(ctx, autoscalers.Informer(), func(ctx context.Context) (bool, error) {
				return resourceServed(ctx, c.Discovery, v1alpha1.GroupVersionResource)
			}, lec, sc.Run)
		})
	}
	if r, ok := c.Mapper.(interface{ Reset() }); ok {
		runners = append(runners, func(ctx context.Context) error {
			wait.UntilWithContext(ctx, func(context.Context) { r.Reset() }, mapperResetPeriod)
			return nil
		})
	}
	return &controllerParts{Provider: prov, Store: l.Store(), REST: handler, runners: runners, stop: stopEvents}, nil
}

// crdPollPeriod is how often the controller asks discovery whether the
// Autoscaler CRD has been installed, while it is not.
const crdPollPeriod = 10 * time.Second

// runScaler waits until the Autoscaler resource is served, runs the
// Autoscaler informer and, once it has synced, runs the scaler under leader
// election. It returns nil when ctx is done, and ErrLeadershipLost when this
// process stopped leading while ctx was alive, so that the process exits
// rather than scale again from a stale memory.
func runScaler(ctx context.Context, inf cache.SharedIndexInformer, served func(context.Context) (bool, error),
	lec scaler.LeaderElectionConfig, run func(context.Context)) error {
	if err := waitForResource(ctx, crdPollPeriod, served); err != nil {
		return nil // ctx is done
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		inf.Run(ctx.Done())
	}()
	defer func() { <-done }()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return nil // ctx is done
	}
	klog.InfoS("Starting the scaler", "leaderElect", lec.Enabled, "lease", klog.KRef(lec.Namespace, lec.Name))
	err := scaler.RunWithLeaderElection(ctx, lec, run)
	if err != nil {
		return fmt.Errorf("scaler: %w", err)
	}
	return nil
}

// waitForResource returns nil as soon as served says yes, asking at once and
// then every period, or ctx's error once it is done. It logs once that the
// resource is missing, and discovery errors at V(2): the controller keeps
// serving the HPAs' recommendations meanwhile.
func waitForResource(ctx context.Context, period time.Duration, served func(context.Context) (bool, error)) error {
	logged := false
	return wait.PollUntilContextCancel(ctx, period, true, func(ctx context.Context) (bool, error) {
		ok, err := served(ctx)
		switch {
		case err != nil:
			klog.V(2).InfoS("Asking discovery for the Autoscaler resource", "resource", v1alpha1.GroupVersionResource, "err", err)
		case !ok && !logged:
			logged = true
			klog.InfoS("The Autoscaler CRD is not installed; recommending for HPAs only until it is", "resource", v1alpha1.GroupVersionResource)
		}
		return ok, nil
	})
}

// resourceServed reports whether the server's discovery lists gvr; a group
// version it does not serve at all is a no, not an error.
func resourceServed(ctx context.Context, disc discovery.DiscoveryInterface, gvr schema.GroupVersionResource) (bool, error) {
	list, err := discovery.ToDiscoveryInterfaceWithContext(disc).ServerResourcesForGroupVersionWithContext(ctx, gvr.GroupVersion().String())
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("discover %s: %w", gvr.GroupVersion(), err)
	}
	for _, r := range list.APIResources {
		if r.Name == gvr.Resource {
			return true, nil
		}
	}
	return false, nil
}

// stripManagedFields drops managedFields from informer objects: they are
// often most of an object's size and nothing here reads them.
func stripManagedFields(obj any) (any, error) {
	if a, err := meta.Accessor(obj); err == nil && a.GetManagedFields() != nil {
		a.SetManagedFields(nil)
	}
	return obj, nil
}

// discoveryWait bounds how long the first cycle waits for the provider's
// first series discovery; without it every custom metric is unknown.
const discoveryWait = time.Minute

// waitForDiscovery waits until ready reports nil, ctx is done or
// discoveryWait has passed; the loop then starts either way.
func waitForDiscovery(ctx context.Context, ready func() error) {
	ctx, cancel := context.WithTimeout(ctx, discoveryWait)
	defer cancel()
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(context.Context) (bool, error) {
		return ready() == nil, nil
	})
	if err != nil && ctx.Err() != nil {
		klog.InfoS("Starting recommendations before the first series discovery completed", "waited", discoveryWait)
	}
}

// httpShutdownTimeout bounds the graceful shutdown of the REST server.
const httpShutdownTimeout = 5 * time.Second

// serveHTTP serves h on addr until ctx is done, then shuts down gracefully.
func serveHTTP(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down %s: %w", addr, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", addr, err)
	}
	return nil
}
