package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/hpa-engine/hpa-engine/adapter/config"
	"github.com/hpa-engine/hpa-engine/adapter/history"
	"github.com/hpa-engine/hpa-engine/adapter/provider"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
	"github.com/hpa-engine/hpa-engine/recommender"
	"github.com/hpa-engine/hpa-engine/recommender/api"
	"github.com/hpa-engine/hpa-engine/recommender/simulate"
	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

// progressThreshold is the number of steps above which a terminal shows
// progress; shorter replays end before anyone would look.
const progressThreshold = 500

// simulateOptions are the flags of `hpa-engine simulate`: the provider's
// Prometheus and --config flags (as `hpa-engine adapter` has them), the
// manifest, the range and the outputs.
type simulateOptions struct {
	providerOptions

	Filename        string
	From, To, Step  string
	InitialReplicas int32
	// initialSet says --initial-replicas was given.
	initialSet     bool
	PodName        string
	SeriesSelector string
	Output         string
	CSV, SVG       string
	AllSteps       bool

	// The HPA controller's flags that change the algorithm's outcome.
	Tolerance              float64
	DownscaleStabilization time.Duration
}

func newSimulateOptions() *simulateOptions {
	return &simulateOptions{
		providerOptions:        newProviderOptions(),
		From:                   "-24h",
		To:                     "now",
		Step:                   api.DefaultSimulateStep,
		Output:                 "table",
		Tolerance:              recommender.DefaultTolerance,
		DownscaleStabilization: recommender.DefaultDownscaleStabilizationWindow,
	}
}

// AddFlags registers the flags on fs.
func (o *simulateOptions) AddFlags(fs *pflag.FlagSet) {
	o.providerOptions.AddFlags(fs)
	// Discovery runs once over the range: the relist flags mean nothing here.
	for _, name := range []string{"metrics-relist-interval", "metrics-max-age", "max-query-names"} {
		_ = fs.MarkHidden(name)
	}
	if f := fs.Lookup("config"); f != nil {
		f.Usage = "The prometheus-adapter compatible configuration file the adapter uses: its rules render the PromQL of each metric."
	}
	fs.StringVarP(&o.Filename, "filename", "f", o.Filename, "The HorizontalPodAutoscaler (autoscaling/v2) or Autoscaler (autoscaling.hpa-engine.io/v1alpha1) manifest, YAML or JSON; - reads stdin.")
	fs.StringVar(&o.From, "from", o.From, "Start of the replay: RFC 3339, now, or relative to now (-24h, now-90m, -7d).")
	fs.StringVar(&o.To, "to", o.To, "End of the replay, as --from.")
	fs.StringVar(&o.Step, "step", o.Step, "Time between reconciles (the HPA's sync period); at most 11,000 steps per replay.")
	fs.Int32Var(&o.InitialReplicas, "initial-replicas", o.InitialReplicas, "Replicas at --from; minReplicas (1 when it is 0) when unset.")
	fs.StringVar(&o.PodName, "pod-name", o.PodName, "Regular expression the names of the target's pods matched in history (the rule's pod label), whole; <scaleTargetRef.name>-.+ when empty.")
	fs.StringVar(&o.SeriesSelector, "series-selector", o.SeriesSelector, "Label selector that narrows a Pods metric's series by their own labels, e.g. app=web.")
	fs.StringVarP(&o.Output, "output", "o", o.Output, "Output format: table or json.")
	fs.StringVar(&o.CSV, "csv", o.CSV, "Also write every step as CSV to this file.")
	fs.StringVar(&o.SVG, "svg", o.SVG, "Also write a chart (load, desired and current replicas) as SVG to this file.")
	fs.BoolVar(&o.AllSteps, "all-steps", o.AllSteps, "Print every step in the table, not only the steps where something changed.")
	fs.Float64Var(&o.Tolerance, "horizontal-pod-autoscaler-tolerance", o.Tolerance, "The controller's tolerance; a behavior's own tolerance wins.")
	fs.DurationVar(&o.DownscaleStabilization, "horizontal-pod-autoscaler-downscale-stabilization", o.DownscaleStabilization, "The controller's scale-down stabilization window, for specs whose behavior sets none.")
}

// Validate reports every invalid flag at once; it does not touch the network.
func (o *simulateOptions) Validate() []error {
	var errs []error
	if o.Filename == "" {
		errs = append(errs, errors.New("-f/--filename is required"))
	}
	errs = append(errs, o.providerOptions.Validate()...)
	if o.Output != "table" && o.Output != "json" {
		errs = append(errs, fmt.Errorf("--output %q: want table or json", o.Output))
	}
	if o.initialSet && o.InitialReplicas < 0 {
		errs = append(errs, fmt.Errorf("--initial-replicas %d: must not be negative", o.InitialReplicas))
	}
	if o.Tolerance < 0 {
		errs = append(errs, fmt.Errorf("--horizontal-pod-autoscaler-tolerance %v: must not be negative", o.Tolerance))
	}
	if o.DownscaleStabilization < 0 {
		errs = append(errs, fmt.Errorf("--horizontal-pod-autoscaler-downscale-stabilization %s: must not be negative", o.DownscaleStabilization))
	}
	if _, err := labels.Parse(o.SeriesSelector); err != nil {
		errs = append(errs, fmt.Errorf("--series-selector: %w", err))
	}
	if _, err := simulate.ParseStep(o.Step); err != nil {
		errs = append(errs, fmt.Errorf("--step: %w", err))
	}
	return errs
}

func (o *simulateOptions) settings() recommender.Settings {
	tolerance := o.Tolerance
	return recommender.Settings{Tolerance: &tolerance, DownscaleStabilizationWindow: &metav1.Duration{Duration: o.DownscaleStabilization}}
}

func newSimulateCommand() *cobra.Command { return simulateCommand(newSimulateOptions()) }

// simulateCommand builds the command over o, which its flags fill.
func simulateCommand(o *simulateOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "simulate -f MANIFEST --config FILE --prometheus-url URL [--from T] [--to T] [--step D]",
		Short: "Replay an HPA or Autoscaler manifest over the metric history in Prometheus",
		Long: `simulate answers "what would this spec have done?": it replays a
HorizontalPodAutoscaler or Autoscaler manifest from --from to --to, one
reconcile every --step, with the exact autoscaling/v2 algorithm (tolerance,
stabilization windows, policies, bounds), over the metric history Prometheus
holds, and prints the replica timeline: each metric's load and proposal, the
desired and current replicas, what limited them and why.

Each metric's PromQL is the one the adapter would send, rendered by the rules
of --config (the adapter's configuration file), and runs once as a range query
over the whole range.

What is modelled, since the replayed replica count is not the one of the time:
  - Pods metrics: the history is the total over the target's pods, and each
    simulated pod gets total / simulated replicas. The target's pods are the
    series whose pod label matches --pod-name, whole (by default
    <scaleTargetRef.name>-.+, the names of a Deployment's or a StatefulSet's
    pods: a Deployment "web" also matches the pods of a Deployment "web-api"
    in the same namespace, so narrow it then, e.g. --pod-name 'web-[a-z0-9]+-[a-z0-9]{5}').
    --series-selector narrows the series by their own labels when they carry
    the pods' labels (--series-selector app=web).
  - Object and External metrics are used as they are; the algorithm divides
    AverageValue targets by the simulated replicas itself.
  - Resource (cpu, memory) metrics are refused: utilization needs the pods'
    requests of the time, which no series holds.
  - A rescale takes effect at once, every pod is ready, and no update fails.
A step without data fails its metric, as a missing metric does in a cluster.`,
		Example: `  # The last day of a Deployment's HPA, as a table, a CSV and a chart:
  hpa-engine simulate -f hpa.yaml --config adapter-config.yaml \
    --prometheus-url http://prometheus:9090 --from -24h --to now \
    --csv timeline.csv --svg timeline.svg

  # A proposed behavior over a given hour, from 3 replicas, as JSON:
  hpa-engine simulate -f autoscaler.yaml --config adapter-config.yaml \
    --prometheus-url http://prometheus:9090 --from 2026-11-26T08:00:00Z \
    --to 2026-11-26T09:00:00Z --step 15s --initial-replicas 3 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.initialSet = cmd.Flags().Changed("initial-replicas")
			if errs := o.Validate(); len(errs) > 0 {
				return errors.Join(errs...)
			}
			return runSimulate(cmd.Context(), o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func runSimulate(ctx context.Context, o *simulateOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	var manifest []byte
	var err error
	if o.Filename == "-" {
		manifest, err = io.ReadAll(io.LimitReader(stdin, 4<<20))
	} else {
		manifest, err = os.ReadFile(o.Filename)
	}
	if err != nil {
		return fmt.Errorf("-f: %w", err)
	}
	now := time.Now()
	from, err := simulate.ParseTime(o.From, now)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	to, err := simulate.ParseTime(o.To, now)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	step, err := simulate.ParseStep(o.Step)
	if err != nil {
		return fmt.Errorf("--step: %w", err)
	}
	r := simulate.Range{From: from, To: to, Step: step}
	if err := r.Validate(); err != nil {
		return err
	}
	cc, err := o.clientConfig()
	if err != nil {
		return err
	}
	sim, err := newSimulator(o.ConfigFile, cc, o.settings(), nil)
	if err != nil {
		return err
	}
	s := api.Simulation{Manifest: manifest, Range: r, PodName: o.PodName, SeriesSelector: o.SeriesSelector}
	if o.initialSet {
		s.InitialReplicas = &o.InitialReplicas
	}
	var progress *progressLine
	if r.Len() > progressThreshold && isTerminal(stderr) {
		progress = &progressLine{w: stderr}
		sim.progress = progress.update
	}
	start := time.Now()
	tl, err := sim.Simulate(ctx, s)
	if progress != nil {
		progress.done()
	}
	if err != nil {
		return err
	}
	if err := writeFiles(o, tl); err != nil {
		return err
	}
	if o.Output == "json" {
		b, err := json.MarshalIndent(tl, "", "  ")
		if err != nil {
			return err
		}
		_, err = stdout.Write(append(b, '\n'))
		return err
	}
	return writeTimelineTable(stdout, tl, o.AllSteps, time.Since(start))
}

func writeFiles(o *simulateOptions, tl *simulate.Timeline) error {
	for _, f := range []struct {
		path  string
		write func(io.Writer, *simulate.Timeline) error
	}{{o.CSV, simulate.WriteCSV}, {o.SVG, simulate.WriteSVG}} {
		if f.path == "" {
			continue
		}
		var b bytes.Buffer
		if err := f.write(&b, tl); err != nil {
			return err
		}
		if err := os.WriteFile(f.path, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// isTerminal says whether w is a terminal, where a progress line that
// rewrites itself is welcome (and not in a log file or a pipe).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressLine rewrites one line of a terminal, at most once per percent.
type progressLine struct {
	w    io.Writer
	last int
}

func (p *progressLine) update(done, total int) {
	pct := done * 100 / total
	if pct == p.last && done != total {
		return
	}
	p.last = pct
	fmt.Fprintf(p.w, "\rsimulating: %d/%d steps (%d%%)", done, total, pct)
}

func (p *progressLine) done() { fmt.Fprint(p.w, "\r\033[K") }

// writeTimelineTable prints a summary and the steps where something changed
// (all of them with allSteps).
func writeTimelineTable(out io.Writer, tl *simulate.Timeline, allSteps bool, took time.Duration) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")) }
	row("Target:", fmt.Sprintf("%s %s/%s (scales %s/%s)", tl.Kind, tl.Namespace, tl.Name, tl.ScaleTargetRef.Kind, tl.ScaleTargetRef.Name))
	row("Range:", fmt.Sprintf("%s to %s, step %s: %d steps (replayed in %s)", tl.From.UTC().Format(time.RFC3339), tl.To.UTC().Format(time.RFC3339), tl.Step.Duration, len(tl.Steps), took.Round(time.Millisecond)))
	for i, m := range tl.Metrics {
		row(fmt.Sprintf("Metric %d:", i+1), fmt.Sprintf("%s %s, target %s, model %s", m.Type, m.Name, formatMetricTarget(m.Target), m.Model))
		if m.Query != "" {
			row("", "query: "+m.Query)
		}
	}
	rescales, lo, hi, noData := 0, tl.InitialReplicas, tl.InitialReplicas, 0
	for _, s := range tl.Steps {
		if s.Rescaled {
			rescales++
		}
		lo, hi = min(lo, s.Current, s.Desired), max(hi, s.Current, s.Desired)
		for _, l := range s.Load {
			if l == nil {
				noData++
				break
			}
		}
	}
	row("Replicas:", fmt.Sprintf("%d at the start, %d rescales, between %d and %d (bounds %d to %d)", tl.InitialReplicas, rescales, lo, hi, tl.MinReplicas, tl.MaxReplicas))
	if noData > 0 {
		row("No data:", fmt.Sprintf("%d steps had a metric without data (held as a failed metric)", noData))
	}
	_ = tw.Flush()
	b.WriteString("\n")

	header := []string{"TIME"}
	for _, m := range tl.Metrics {
		header = append(header, "LOAD "+m.Name)
	}
	header = append(header, "PROPOSALS", "CURRENT", "DESIRED", "LIMITED", "REASON")
	row(header...)
	shown := 0
	for i, s := range tl.Steps {
		if !allSteps && !changed(tl.Steps, i) {
			continue
		}
		shown++
		cells := []string{s.Time.UTC().Format(time.RFC3339)}
		for j := range tl.Metrics {
			cells = append(cells, orDash(formatLoadCell(s.Load, j)))
		}
		props := make([]string, 0, len(s.Proposals))
		for _, p := range s.Proposals {
			if p.Rule == recommender.RuleFailed {
				props = append(props, "failed")
				continue
			}
			props = append(props, strconv.Itoa(int(p.Replicas)))
		}
		desired := strconv.Itoa(int(s.Desired))
		if s.Rescaled {
			desired += " *"
		}
		cells = append(cells, orDash(strings.Join(props, ",")), strconv.Itoa(int(s.Current)), desired, orDash(s.Limited), orDash(s.Reason))
		row(cells...)
	}
	_ = tw.Flush()
	if !allSteps {
		fmt.Fprintf(&b, "\n%d of %d steps shown (the first, the last and every change; * marks a rescale). --all-steps, --csv or -o json give every step, with -o json the explanation of each.\n", shown, len(tl.Steps))
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// changed says whether step i is worth a row: the first, the last, a
// rescale or recommendation change, or a different reason.
func changed(steps []simulate.Step, i int) bool {
	if i == 0 || i == len(steps)-1 {
		return true
	}
	s, p := steps[i], steps[i-1]
	return s.Rescaled || s.Desired != p.Desired || s.Current != p.Current || s.Limited != p.Limited || s.Reason != p.Reason ||
		noData(s) != noData(p)
}

func noData(s simulate.Step) bool {
	for _, l := range s.Load {
		if l == nil {
			return true
		}
	}
	return false
}

func formatLoadCell(load []*float64, j int) string {
	if j >= len(load) || load[j] == nil {
		return ""
	}
	return strconv.FormatFloat(*load[j], 'g', 6, 64)
}

// promSimulator replays manifests over Prometheus: the api.Simulator of
// `hpa-engine controller` and the engine of `hpa-engine simulate`.
type promSimulator struct {
	configFile string
	settings   recommender.Settings
	querier    hpametrics.Querier
	newQuerier func(*config.Backend) (hpametrics.Querier, error)
	mapper     meta.RESTMapper
	// progress, when set, is told about each step.
	progress func(done, total int)
}

var _ api.Simulator = (*promSimulator)(nil)

// newSimulator builds a simulator over the default backend cc and the rules
// of configFile, read again at every simulation so that edits apply as the
// adapter's hot reload does. mapper resolves Object metrics' kinds; nil
// means the built-in kinds only. Its queries are not counted in
// hpa_engine_prometheus_* (registering those twice would clash with the
// provider's).
func newSimulator(configFile string, cc hpametrics.ClientConfig, settings recommender.Settings, mapper meta.RESTMapper) (*promSimulator, error) {
	if configFile == "" {
		return nil, errors.New("simulate: no adapter configuration file (--config)")
	}
	q, err := provider.NewQuerier("simulate", cc, nil)
	if err != nil {
		return nil, err
	}
	return &promSimulator{
		configFile: configFile,
		settings:   settings,
		querier:    q,
		newQuerier: func(b *config.Backend) (hpametrics.Querier, error) {
			return provider.NewQuerier(b.Name, provider.BackendClientConfig(b, cc.Verb), nil)
		},
		mapper: mapper,
	}, nil
}

// Simulate implements api.Simulator.
func (p *promSimulator) Simulate(ctx context.Context, s api.Simulation) (*simulate.Timeline, error) {
	target, err := parseManifest(s.Manifest)
	if err != nil {
		return nil, err
	}
	rules, err := config.LoadFile(p.configFile)
	if err != nil {
		return nil, fmt.Errorf("adapter configuration: %w", err)
	}
	sel, err := labels.Parse(s.SeriesSelector)
	if err != nil {
		return nil, fmt.Errorf("series selector: %w: %w", simulate.ErrInvalid, err)
	}
	h, err := history.New(history.Config{Rules: rules, PodName: s.PodName, SeriesSelector: sel}, history.Deps{Querier: p.querier, NewQuerier: p.newQuerier, Mapper: p.mapper})
	if err != nil {
		if errors.Is(err, history.ErrBadRequest) {
			return nil, fmt.Errorf("%w: %w", simulate.ErrInvalid, err)
		}
		return nil, err
	}
	return simulate.Run(ctx, simulate.Config{
		Target:          target,
		Range:           s.Range,
		InitialReplicas: s.InitialReplicas,
		Settings:        p.settings,
		Progress:        p.progress,
	}, historySource{h})
}

// historySource adapts the adapter's history to the replay's interface
// (the adapter must not import the recommender).
type historySource struct{ h *history.History }

var _ simulate.History = historySource{}

// Metric implements simulate.History.
func (s historySource) Metric(ctx context.Context, q simulate.Query) (simulate.Series, error) {
	model, ok := simulate.ModelFor(q.Metric.Type)
	if !ok {
		return simulate.Series{}, fmt.Errorf("%s metrics cannot be replayed: %w", q.Metric.Type, simulate.ErrInvalid)
	}
	res, err := s.h.Range(ctx, history.Request{
		Namespace: q.Namespace, ScaleTargetRef: q.ScaleTargetRef, Metric: q.Metric,
		From: q.Range.From, To: q.Range.Time(q.Range.Len() - 1), Step: q.Range.Step,
	})
	switch {
	case err == nil:
	case errors.Is(err, history.ErrUnsupported), errors.Is(err, history.ErrNoRule), errors.Is(err, history.ErrBadRequest):
		return simulate.Series{}, fmt.Errorf("%w: %w", simulate.ErrInvalid, err)
	case errors.Is(err, history.ErrUnavailable):
		return simulate.Series{}, fmt.Errorf("%w: %w", simulate.ErrUnavailable, err)
	default:
		return simulate.Series{}, err
	}
	return simulate.Series{Model: model, Query: res.Query, Values: res.Values}, nil
}

// parseManifest reads an autoscaling/v2 HorizontalPodAutoscaler or an
// autoscaling.hpa-engine.io/v1alpha1 Autoscaler, YAML or JSON, strictly
// (unknown fields are errors, as kubectl --validate=strict). Errors wrap
// simulate.ErrInvalid.
func parseManifest(b []byte) (simulate.Target, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(b, &tm); err != nil {
		return simulate.Target{}, fmt.Errorf("manifest: %w: %w", simulate.ErrInvalid, err)
	}
	hpaGV := autoscalingv2.SchemeGroupVersion.String()
	var t simulate.Target
	var objMeta metav1.ObjectMeta
	switch {
	case tm.APIVersion == hpaGV && tm.Kind == "HorizontalPodAutoscaler":
		var hpa autoscalingv2.HorizontalPodAutoscaler
		if err := yaml.UnmarshalStrict(b, &hpa); err != nil {
			return t, fmt.Errorf("manifest: %w: %w", simulate.ErrInvalid, err)
		}
		t = simulate.Target{Kind: simulate.KindHPA, Spec: hpa.Spec}
		objMeta = hpa.ObjectMeta
	case tm.APIVersion == v1alpha1.SchemeGroupVersion.String() && tm.Kind == v1alpha1.Kind:
		var a v1alpha1.Autoscaler
		if err := yaml.UnmarshalStrict(b, &a); err != nil {
			return t, fmt.Errorf("manifest: %w: %w", simulate.ErrInvalid, err)
		}
		t = simulate.Target{Kind: simulate.KindAutoscaler, Spec: a.Spec.ToHPASpec()}
		objMeta = a.ObjectMeta
	default:
		return t, fmt.Errorf("manifest is %s %s: want %s HorizontalPodAutoscaler or %s %s: %w",
			orDash(tm.APIVersion), orDash(tm.Kind), hpaGV, v1alpha1.SchemeGroupVersion, v1alpha1.Kind, simulate.ErrInvalid)
	}
	t.Name, t.Namespace = objMeta.Name, objMeta.Namespace
	if t.Namespace == "" {
		t.Namespace = metav1.NamespaceDefault
	}
	if t.Spec.ScaleTargetRef.Name == "" {
		return t, fmt.Errorf("manifest: spec.scaleTargetRef.name is required: %w", simulate.ErrInvalid)
	}
	if t.Spec.MaxReplicas < 1 {
		return t, fmt.Errorf("manifest: spec.maxReplicas must be at least 1: %w", simulate.ErrInvalid)
	}
	return t, nil
}
