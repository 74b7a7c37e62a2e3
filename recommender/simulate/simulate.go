package simulate

import (
	"context"
	"fmt"
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// The kinds of autoscaler a Target can be; the names are the loop's.
const (
	KindHPA        = "HorizontalPodAutoscaler"
	KindAutoscaler = "Autoscaler"
)

// MaxSteps bounds a range: Prometheus refuses range queries with more points
// (11,000) per series, and one query per metric covers the whole range.
const MaxSteps = 11000

// simulatedSelector stands for scale.status.selector: upstream refuses to
// compute without one, and the simulated pods are given, not selected.
const simulatedSelector = "hpa-engine.io/simulated=true"

// podAge is how long before the range the simulated pods became ready: long
// enough for no initialization period or readiness delay to apply.
const podAge = 24 * time.Hour

// Target is the autoscaler replayed.
type Target struct {
	// Kind is KindHPA or KindAutoscaler. An Autoscaler is applied as the
	// engine's scaler applies it: no rescale on a result whose metrics were
	// all invalid.
	Kind      string
	Namespace string
	Name      string
	// Spec is the autoscaling/v2 spec (an Autoscaler's converted).
	Spec autoscalingv2.HorizontalPodAutoscalerSpec
}

// Range is the replayed time span: every step from From to To inclusive.
type Range struct {
	From time.Time
	To   time.Time
	Step time.Duration
}

// Len is the number of steps of a valid range.
func (r Range) Len() int { return int(r.To.Sub(r.From)/r.Step) + 1 }

// Time is the time of step i.
func (r Range) Time(i int) time.Time { return r.From.Add(time.Duration(i) * r.Step) }

// Validate checks that the range has a positive step of whole milliseconds
// (what Prometheus resolves), ends no earlier than it starts and has at most
// MaxSteps steps. Errors wrap ErrInvalid.
func (r Range) Validate() error {
	switch {
	case r.From.IsZero() || r.To.IsZero():
		return fmt.Errorf("range needs a start and an end: %w", ErrInvalid)
	case r.Step < time.Millisecond || r.Step%time.Millisecond != 0:
		return fmt.Errorf("step %s: must be a positive whole number of milliseconds: %w", r.Step, ErrInvalid)
	case r.To.Before(r.From):
		return fmt.Errorf("range ends (%s) before it starts (%s): %w", r.To.Format(time.RFC3339), r.From.Format(time.RFC3339), ErrInvalid)
	}
	// Compare in steps, not durations: a range of decades overflows neither.
	if steps := r.To.Sub(r.From) / r.Step; steps >= MaxSteps {
		return fmt.Errorf("range of %d steps of %s: at most %d steps: %w", steps+1, r.Step, MaxSteps, ErrInvalid)
	}
	return nil
}

// Model says how a metric's history stands in for the observations of a
// target whose replica count differs from the one in history.
type Model string

// The models.
const (
	// ModelTotal: the history is the total over the target's pods (a Pods
	// metric); each simulated pod gets total / simulated replicas.
	ModelTotal Model = "TotalOverPods"
	// ModelValue: the history is the object's value, used as it is (an
	// Object metric).
	ModelValue Model = "Value"
	// ModelValues: the history is one value per series, used as they are
	// and summed by the algorithm (an External metric).
	ModelValues Model = "Values"
)

// ModelFor returns the model of a metric type, and false for the types the
// replay cannot model: Resource and ContainerResource utilization depends
// on pod requests and per-pod usage that no metric history holds.
func ModelFor(t autoscalingv2.MetricSourceType) (Model, bool) {
	switch t {
	case autoscalingv2.PodsMetricSourceType:
		return ModelTotal, true
	case autoscalingv2.ObjectMetricSourceType:
		return ModelValue, true
	case autoscalingv2.ExternalMetricSourceType:
		return ModelValues, true
	}
	return "", false
}

// Query asks a History for one metric over a range.
type Query struct {
	// Namespace is the autoscaler's.
	Namespace string
	// ScaleTargetRef is the spec's, for histories that pick the target's
	// pods by its name.
	ScaleTargetRef autoscalingv2.CrossVersionObjectReference
	// Metric is one metric of the defaulted spec.
	Metric autoscalingv2.MetricSpec
	Range  Range
}

// Series is a metric's history over a range.
type Series struct {
	// Model must be ModelFor the metric's type.
	Model Model
	// Query describes where the values come from (the PromQL), for people.
	Query string
	// Values has one entry per step of the range: the values at that time,
	// none when there was no data. ModelTotal and ModelValue take exactly
	// one value per step with data.
	Values [][]float64
}

// History reads metric history. Implementations do their I/O here, once per
// metric for the whole range.
type History interface {
	Metric(ctx context.Context, q Query) (Series, error)
}

// Config is one replay.
type Config struct {
	Target Target
	Range  Range
	// InitialReplicas is the replica count at the start; nil means
	// minReplicas, or 1 when minReplicas is 0.
	InitialReplicas *int32
	// Settings are the controller flags (tolerance, downscale window, ...).
	Settings recommender.Settings
	// Progress, when set, is called after each step with the steps done and
	// the total.
	Progress func(done, total int)
}

// Timeline is a replay's outcome.
type Timeline struct {
	Kind           string                                    `json:"kind"`
	Namespace      string                                    `json:"namespace"`
	Name           string                                    `json:"name"`
	ScaleTargetRef autoscalingv2.CrossVersionObjectReference `json:"scaleTargetRef"`
	From           time.Time                                 `json:"from"`
	To             time.Time                                 `json:"to"`
	Step           metav1.Duration                           `json:"step"`
	// InitialReplicas is the replica count the replay started from.
	InitialReplicas int32 `json:"initialReplicas"`
	// MinReplicas and MaxReplicas are the defaulted spec's bounds.
	MinReplicas int32 `json:"minReplicas"`
	MaxReplicas int32 `json:"maxReplicas"`
	// Metrics describes each metric of the defaulted spec, in order; a
	// Step's Load and Proposals follow the same order.
	Metrics []Metric `json:"metrics"`
	Steps   []Step   `json:"steps"`
}

// Metric describes one metric of a timeline.
type Metric struct {
	Type   autoscalingv2.MetricSourceType `json:"type"`
	Name   string                         `json:"name"`
	Target autoscalingv2.MetricTarget     `json:"target"`
	Model  Model                          `json:"model"`
	Query  string                         `json:"query,omitempty"`
}

// Step is one reconcile of the replay.
type Step struct {
	Time time.Time `json:"time"`
	// Load is each metric's history at Time, as the history gives it (a Pods
	// metric's total, an Object's value, the sum of an External's values);
	// nil when there was no data.
	Load []*float64 `json:"load"`
	// Proposals are each metric's proposal; empty when no metric was
	// computed (a bound brought back into range, scaling disabled).
	Proposals []Proposal `json:"proposals,omitempty"`
	// Current is the replica count at Time, before this step's decision.
	Current int32 `json:"current"`
	// Desired is the recommendation; Rescaled says whether it was applied,
	// making it the next step's Current.
	Desired  int32 `json:"desired"`
	Rescaled bool  `json:"rescaled"`
	// Limited is the ScalingLimited reason when a bound or policy limited
	// the result (TooManyReplicas, ScaleUpLimit, ...).
	Limited string `json:"limited,omitempty"`
	// Reason is the AbleToScale reason (SucceededRescale,
	// ScaleDownStabilized, ReadyForNewScale, ...).
	Reason string `json:"reason,omitempty"`
	// Explanation is the recommender's, one line per fact.
	Explanation []string `json:"explanation"`
}

// Proposal is one metric's proposal at one step.
type Proposal struct {
	Replicas int32            `json:"replicas"`
	Rule     recommender.Rule `json:"rule"`
	Error    string           `json:"error,omitempty"`
}

// Run reads the history of every metric of cfg's spec, once per metric for
// the whole range, and replays it (see Replay).
func Run(ctx context.Context, cfg Config, h History) (*Timeline, error) {
	spec, err := check(cfg)
	if err != nil {
		return nil, err
	}
	series := make([]Series, len(spec.Metrics))
	for i, m := range spec.Metrics {
		s, err := h.Metric(ctx, Query{Namespace: cfg.Target.Namespace, ScaleTargetRef: spec.ScaleTargetRef, Metric: m, Range: cfg.Range})
		if err != nil {
			return nil, fmt.Errorf("history of metric %d (%s %s): %w", i+1, m.Type, metricName(m), err)
		}
		series[i] = s
	}
	return Replay(cfg, series)
}

// check validates cfg and returns its defaulted spec.
func check(cfg Config) (autoscalingv2.HorizontalPodAutoscalerSpec, error) {
	if cfg.Target.Kind != KindHPA && cfg.Target.Kind != KindAutoscaler {
		return autoscalingv2.HorizontalPodAutoscalerSpec{}, fmt.Errorf("kind %q: want %s or %s: %w", cfg.Target.Kind, KindHPA, KindAutoscaler, ErrInvalid)
	}
	if err := cfg.Range.Validate(); err != nil {
		return autoscalingv2.HorizontalPodAutoscalerSpec{}, err
	}
	if cfg.InitialReplicas != nil && *cfg.InitialReplicas < 0 {
		return autoscalingv2.HorizontalPodAutoscalerSpec{}, fmt.Errorf("initial replicas %d: must not be negative: %w", *cfg.InitialReplicas, ErrInvalid)
	}
	spec := recommender.DefaultSpec(cfg.Target.Spec, downscaleWindow(cfg.Settings))
	for i, m := range spec.Metrics {
		if _, ok := ModelFor(m.Type); !ok {
			if len(cfg.Target.Spec.Metrics) == 0 {
				return spec, fmt.Errorf("the spec has no metrics, which means CPU utilization: %s metrics cannot be replayed (utilization needs pod requests and per-pod usage no history holds): %w", m.Type, ErrInvalid)
			}
			return spec, fmt.Errorf("metric %d: %s metrics cannot be replayed (utilization needs pod requests and per-pod usage no history holds); use a Pods metric over the same series: %w", i+1, m.Type, ErrInvalid)
		}
	}
	return spec, nil
}

func downscaleWindow(s recommender.Settings) time.Duration {
	if s.DownscaleStabilizationWindow != nil {
		return s.DownscaleStabilizationWindow.Duration
	}
	return recommender.DefaultDownscaleStabilizationWindow
}

// Replay runs the algorithm at every step of cfg's range over series, one
// per metric of the defaulted spec, each with one entry per step. It keeps
// what the controller keeps between reconciles (status, recommendations,
// scale events) and applies each rescale at once. Errors wrap ErrInvalid.
func Replay(cfg Config, series []Series) (*Timeline, error) {
	spec, err := check(cfg)
	if err != nil {
		return nil, err
	}
	n := cfg.Range.Len()
	if len(series) != len(spec.Metrics) {
		return nil, fmt.Errorf("%d series for %d metrics: %w", len(series), len(spec.Metrics), ErrInvalid)
	}
	tl := &Timeline{
		Kind:           cfg.Target.Kind,
		Namespace:      cfg.Target.Namespace,
		Name:           cfg.Target.Name,
		ScaleTargetRef: spec.ScaleTargetRef,
		From:           cfg.Range.From,
		To:             cfg.Range.Time(n - 1),
		Step:           metav1.Duration{Duration: cfg.Range.Step},
		MinReplicas:    *spec.MinReplicas,
		MaxReplicas:    spec.MaxReplicas,
		Metrics:        make([]Metric, len(spec.Metrics)),
		Steps:          make([]Step, 0, n),
	}
	for i, m := range spec.Metrics {
		model, _ := ModelFor(m.Type)
		s := series[i]
		if s.Model != model {
			return nil, fmt.Errorf("metric %d: history of model %q for a %s metric, want %q: %w", i+1, s.Model, m.Type, model, ErrInvalid)
		}
		if len(s.Values) != n {
			return nil, fmt.Errorf("metric %d: history has %d steps, the range %d: %w", i+1, len(s.Values), n, ErrInvalid)
		}
		tl.Metrics[i] = Metric{Type: m.Type, Name: metricName(m), Target: metricTarget(m), Model: model, Query: s.Query}
	}

	current := max(*spec.MinReplicas, 1)
	if cfg.InitialReplicas != nil {
		current = *cfg.InitialReplicas
	}
	tl.InitialReplicas = current

	r := replayer{cfg: cfg, spec: spec, series: series, pods: newPods(spec.ScaleTargetRef.Name, cfg.Range.From.Add(-podAge))}
	for i := range n {
		step, next, err := r.step(i, current)
		if err != nil {
			return nil, fmt.Errorf("step %d (%s): %w", i, cfg.Range.Time(i).Format(time.RFC3339), err)
		}
		tl.Steps = append(tl.Steps, step)
		current = next
		if cfg.Progress != nil {
			cfg.Progress(i+1, n)
		}
	}
	return tl, nil
}

// replayer is the state carried between steps.
type replayer struct {
	cfg    Config
	spec   autoscalingv2.HorizontalPodAutoscalerSpec
	series []Series
	pods   *pods
	status autoscalingv2.HorizontalPodAutoscalerStatus
	hist   recommender.History
}

// step runs reconcile i with current replicas and returns the step and the
// replicas after it.
func (r *replayer) step(i int, current int32) (Step, int32, error) {
	now := r.cfg.Range.Time(i)
	step := Step{Time: now, Load: make([]*float64, len(r.series))}
	obs := make([]recommender.Observation, len(r.series))
	podList := r.pods.first(int(current))
	for j, s := range r.series {
		obs[j], step.Load[j] = observe(s.Model, s.Values[i], podList, now)
	}
	res, err := recommender.Recommend(recommender.Input{
		Namespace:  r.cfg.Target.Namespace,
		Name:       r.cfg.Target.Name,
		Generation: 1,
		Spec:       r.cfg.Target.Spec,
		Status:     r.status,
		Target: recommender.Target{
			SpecReplicas:   current,
			StatusReplicas: current,
			Selector:       simulatedSelector,
			Pods:           podList,
		},
		Observations: obs,
		Settings:     r.cfg.Settings,
		History:      r.hist,
		Now:          now,
	})
	if err != nil {
		return Step{}, 0, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	prev := r.status
	r.hist, r.status = res.History, res.Status

	apply := res.Rescale && res.DesiredReplicas != res.CurrentReplicas
	if apply && r.cfg.Target.Kind == KindAutoscaler && !validMetrics(res) {
		// The engine's scaler does not act on a result none of whose
		// metrics could be used, and keeps what the result assumed of the
		// rescale it did not get as it was.
		apply = false
		r.status.LastScaleTime = prev.LastScaleTime.DeepCopy()
		r.status.Conditions = restoreCondition(r.status.Conditions, prev.Conditions, autoscalingv2.ScaledToZero)
		r.status.Conditions = restoreCondition(r.status.Conditions, prev.Conditions, autoscalingv2.AbleToScale)
	}
	next := current
	if apply {
		// Recorded at the time of the update, as upstream's storeScaleEvent
		// and the engine's scaler do.
		r.hist = recommender.RecordScaleEvent(r.hist, r.cfg.Target.Spec.Behavior, current, res.DesiredReplicas, now)
		next = res.DesiredReplicas
	}

	step.Current, step.Desired, step.Rescaled = res.CurrentReplicas, res.DesiredReplicas, apply
	for _, p := range res.Proposals {
		step.Proposals = append(step.Proposals, Proposal{Replicas: p.Replicas, Rule: p.Rule, Error: p.Error})
	}
	for _, c := range r.status.Conditions {
		switch {
		case c.Type == autoscalingv2.ScalingLimited && c.Status == corev1.ConditionTrue:
			step.Limited = c.Reason
		case c.Type == autoscalingv2.AbleToScale:
			step.Reason = c.Reason
		}
	}
	step.Explanation = res.Lines()
	return step, next, nil
}

// validMetrics is the scaler's test before it rescales: ScalingActive True,
// or no metric computed at all (a bound brought back into range).
func validMetrics(res recommender.Result) bool {
	if len(res.Proposals) == 0 {
		return true
	}
	for _, c := range res.Status.Conditions {
		if c.Type == autoscalingv2.ScalingActive {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// restoreCondition puts prev's condition of type t back in conds (removing
// it when prev had none).
func restoreCondition(conds, prev []autoscalingv2.HorizontalPodAutoscalerCondition, t autoscalingv2.HorizontalPodAutoscalerConditionType) []autoscalingv2.HorizontalPodAutoscalerCondition {
	out := make([]autoscalingv2.HorizontalPodAutoscalerCondition, 0, len(conds))
	var old *autoscalingv2.HorizontalPodAutoscalerCondition
	for i := range prev {
		if prev[i].Type == t {
			old = &prev[i]
		}
	}
	placed := false
	for _, c := range conds {
		if c.Type != t {
			out = append(out, c)
			continue
		}
		if old != nil {
			out = append(out, *old)
			placed = true
		}
	}
	if old != nil && !placed {
		out = append(out, *old)
	}
	return out
}

// The messages of upstream's metrics clients for an answer without data,
// which the loop gives the algorithm too.
const (
	errNoCustomMetrics   = "no metrics returned from custom metrics API"
	errNoObjectMetric    = "unable to fetch metrics from custom metrics API: no data for the object at this time"
	errNoExternalMetrics = "no metrics returned from external metrics API"
)

// maxMilli bounds a value so that its milli-units fit an int64 with room
// for the algorithm's sums.
const maxMilli = 1 << 53

// observe turns the values of one step into the observation the metrics
// client would give, and the step's load.
func observe(model Model, values []float64, podList []recommender.Pod, now time.Time) (recommender.Observation, *float64) {
	finite := values[:0:0]
	for _, v := range values {
		// The adapter drops non-finite samples as missing, never 0.
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			finite = append(finite, v)
		}
	}
	switch model {
	case ModelTotal:
		if len(finite) == 0 {
			return recommender.Observation{Error: errNoCustomMetrics}, nil
		}
		total := finite[0]
		milli, ok := toMilli(total)
		if !ok {
			return recommender.Observation{Error: outOfRange(total)}, &total
		}
		if len(podList) == 0 {
			return recommender.Observation{Error: errNoCustomMetrics}, &total
		}
		return recommender.Observation{PodMetrics: share(milli, podList, now), Timestamp: now}, &total
	case ModelValue:
		if len(finite) == 0 {
			return recommender.Observation{Error: errNoObjectMetric}, nil
		}
		v := finite[0]
		milli, ok := toMilli(v)
		if !ok {
			return recommender.Observation{Error: outOfRange(v)}, &v
		}
		return recommender.Observation{Value: milli, Timestamp: now}, &v
	case ModelValues:
		if len(finite) == 0 {
			return recommender.Observation{Error: errNoExternalMetrics}, nil
		}
		var sum float64
		obs := recommender.Observation{Values: make([]int64, 0, len(finite)), Timestamp: now}
		for _, v := range finite {
			sum += v
			milli, ok := toMilli(v)
			if !ok {
				return recommender.Observation{Error: outOfRange(v)}, &sum
			}
			obs.Values = append(obs.Values, milli)
		}
		return obs, &sum
	}
	return recommender.Observation{Error: fmt.Sprintf("unknown model %q", model)}, nil
}

func toMilli(v float64) (int64, bool) {
	m := math.Round(v * 1000)
	if m > maxMilli || m < -maxMilli {
		return 0, false
	}
	return int64(m), true
}

func outOfRange(v float64) string {
	return fmt.Sprintf("value %g is out of the range the replay models", v)
}

// share divides a total in milli-units over the pods so that the values sum
// to it exactly: the algorithm averages them back to total / pods.
func share(total int64, podList []recommender.Pod, now time.Time) []recommender.PodMetric {
	n := int64(len(podList))
	base, rem := total/n, total%n
	out := make([]recommender.PodMetric, len(podList))
	for i, p := range podList {
		v := base
		switch {
		case rem > 0 && int64(i) < rem:
			v++
		case rem < 0 && int64(i) < -rem:
			v--
		}
		out[i] = recommender.PodMetric{Pod: p.Name, Value: v, Timestamp: now, Window: metav1.Duration{Duration: time.Minute}}
	}
	return out
}

// pods are the simulated pods, created as the replica count first needs
// them and reused after.
type pods struct {
	prefix string
	since  time.Time
	list   []recommender.Pod
}

func newPods(target string, since time.Time) *pods {
	return &pods{prefix: target + "-sim-", since: since}
}

func (p *pods) first(n int) []recommender.Pod {
	for len(p.list) < n {
		since := p.since
		p.list = append(p.list, recommender.Pod{
			Name:      fmt.Sprintf("%s%d", p.prefix, len(p.list)),
			Phase:     corev1.PodRunning,
			Ready:     &recommender.PodReadyCondition{Status: corev1.ConditionTrue, LastTransitionTime: since},
			StartTime: &since,
		})
	}
	return p.list[:n:n]
}

func metricName(m autoscalingv2.MetricSpec) string {
	switch {
	case m.Pods != nil:
		return m.Pods.Metric.Name
	case m.Object != nil:
		return m.Object.Metric.Name
	case m.External != nil:
		return m.External.Metric.Name
	case m.Resource != nil:
		return string(m.Resource.Name)
	case m.ContainerResource != nil:
		return string(m.ContainerResource.Name)
	}
	return ""
}

func metricTarget(m autoscalingv2.MetricSpec) autoscalingv2.MetricTarget {
	switch {
	case m.Pods != nil:
		return m.Pods.Target
	case m.Object != nil:
		return m.Object.Target
	case m.External != nil:
		return m.External.Target
	}
	return autoscalingv2.MetricTarget{}
}
