package loop

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	corev1listers "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// Defaults of Config's zero values.
const (
	// DefaultSyncPeriod is upstream's --horizontal-pod-autoscaler-sync-period.
	DefaultSyncPeriod = 15 * time.Second
	// DefaultWorkers bounds the metric source calls and the targets computed
	// at the same time.
	DefaultWorkers = 8
)

// Config is the loop's plain configuration.
type Config struct {
	// SyncPeriod is how often a cycle starts; DefaultSyncPeriod when zero.
	SyncPeriod time.Duration
	// CycleTimeout bounds one cycle (its metric calls and scale reads); the
	// sync period when zero.
	CycleTimeout time.Duration
	// Workers is how many calls and targets are worked on at once;
	// DefaultWorkers when zero.
	Workers int
	// Settings are the HPA controller's tuning flags the algorithm reads.
	Settings recommender.Settings
}

// Deps are the loop's collaborators.
type Deps struct {
	// Sources list the targets; at least one is required.
	Sources []TargetSource
	// Scales reads each target's scale. Required.
	Scales ScaleReader
	// Pods lists the pods a scale selector matches. Required.
	Pods corev1listers.PodLister
	// Metrics answers Pods, Object and External metrics; nil makes them fail.
	Metrics MetricSource
	// ResourceMetrics answers Resource and ContainerResource metrics; nil
	// makes them fail as on a cluster without metrics.k8s.io.
	ResourceMetrics PodMetricsLister
	// Mapper maps the kinds of Object metrics to resources.
	Mapper RESTMapper
	// Store receives the recommendations; a new MemoryStore when nil.
	Store *MemoryStore
	// Instruments are the loop's metrics; nil records none.
	Instruments *Metrics
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Loop computes a recommendation for every target every sync period.
type Loop struct {
	cfg  Config
	deps Deps

	// cycleMu serializes cycles; states and pods belong to the cycle.
	cycleMu sync.Mutex
	// states is the per-target memory (history, last scale).
	states map[targetKey]*targetState
	// pods holds the algorithm's view of the pods of the last cycle, keyed
	// by the informer's object: cached objects are replaced on change, never
	// modified, so a pointer seen again is a pod that has not changed.
	pods  map[*corev1.Pod]recommender.Pod
	ready atomic.Bool
}

type targetKey struct{ kind, namespace, name string }

// targetState is what the loop remembers of a target between cycles.
type targetState struct {
	uid     string
	history recommender.History
	// lastSpecReplicas is the scale's spec.replicas at the previous cycle;
	// scaleSeen says whether there was one.
	lastSpecReplicas int32
	scaleSeen        bool
	// metricLabels are the metric label values exported for the target.
	metricLabels []string
}

// New checks cfg and deps and returns a loop that has not run yet.
func New(cfg Config, deps Deps) (*Loop, error) {
	var errs []error
	if len(deps.Sources) == 0 {
		errs = append(errs, errors.New("no target source"))
	}
	if deps.Scales == nil {
		errs = append(errs, errors.New("no scale reader"))
	}
	if deps.Pods == nil {
		errs = append(errs, errors.New("no pod lister"))
	}
	if cfg.SyncPeriod < 0 || cfg.CycleTimeout < 0 || cfg.Workers < 0 {
		errs = append(errs, errors.New("negative sync period, cycle timeout or workers"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	if cfg.SyncPeriod == 0 {
		cfg.SyncPeriod = DefaultSyncPeriod
	}
	if cfg.CycleTimeout == 0 {
		cfg.CycleTimeout = cfg.SyncPeriod
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if deps.Store == nil {
		deps.Store = NewMemoryStore()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Loop{cfg: cfg, deps: deps, states: map[targetKey]*targetState{}, pods: map[*corev1.Pod]recommender.Pod{}}, nil
}

// Store returns what readers see: the latest recommendation per target.
func (l *Loop) Store() Store { return l.deps.Store }

// Ready reports ErrNotReady until the first cycle has completed.
func (l *Loop) Ready() error {
	if !l.ready.Load() {
		return ErrNotReady
	}
	return nil
}

// Run runs a cycle at once and then every sync period until ctx is done.
// Each cycle gets its own timeout; a slow cycle delays the next one rather
// than overlapping it.
func (l *Loop) Run(ctx context.Context) error {
	ticker := time.NewTicker(l.cfg.SyncPeriod)
	defer ticker.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, l.cfg.CycleTimeout)
		stats := l.Cycle(cctx)
		cancel()
		klog.V(2).InfoS("Recommendation cycle done", "targets", stats.Targets, "calls", stats.Calls, "errors", stats.Errors, "duration", stats.Duration)
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// CycleStats summarize one cycle.
type CycleStats struct {
	// Targets is how many targets the sources listed.
	Targets int
	// Calls is how many metric source calls the cycle made after batching.
	Calls int
	// Errors is how many targets got no usable recommendation.
	Errors int
	// Duration is how long the cycle took.
	Duration time.Duration
}

// work is one target's progress through a cycle.
type work struct {
	t        Target
	key      targetKey
	resolved bool // false when the cycle ended before its scale was read
	state    *targetState
	metrics  []autoscalingv2.MetricSpec
	scale    Scale
	scaleErr error
	podsErr  error
	selector labels.Selector // nil when the algorithm stops at the selector
	pods     []*corev1.Pod
	podViews []recommender.Pod
	others   []string // autoscalers whose selectors match these pods
	needs    []need
	labels   []string
	rec      Recommendation
	reason   string // target error reason, if any
}

// Cycle computes and publishes one recommendation per target. It is what
// Run calls every sync period; tests and benchmarks call it directly.
// Concurrent calls run one after the other.
func (l *Loop) Cycle(ctx context.Context) CycleStats {
	l.cycleMu.Lock()
	defer l.cycleMu.Unlock()
	start := time.Now()
	now := l.deps.Now()

	targets, failedKinds := l.gather()
	works := make([]*work, len(targets))
	for i := range targets {
		works[i] = l.prepare(targets[i])
	}

	// Scales and pods: informer reads, plus API calls for kinds read
	// through the scale subresource.
	pods := newPodIndex(l.deps.Pods)
	workqueue.ParallelizeUntil(ctx, l.cfg.Workers, len(works), func(i int) { l.resolve(ctx, works[i], pods) })
	markSelectingAutoscalers(works)
	l.convertPods(works)

	// One call per distinct request, shared by the targets that need it.
	p := newPlanner(l.deps.Mapper)
	for _, w := range works {
		if w.selector == nil {
			continue
		}
		w.needs = make([]need, len(w.metrics))
		for j, m := range w.metrics {
			w.needs[j] = p.plan(w.t.Namespace, m)
		}
	}
	responses := l.fetchAll(ctx, p, nil)
	if first := p.fallbacks(works, responses); first < len(p.reqs) {
		responses = l.fetchAll(ctx, p, responses)
	}

	workqueue.ParallelizeUntil(context.WithoutCancel(ctx), l.cfg.Workers, len(works), func(i int) { l.compute(works[i], responses, now) })

	stats := CycleStats{Targets: len(works), Calls: len(p.reqs)}
	recs := make([]Recommendation, 0, len(works))
	seen := make(map[targetKey]bool, len(works))
	for _, w := range works {
		seen[w.key] = true
		recs = append(recs, w.rec)
		if w.reason != "" {
			stats.Errors++
			l.deps.Instruments.targetError(w.reason)
		}
		l.publishMetrics(w)
	}
	for k := range l.states {
		if !seen[k] && !failedKinds[k.kind] {
			delete(l.states, k)
			l.deps.Instruments.forgetTarget(k.namespace, k.kind, k.name)
		}
	}
	if len(failedKinds) > 0 {
		// Keep what a failing source's targets had, rather than blanking
		// them for one failed list.
		for kind := range failedKinds {
			recs = append(recs, l.deps.Store.List("", kind)...)
		}
	}
	l.deps.Store.Replace(recs)
	stats.Duration = time.Since(start)
	l.deps.Instruments.cycleDone(stats.Duration, stats.Calls, stats.Targets, l.deps.Now())
	l.ready.Store(true)
	return stats
}

// fetchAll makes the planned calls that have no response yet, in parallel,
// and returns the responses of all of them.
func (l *Loop) fetchAll(ctx context.Context, p *planner, done []*response) []*response {
	responses := append(done, make([]*response, len(p.reqs)-len(done))...)
	first := len(done)
	workqueue.ParallelizeUntil(ctx, l.cfg.Workers, len(p.reqs)-first, func(i int) {
		r := fetch(ctx, l.deps.Metrics, l.deps.ResourceMetrics, p.reqs[first+i])
		responses[first+i] = r
		l.deps.Instruments.sourceCallDone(apiName(p.reqs[first+i].key.kind), r.err)
	})
	for i := first; i < len(responses); i++ {
		if responses[i] == nil {
			// ParallelizeUntil stops handing out calls once ctx is done.
			cause := context.Cause(ctx)
			if cause == nil {
				cause = errors.New("call not made")
			}
			responses[i] = &response{err: fmt.Errorf("the cycle ended before the call was made: %w", cause)}
		}
	}
	return responses
}

func apiName(k reqKind) string {
	switch k {
	case reqCustom:
		return "custom"
	case reqExternal:
		return "external"
	}
	return "resource"
}

// gather lists every source; a failing source's kind is reported so that
// its targets' state is kept.
func (l *Loop) gather() ([]Target, map[string]bool) {
	var out []Target
	failed := map[string]bool{}
	seen := map[targetKey]bool{}
	for _, s := range l.deps.Sources {
		ts, err := s.Targets()
		if err != nil {
			klog.ErrorS(err, "Listing targets failed; keeping their previous recommendations", "kind", s.Kind())
			l.deps.Instruments.targetError(ReasonFailedListTargets)
			failed[s.Kind()] = true
			continue
		}
		for _, t := range ts {
			// One state per target: a second source listing the same
			// object would otherwise share its history in parallel.
			k := targetKey{t.Kind, t.Namespace, t.Name}
			if seen[k] {
				klog.V(2).InfoS("Target listed twice; computing it once", "kind", t.Kind, "target", klog.KRef(t.Namespace, t.Name))
				continue
			}
			seen[k] = true
			out = append(out, t)
		}
	}
	return out, failed
}

// prepare finds or creates the target's state; a new UID starts afresh.
func (l *Loop) prepare(t Target) *work {
	k := targetKey{t.Kind, t.Namespace, t.Name}
	st := l.states[k]
	if st == nil || st.uid != string(t.UID) {
		if st != nil {
			l.deps.Instruments.forgetTarget(k.namespace, k.kind, k.name)
		}
		st = &targetState{uid: string(t.UID)}
		l.states[k] = st
	}
	w := &work{t: t, key: k, state: st, metrics: t.Spec.Metrics}
	if len(w.metrics) == 0 {
		// The API server's default: one CPU utilization metric. Recommend
		// applies it too; the observations must line up with it.
		w.metrics = recommender.DefaultSpec(autoscalingv2.HorizontalPodAutoscalerSpec{}, 0).Metrics
	}
	return w
}

// resolve reads the target's scale and pods.
func (l *Loop) resolve(ctx context.Context, w *work, index *podIndex) {
	w.resolved = true
	w.scale, w.scaleErr = l.deps.Scales.GetScale(ctx, w.t.Namespace, w.t.Spec.ScaleTargetRef)
	if w.scaleErr != nil || w.scale.Selector == "" {
		return
	}
	sel, err := labels.Parse(w.scale.Selector)
	if err != nil {
		return // the algorithm reports the invalid selector
	}
	pods, err := index.list(w.t.Namespace, sel)
	if err != nil {
		w.podsErr = err
		return
	}
	w.selector, w.pods = sel, pods
}

// markSelectingAutoscalers finds, as upstream's selector tracker does, the
// targets of the same kind and namespace whose selectors match any of a
// target's pods (up to two: one besides itself is enough to refuse). A
// selector matches a pod of the namespace exactly when the pod is among the
// pods listed for it, so the pods' selecting targets are collected once
// instead of matching every selector against every target's pods.
func markSelectingAutoscalers(works []*work) {
	type podKey struct {
		kind string
		pod  *corev1.Pod // the cycle's pod index hands out one pointer per pod
	}
	selecting := make(map[podKey][]*work, len(works))
	for _, w := range works {
		for _, p := range w.pods {
			k := podKey{w.t.Kind, p}
			selecting[k] = append(selecting[k], w)
		}
	}
	for _, w := range works {
		var found []string
		for _, p := range w.pods {
			others := selecting[podKey{w.t.Kind, p}]
			if len(others) < 2 && len(found) == 0 {
				continue // only the target itself selects this pod
			}
			for _, o := range others {
				name := o.t.Namespace + "/" + o.t.Name
				if !slices.Contains(found, name) {
					found = append(found, name)
				}
			}
			if len(found) > 1 {
				break
			}
		}
		if len(found) > 1 {
			slices.Sort(found)
			w.others = found[:2]
		}
	}
}

// convertPods gives every target the algorithm's view of its pods, reusing
// the last cycle's conversion of pods that did not change.
func (l *Loop) convertPods(works []*work) {
	next := make(map[*corev1.Pod]recommender.Pod, len(l.pods))
	for _, w := range works {
		if len(w.pods) == 0 {
			continue
		}
		w.podViews = make([]recommender.Pod, len(w.pods))
		for i, p := range w.pods {
			v, ok := next[p]
			if !ok {
				if v, ok = l.pods[p]; !ok {
					v = recommender.PodFromV1(p)
				}
				next[p] = v
			}
			w.podViews[i] = v
		}
	}
	l.pods = next
}

// compute runs the algorithm for one target. It touches only w and w.state.
func (l *Loop) compute(w *work, responses []*response, now time.Time) {
	w.rec = Recommendation{
		Namespace:      w.t.Namespace,
		Kind:           w.t.Kind,
		Name:           w.t.Name,
		ScaleTargetRef: w.t.Spec.ScaleTargetRef,
		ComputedAt:     now,
	}
	w.labels = metricLabels(w.metrics)
	if !w.resolved {
		w.scaleErr = errors.New("the cycle timed out before the scale was read")
	}
	switch {
	case w.scaleErr != nil:
		w.rec.Error = fmt.Sprintf("the HPA controller was unable to get the target's current scale: %v", w.scaleErr)
		w.reason = ReasonFailedGetScale
		return
	case w.podsErr != nil:
		w.rec.Error = fmt.Sprintf("unable to list the pods of %s/%s/%s: %v", w.t.Spec.ScaleTargetRef.Kind, w.t.Namespace, w.t.Spec.ScaleTargetRef.Name, w.podsErr)
		w.reason = ReasonFailedListPods
		return
	}

	history := w.state.history
	if w.t.History != nil {
		history = *w.t.History
	} else if w.state.scaleSeen && w.state.lastSpecReplicas != w.scale.SpecReplicas {
		// Upstream records a scale event when it rescales; observing a
		// native HPA from outside, the rescale shows as a changed spec.
		history = recommender.RecordScaleEvent(history, w.t.Spec.Behavior, w.state.lastSpecReplicas, w.scale.SpecReplicas, now)
	}
	w.state.lastSpecReplicas, w.state.scaleSeen = w.scale.SpecReplicas, true

	obs := make([]recommender.Observation, len(w.metrics))
	if w.needs != nil {
		for i, n := range w.needs {
			var r *response
			if n.kind != extractPreset {
				r = responses[n.req]
			}
			obs[i] = observe(n, r, w.pods, w.selector)
		}
	}
	res, err := recommender.Recommend(recommender.Input{
		Namespace:  w.t.Namespace,
		Name:       w.t.Name,
		Generation: w.t.Generation,
		Spec:       w.t.Spec,
		Status:     w.t.Status,
		Target: recommender.Target{
			SpecReplicas:         w.scale.SpecReplicas,
			StatusReplicas:       w.scale.StatusReplicas,
			Selector:             w.scale.Selector,
			Pods:                 w.podViews,
			SelectingAutoscalers: w.others,
		},
		Observations: obs,
		Settings:     l.cfg.Settings,
		History:      history,
		Now:          now,
	})
	if err != nil {
		w.rec.Error = err.Error()
		w.reason = ReasonInvalidInput
		if w.t.History == nil {
			w.state.history = history
		}
		return
	}
	if w.t.History == nil {
		w.state.history = res.History
	}
	w.rec.Result = res
	if res.Error != "" {
		w.reason = ReasonFailedComputeReplicas
	}
}

// metricLabels names each metric for the proposal gauge: type and name, with
// the index appended when a target uses the same pair twice.
func metricLabels(metrics []autoscalingv2.MetricSpec) []string {
	out := make([]string, len(metrics))
	seen := map[string]bool{}
	for i, m := range metrics {
		name := ""
		switch m.Type {
		case autoscalingv2.PodsMetricSourceType:
			if m.Pods != nil {
				name = m.Pods.Metric.Name
			}
		case autoscalingv2.ObjectMetricSourceType:
			if m.Object != nil {
				name = m.Object.Metric.Name
			}
		case autoscalingv2.ExternalMetricSourceType:
			if m.External != nil {
				name = m.External.Metric.Name
			}
		case autoscalingv2.ResourceMetricSourceType:
			if m.Resource != nil {
				name = string(m.Resource.Name)
			}
		case autoscalingv2.ContainerResourceMetricSourceType:
			if m.ContainerResource != nil {
				name = m.ContainerResource.Container + "/" + string(m.ContainerResource.Name)
			}
		}
		l := strings.ToLower(string(m.Type)) + "/" + name
		if seen[l] {
			l = fmt.Sprintf("%s#%d", l, i)
		}
		seen[l] = true
		out[i] = l
	}
	return out
}

// publishMetrics exports a target's gauges and deletes the proposal series
// of metrics it no longer has or that failed.
func (l *Loop) publishMetrics(w *work) {
	m := l.deps.Instruments
	if m == nil {
		return
	}
	if w.rec.Error != "" {
		m.forgetTarget(w.key.namespace, w.key.kind, w.key.name)
		w.state.metricLabels = nil
		return
	}
	live := map[string]bool{}
	for i, p := range w.rec.Result.Proposals {
		if p.Error == "" && i < len(w.labels) {
			live[w.labels[i]] = true
		}
	}
	for _, old := range w.state.metricLabels {
		if !live[old] {
			m.forgetMetric(w.key.namespace, w.key.kind, w.key.name, old)
		}
	}
	m.observeTarget(w.key.namespace, w.key.kind, w.key.name, w.rec, w.labels)
	w.state.metricLabels = w.state.metricLabels[:0]
	for _, lbl := range w.labels {
		if live[lbl] {
			w.state.metricLabels = append(w.state.metricLabels, lbl)
		}
	}
}
