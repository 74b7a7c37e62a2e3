package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/klog/v2"
	netutils "k8s.io/utils/net"

	"github.com/hpa-engine/hpa-engine/adapter"
	"github.com/hpa-engine/hpa-engine/cmd/hpa-engine/internal/demo"
	"github.com/hpa-engine/hpa-engine/cmd/hpa-engine/internal/demo/cluster"
	"github.com/hpa-engine/hpa-engine/cmd/hpa-engine/internal/demo/load"
	"github.com/hpa-engine/hpa-engine/cmd/hpa-engine/internal/demo/promapi"
	"github.com/hpa-engine/hpa-engine/recommender"
	"github.com/hpa-engine/hpa-engine/recommender/loop"
)

// Fixed ports the demo tries first, so that the URLs stay the same from one
// run to the next; a busy one falls back to a free port.
const (
	demoPrometheusPort = 19090
	demoAdapterPort    = 16443
	demoRESTPort       = 18080
)

// demoOptions are the flags of `hpa-engine demo`.
type demoOptions struct {
	Duration        time.Duration
	Speed           float64
	Interval        time.Duration
	SyncPeriod      time.Duration
	ScaleDownWindow time.Duration
	PrometheusPort  int
	AdapterPort     int
	RESTPort        int
}

func newDemoOptions() *demoOptions {
	return &demoOptions{
		Speed:           load.DefaultSpeed,
		Interval:        5 * time.Second,
		SyncPeriod:      5 * time.Second,
		ScaleDownWindow: 30 * time.Second,
	}
}

// AddFlags registers the flags on fs.
func (o *demoOptions) AddFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&o.Duration, "duration", o.Duration, "How long the demo runs; until Ctrl-C when 0.")
	fs.Float64Var(&o.Speed, "speed", o.Speed, "Demo seconds per wall second: the default runs one day of load in 10 minutes.")
	fs.DurationVar(&o.Interval, "interval", o.Interval, "How often the table of targets is printed.")
	fs.DurationVar(&o.SyncPeriod, "sync-period", o.SyncPeriod, "How often the recommender computes every target's recommendation.")
	fs.DurationVar(&o.ScaleDownWindow, "scale-down-window", o.ScaleDownWindow, "The Autoscalers' scale-down stabilization window (whole seconds).")
	fs.IntVar(&o.PrometheusPort, "prometheus-port", o.PrometheusPort, fmt.Sprintf("Port of the embedded Prometheus API on 127.0.0.1; %d, or a free port if it is busy, when 0.", demoPrometheusPort))
	fs.IntVar(&o.AdapterPort, "adapter-port", o.AdapterPort, fmt.Sprintf("HTTPS port of the custom and external metrics APIs on 127.0.0.1; %d, or a free port if it is busy, when 0.", demoAdapterPort))
	fs.IntVar(&o.RESTPort, "rest-port", o.RESTPort, fmt.Sprintf("Port of the REST API and /metrics on 127.0.0.1; %d, or a free port if it is busy, when 0.", demoRESTPort))
}

// Validate reports every invalid flag at once.
func (o *demoOptions) Validate() []error {
	var errs []error
	if o.Duration < 0 {
		errs = append(errs, fmt.Errorf("--duration %s: must not be negative", o.Duration))
	}
	if !(o.Speed > 0) || o.Speed > 1e7 {
		errs = append(errs, fmt.Errorf("--speed %v: must be in (0, 1e7]", o.Speed))
	}
	if o.Interval <= 0 {
		errs = append(errs, fmt.Errorf("--interval %s: must be positive", o.Interval))
	}
	if o.SyncPeriod <= 0 {
		errs = append(errs, fmt.Errorf("--sync-period %s: must be positive", o.SyncPeriod))
	}
	if o.ScaleDownWindow < 0 || o.ScaleDownWindow > time.Hour {
		errs = append(errs, fmt.Errorf("--scale-down-window %s: must be between 0 and 1h", o.ScaleDownWindow))
	}
	for _, p := range []struct {
		flag string
		port int
	}{{"--prometheus-port", o.PrometheusPort}, {"--adapter-port", o.AdapterPort}, {"--rest-port", o.RESTPort}} {
		if p.port < 0 || p.port > 65535 {
			errs = append(errs, fmt.Errorf("%s %d: must be a port number, or 0", p.flag, p.port))
		}
	}
	return errs
}

func newDemoCommand() *cobra.Command { return demoCommand(newDemoOptions()) }

// demoCommand builds the command over o, which its flags fill.
func demoCommand(o *demoOptions) *cobra.Command {
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the engine end to end on an embedded Prometheus and an in-process cluster",
		Long: `demo runs the adapter, the recommender and the scaler, the production code
paths, on embedded defaults: an in-process Prometheus (PromQL engine and TSDB on
temporary storage) fed by a load generator (a daily wave with bursts) for three
services, scaled by Autoscalers on a Pods metric (web), an Object metric (api)
and an External queue length (worker), and an in-process stand-in for the
cluster that runs their pods. Every --interval it prints each target's load,
proposals, desired and current replicas and the reason. At start it prints the
URLs of the REST API, /metrics, the metrics APIs and Prometheus with curl
commands. It runs until Ctrl-C or --duration.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if errs := o.Validate(); len(errs) > 0 {
				return errors.Join(errs...)
			}
			// The table is the demo's output: the components' info logs
			// would bury it, so they are dropped unless -v asks for them.
			// Errors still reach stderr.
			if v := klogFlags.Lookup("v"); v != nil && v.Value.String() == "0" {
				klog.LogToStderr(false)
				klog.SetOutput(io.Discard)
				defer klog.LogToStderr(true)
			}
			return runDemo(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.Flags().AddGoFlag(klogFlags.Lookup("v"))
	return cmd
}

// demoEndpoints are where the demo serves, with the token its APIs accept.
type demoEndpoints struct {
	Prometheus string
	Adapter    string
	REST       string
	Token      string
}

// scaleEvent is one change of a target's spec.replicas the demo saw.
type scaleEvent struct {
	Target   string
	At       time.Duration // since start
	From, To int32
}

// runDemo runs the demo until ctx is done or o.Duration has passed, writing
// the banner and the tables to out. Every goroutine has stopped and the
// temporary directory is removed when it returns.
func runDemo(ctx context.Context, o *demoOptions, out io.Writer) error {
	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	start := time.Now()
	dir, err := os.MkdirTemp("", "hpa-engine-demo-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			klog.ErrorS(err, "Removing the demo's temporary directory", "dir", dir)
		}
	}()

	store, err := promapi.Open(promapi.Config{Dir: filepath.Join(dir, "tsdb")})
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			klog.ErrorS(err, "Closing the demo's TSDB")
		}
	}()

	var listeners []net.Listener
	defer func() {
		for _, ln := range listeners {
			_ = ln.Close() // already closed by its server, or never served
		}
	}()
	listen := func(port, fixed int) (net.Listener, error) {
		ln, err := demoListen(port, fixed)
		if err == nil {
			listeners = append(listeners, ln)
		}
		return ln, err
	}
	promLn, err := listen(o.PrometheusPort, demoPrometheusPort)
	if err != nil {
		return err
	}
	adapterLn, err := listen(o.AdapterPort, demoAdapterPort)
	if err != nil {
		return err
	}
	restLn, err := listen(o.RESTPort, demoRESTPort)
	if err != nil {
		return err
	}
	token, err := randomToken()
	if err != nil {
		return err
	}
	ep := demoEndpoints{
		Prometheus: "http://" + promLn.Addr().String(),
		Adapter:    "https://" + adapterLn.Addr().String(),
		REST:       "http://" + restLn.Addr().String(),
		Token:      token,
	}

	// The cluster stand-in and the load on it.
	targets := demo.Targets()
	ccfg := cluster.Config{Namespace: demo.Namespace}
	lcfg := load.Config{Namespace: demo.Namespace, Speed: o.Speed, Seed: 7}
	for _, t := range targets {
		ccfg.Workloads = append(ccfg.Workloads, t.Workload)
		ccfg.Autoscalers = append(ccfg.Autoscalers, t.Autoscaler(o.ScaleDownWindow))
		lcfg.Services = append(lcfg.Services, t.Load)
	}
	cl, err := cluster.New(ccfg)
	if err != nil {
		return err
	}
	gen, err := load.New(lcfg, load.Deps{Storage: store, Pods: cl})
	if err != nil {
		return err
	}
	// The first samples are in before the provider's first series
	// discovery, so that it finds every metric at once.
	if err := cl.Reconcile(ctx); err != nil {
		return err
	}
	if err := gen.Tick(ctx); err != nil {
		return err
	}

	// The production components over the stand-in.
	configFile := filepath.Join(dir, "adapter-config.yaml")
	if err := os.WriteFile(configFile, demo.AdapterConfig(), 0o600); err != nil {
		return fmt.Errorf("write adapter configuration: %w", err)
	}
	co := newControllerOptions()
	co.ConfigFile = configFile
	co.Prometheus.URL = ep.Prometheus
	co.SyncPeriod = o.SyncPeriod
	co.REST.Address = restLn.Addr().String()
	co.REST.Auth = true
	cfg, err := co.Config()
	if err != nil {
		return err
	}
	authn := bearertoken.New(tokenfile.New(map[string]*user.DefaultInfo{
		token: {Name: "demo", Groups: []string{user.AllAuthenticated}},
	}))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	parts, err := buildController(cfg, controllerClients{
		Kube:              cl.Kube,
		Dynamic:           cl.Dynamic,
		Metadata:          cl.Metadata,
		Discovery:         cl.Discovery,
		Scales:            cl,
		Mapper:            cl.Mapper,
		RESTAuthenticator: authn,
	}, reg)
	if err != nil {
		return err
	}
	defer parts.stop()

	serving, err := demoSecureServing(adapterLn)
	if err != nil {
		return err
	}
	adapterServer, err := adapter.New(adapter.Config{
		SecureServing:   serving,
		Authenticator:   authn,
		Authorizer:      authorizerfactory.NewAlwaysAllowAuthorizer(),
		ShutdownTimeout: time.Second,
		RequestTimeout:  10 * time.Second,
	}, adapter.Deps{
		Custom:     parts.Provider,
		External:   parts.Provider,
		Metrics:    promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
		Ready:      parts.Provider.Ready,
		Registerer: reg,
	})
	if err != nil {
		return err
	}

	printBanner(out, ep, o)
	d := &display{
		out: out, targets: targets, cluster: cl, gen: gen, store: parts.Store,
		start: start, ansi: demoIsTerminal(out), events: map[string]int32{},
	}
	err = runAll(ctx, append(parts.runners,
		cl.Run,
		gen.Run,
		func(ctx context.Context) error { return serveListener(ctx, promLn, store.Handler()) },
		func(ctx context.Context) error { return serveListener(ctx, restLn, parts.REST) },
		adapterServer.Run,
		d.run(o.Interval),
	)...)
	d.printSummary(d.timeline())
	return err
}

// demoListen listens on 127.0.0.1: on port when set, else on the fixed
// port when it is free, else on any free port.
func demoListen(port, fixed int) (net.Listener, error) {
	if port != 0 {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("listen on port %d: %w", port, err)
		}
		return ln, nil
	}
	if ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(fixed))); err == nil {
		return ln, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on a free port: %w", err)
	}
	return ln, nil
}

// demoSecureServing serves HTTPS on ln with a self-signed certificate kept
// in memory (curl -k).
func demoSecureServing(ln net.Listener) (*server.SecureServingInfo, error) {
	ss := genericoptions.NewSecureServingOptions()
	ss.Listener = ln
	ss.BindAddress = netutils.ParseIPSloppy("127.0.0.1")
	ss.BindPort = ln.Addr().(*net.TCPAddr).Port
	ss.ServerCert.CertDirectory = ""
	ss.ServerCert.PairName = "hpa-engine-demo"
	if err := ss.MaybeDefaultWithSelfSignedCerts("localhost", nil, []net.IP{netutils.ParseIPSloppy("127.0.0.1")}); err != nil {
		return nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	var serving *server.SecureServingInfo
	if err := ss.ApplyTo(&serving); err != nil {
		return nil, fmt.Errorf("secure serving: %w", err)
	}
	return serving, nil
}

func randomToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// demoCurl is one printed command: what it shows and how to run it.
type demoCurl struct {
	What     string
	URL      string
	Token    bool
	Insecure bool
}

// demoCurls are the commands the banner prints; the demo's test runs each.
func demoCurls(ep demoEndpoints) []demoCurl {
	ns := demo.Namespace
	return []demoCurl{
		{What: "Recommendations with their explanations (REST API)", URL: ep.REST + "/api/v1/recommendations", Token: true},
		{What: "One target's recommendation", URL: ep.REST + "/api/v1/recommendations/" + ns + "/Autoscaler/web", Token: true},
		{What: "The engine's own metrics", URL: ep.REST + "/metrics"},
		{What: "Custom metrics API: the web pods' request rates", URL: ep.Adapter + "/apis/custom.metrics.k8s.io/v1beta2/namespaces/" + ns + "/pods/*/http_requests_per_second", Token: true, Insecure: true},
		{What: "Custom metrics API: the api Service's request rate", URL: ep.Adapter + "/apis/custom.metrics.k8s.io/v1beta2/namespaces/" + ns + "/services/api/requests_per_second", Token: true, Insecure: true},
		{What: "External metrics API: the jobs queue", URL: ep.Adapter + "/apis/external.metrics.k8s.io/v1beta1/namespaces/" + ns + "/queue_messages_ready?labelSelector=queue%3D" + demo.Queue, Token: true, Insecure: true},
		{What: "The embedded Prometheus", URL: ep.Prometheus + "/api/v1/query?query=sum+by+(service)+(" + load.PodRequestsSeries + ")"},
	}
}

func (c demoCurl) command(token string) string {
	s := "curl -s"
	if c.Insecure {
		s += "k"
	}
	if c.Token {
		s += " -H 'Authorization: Bearer " + token + "'"
	}
	return s + " '" + c.URL + "'"
}

func printBanner(out io.Writer, ep demoEndpoints, o *demoOptions) {
	fmt.Fprintf(out, "hpa-engine demo: adapter, recommender and scaler on an embedded Prometheus and an in-process cluster\n")
	fmt.Fprintf(out, "  one day of load every %s; scale-down window %s; Ctrl-C to stop\n\n",
		(time.Duration(float64(load.Day) / o.Speed)).Round(time.Second), o.ScaleDownWindow)
	fmt.Fprintf(out, "  REST API       %s/api/v1/recommendations (bearer token %s)\n", ep.REST, ep.Token)
	fmt.Fprintf(out, "  /metrics       %s/metrics\n", ep.REST)
	fmt.Fprintf(out, "  metrics APIs   %s/apis/custom.metrics.k8s.io, %s/apis/external.metrics.k8s.io (self-signed)\n", ep.Adapter, ep.Adapter)
	fmt.Fprintf(out, "  Prometheus     %s/api/v1/query\n\n", ep.Prometheus)
	for _, c := range demoCurls(ep) {
		fmt.Fprintf(out, "  # %s\n  %s\n", c.What, c.command(ep.Token))
	}
	fmt.Fprintln(out)
}

// serveListener serves h on ln until ctx is done, then shuts down
// gracefully.
func serveListener(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), httpShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down %s: %w", ln.Addr(), err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	return nil
}

// demoIsTerminal reports whether out is a terminal, where the table may use
// ANSI bold for headers and changes.
func demoIsTerminal(out io.Writer) bool {
	f, ok := out.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// display prints the table of targets and records the scale events.
type display struct {
	out     io.Writer
	targets []demo.Target
	cluster *cluster.Cluster
	gen     *load.Generator
	store   loop.Store
	start   time.Time
	ansi    bool

	mu     sync.Mutex
	events map[string]int32
	log    []scaleEvent
}

func (d *display) timeline() []scaleEvent {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]scaleEvent(nil), d.log...)
}

// eventPoll is how often the display looks for scale changes between
// tables, so that the timeline has the second each one happened.
const eventPoll = 500 * time.Millisecond

// run prints a table every interval and a line for each scale change as it
// happens, until ctx is done.
func (d *display) run(interval time.Duration) func(context.Context) error {
	return func(ctx context.Context) error {
		poll := time.NewTicker(eventPoll)
		defer poll.Stop()
		table := time.NewTicker(interval)
		defer table.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-poll.C:
				d.recordChanges(ctx)
			case <-table.C:
				d.recordChanges(ctx)
				d.printTable(ctx)
			}
		}
	}
}

func (d *display) recordChanges(ctx context.Context) {
	for _, t := range d.targets {
		spec, _, err := d.cluster.Replicas(ctx, demo.Namespace, t.Workload.Name)
		if err != nil {
			continue // only when ctx is done: the fake answers otherwise
		}
		d.mu.Lock()
		prev, seen := d.events[t.Name]
		d.events[t.Name] = spec
		var ev *scaleEvent
		if seen && prev != spec {
			ev = &scaleEvent{Target: t.Name, At: time.Since(d.start).Round(time.Second), From: prev, To: spec}
			d.log = append(d.log, *ev)
		}
		d.mu.Unlock()
		if ev != nil {
			verb := "up"
			if ev.To < ev.From {
				verb = "down"
			}
			line := fmt.Sprintf("%s +%s %s scaled %s %d -> %d", d.bold("==>"), ev.At, t.Name, verb, ev.From, ev.To)
			// The store holds the latest recommendation only: its reason is
			// this change's when it is the one that made it.
			if rec, ok := d.store.Get(demo.Namespace, loop.KindAutoscaler, t.Name); ok &&
				rec.Result.CurrentReplicas == ev.From && rec.Result.DesiredReplicas == ev.To {
				line += ": " + reasonOf(rec)
			}
			fmt.Fprintln(d.out, line)
		}
	}
}

func (d *display) bold(s string) string {
	if d.ansi {
		return "\x1b[1m" + s + "\x1b[0m"
	}
	return s
}

func (d *display) printTable(ctx context.Context) {
	now := time.Now()
	demoTime := d.gen.Clock(now) % load.Day
	header := fmt.Sprintf("+%s  demo time %02d:%02d", now.Sub(d.start).Round(time.Second),
		int(demoTime/time.Hour), int(demoTime%time.Hour/time.Minute))
	rows := [][]string{{"TARGET", "LOAD", "METRIC", "CURRENT/TARGET", "PROPOSAL", "DESIRED", "REPLICAS", "READY", "REASON"}}
	for _, t := range d.targets {
		row := []string{t.Name, "-", t.Metric, "-", "-", "-", "-", "-", "waiting for the first recommendation"}
		if v, ok := d.gen.Load(t.Name); ok {
			row[1] = fmt.Sprintf("%.0f %s", v, t.Unit)
		}
		if spec, ready, err := d.cluster.Replicas(ctx, demo.Namespace, t.Workload.Name); err == nil {
			row[6], row[7] = strconv.Itoa(int(spec)), strconv.Itoa(int(ready))
		}
		if rec, ok := d.store.Get(demo.Namespace, loop.KindAutoscaler, t.Name); ok {
			// One value and proposal per metric, comma-separated.
			var values, proposals []string
			for _, p := range rec.Result.Proposals {
				if p.Error != "" {
					values, proposals = append(values, "error"), append(proposals, "-")
					continue
				}
				values = append(values, demoQuantity(p.Current.AverageValue, p.Current.Value)+"/"+
					demoQuantity(p.Target.AverageValue, p.Target.Value))
				proposals = append(proposals, strconv.Itoa(int(p.Replicas)))
			}
			if len(values) > 0 {
				row[3], row[4] = strings.Join(values, ", "), strings.Join(proposals, ", ")
			}
			if rec.Error == "" {
				row[5] = strconv.Itoa(int(rec.Result.DesiredReplicas))
			}
			row[8] = reasonOf(rec)
		}
		rows = append(rows, row)
	}
	fmt.Fprintf(d.out, "%s\n%s\n", d.bold(header), formatRows(rows, d.bold))
}

// formatRows aligns rows into columns, two spaces apart; the last column is
// not padded.
func formatRows(rows [][]string, header func(string) string) string {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	var b []byte
	for n, r := range rows {
		line := ""
		for i, c := range r {
			if i < len(r)-1 {
				line += fmt.Sprintf("%-*s  ", widths[i], c)
			} else {
				line += c
			}
		}
		if n == 0 {
			line = header(line)
		}
		b = append(b, line...)
		if n < len(rows)-1 {
			b = append(b, '\n')
		}
	}
	return string(b)
}

// demoQuantity shows the average value if set, else the value, with at
// most one decimal: the quantities' own strings ("41250m") read badly.
func demoQuantity(avg, val *resource.Quantity) string {
	q := avg
	if q == nil {
		q = val
	}
	if q == nil {
		return "-"
	}
	return strconv.FormatFloat(math.Round(q.AsApproximateFloat64()*10)/10, 'f', -1, 64)
}

// reasonOf is the one-line reason of a recommendation: the step that held
// the result back from the proposals, the rescale reason, or why nothing
// changed, taken from the recommender's explanation.
func reasonOf(rec loop.Recommendation) string {
	if rec.Error != "" {
		return "error: " + rec.Error
	}
	r := rec.Result
	for i := len(r.Steps) - 1; i >= 0; i-- {
		s := r.Steps[i]
		switch s.Kind {
		case recommender.StepStabilized:
			return fmt.Sprintf("stabilized %d -> %d over the %d s window (%s)", s.From, s.To, ptrOr(s.WindowSeconds), s.Reason)
		case recommender.StepLimited:
			if s.Policy != "" {
				return fmt.Sprintf("limited %d -> %d by %s", s.From, s.To, s.Policy)
			}
			return fmt.Sprintf("limited %d -> %d (%s)", s.From, s.To, s.Reason)
		case recommender.StepAboveMax, recommender.StepBelowMin, recommender.StepFromZeroMin, recommender.StepScalingDisabled:
			return fmt.Sprintf("%s: %d -> %d", s.Kind, s.From, s.To)
		}
	}
	if r.Rescale {
		return selectorNoise.ReplaceAllString(r.RescaleReason, "")
	}
	if r.Error != "" {
		return "error: " + r.Error
	}
	if len(r.Proposals) > 0 && r.Proposals[0].Rule == recommender.RuleWithinTolerance {
		return "within tolerance"
	}
	for _, c := range r.Status.Conditions {
		if c.Type == autoscalingv2.ScalingLimited && c.Status == corev1.ConditionTrue {
			return c.Reason + ": " + c.Message
		}
	}
	return "no change"
}

// selectorNoise is the Go rendering of a metric's selector that upstream's
// rescale reasons carry ("external metric q(&LabelSelector{...}) above
// target"); the table drops it to stay on one line.
var selectorNoise = regexp.MustCompile(`\((nil|&LabelSelector\{.*\})\)`)

func ptrOr(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// printSummary prints the scale events of the run.
func (d *display) printSummary(events []scaleEvent) {
	fmt.Fprintf(d.out, "\n%s\n", d.bold(fmt.Sprintf("demo stopped after %s; %d scale events", time.Since(d.start).Round(time.Second), len(events))))
	for _, e := range events {
		fmt.Fprintf(d.out, "  +%-6s %-7s %d -> %d\n", e.At, e.Target, e.From, e.To)
	}
}
