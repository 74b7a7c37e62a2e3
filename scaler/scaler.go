package scaler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/hpa-engine/hpa-engine/recommender"
	"github.com/hpa-engine/hpa-engine/recommender/loop"
	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

// Defaults of Config's zero values.
const (
	// DefaultStaleAfter is two of the loop's default sync periods: a
	// recommendation older than that means the loop is stuck or the target
	// fell out of it, and acting on it would act on old observations.
	DefaultStaleAfter = 2 * loop.DefaultSyncPeriod
	// DefaultInterval is how often Run looks for new recommendations; short
	// against the sync period so that a rescale follows its cycle closely.
	DefaultInterval = time.Second
	// DefaultTimeout bounds the work on one Autoscaler (scale read and
	// update, status write).
	DefaultTimeout = 10 * time.Second
	// DefaultWorkers is how many Autoscalers a sync works on at once.
	DefaultWorkers = 4
)

// Condition reasons the scaler sets besides upstream's.
const (
	// ReasonScalingPaused is the AbleToScale=False reason of a paused
	// Autoscaler.
	ReasonScalingPaused = "ScalingPaused"
	// ReasonFailedUpdateScale is upstream's AbleToScale=False reason when
	// the scale update failed.
	ReasonFailedUpdateScale = "FailedUpdateScale"
)

// Config is the scaler's plain configuration.
type Config struct {
	// StaleAfter is the age past which a recommendation is not acted on;
	// DefaultStaleAfter when zero. Set it to twice the loop's sync period.
	StaleAfter time.Duration
	// Interval is how often Run applies new recommendations;
	// DefaultInterval when zero.
	Interval time.Duration
	// Timeout bounds the work on one Autoscaler; DefaultTimeout when zero.
	Timeout time.Duration
	// Workers is how many Autoscalers are worked on at once (each costs
	// a scale read and update and a status write); DefaultWorkers when zero.
	Workers int
}

// AutoscalerLister lists the Autoscalers from a cache. The scaler never
// modifies what it returns.
type AutoscalerLister interface {
	List() ([]*v1alpha1.Autoscaler, error)
}

// RecommendationGetter is the part of the loop's Store the scaler reads.
type RecommendationGetter interface {
	Get(namespace, kind, name string) (loop.Recommendation, bool)
}

var _ RecommendationGetter = loop.Store(nil)

// Deps are the scaler's collaborators; all but Now are required.
type Deps struct {
	Autoscalers     AutoscalerLister
	Recommendations RecommendationGetter
	// Scales and Mapper read and write the scale subresource of any kind.
	Scales scale.ScalesGetter
	Mapper RESTMapper
	// Status writes the Autoscalers' status subresource.
	Status StatusClient
	// Recorder records events on the Autoscalers (see NewEventRecorder).
	Recorder record.EventRecorder
	// Metrics are the scaler's own metrics; nil records none.
	Metrics *Metrics
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Scaler applies the loop's recommendations for Autoscaler objects: it
// updates the scale of their targets, records the scale events in their
// history, writes their status and emits events. Only the leader runs it.
type Scaler struct {
	cfg  Config
	deps Deps

	mu sync.Mutex
	// handled is the ComputedAt of the last recommendation acted on per
	// Autoscaler: each recommendation is applied at most once.
	handled map[types.UID]time.Time
	// pending holds a status that could not be written, retried until it is
	// (it may carry a scale event the next cycle needs).
	pending map[types.UID]*v1alpha1.AutoscalerStatus
	// events are the scale events this leader last recorded per
	// Autoscaler. The scaler is their only writer, so while it leads its
	// copy is authoritative: a cycle that read the status before the last
	// write landed in the cache (or before a failed write was retried) must
	// not drop an event, or a policy's budget could be spent twice.
	events map[types.UID]scaleEvents
}

type scaleEvents struct {
	up, down []recommender.ScaleEvent
}

// New checks cfg and deps and returns a Scaler.
func New(cfg Config, deps Deps) (*Scaler, error) {
	var errs []error
	if deps.Autoscalers == nil {
		errs = append(errs, errors.New("no autoscaler lister"))
	}
	if deps.Recommendations == nil {
		errs = append(errs, errors.New("no recommendation store"))
	}
	if deps.Scales == nil || deps.Mapper == nil {
		errs = append(errs, errors.New("no scale client or REST mapper"))
	}
	if deps.Status == nil {
		errs = append(errs, errors.New("no status client"))
	}
	if deps.Recorder == nil {
		errs = append(errs, errors.New("no event recorder"))
	}
	if cfg.StaleAfter < 0 || cfg.Interval < 0 || cfg.Timeout < 0 || cfg.Workers < 0 {
		errs = append(errs, errors.New("negative stale age, interval, timeout or workers"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	if cfg.StaleAfter == 0 {
		cfg.StaleAfter = DefaultStaleAfter
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Scaler{cfg: cfg, deps: deps, handled: map[types.UID]time.Time{}, pending: map[types.UID]*v1alpha1.AutoscalerStatus{}, events: map[types.UID]scaleEvents{}}, nil
}

// Run applies new recommendations every interval until ctx is done. Call
// it from RunWithLeaderElection's function so that only the leader scales.
func (s *Scaler) Run(ctx context.Context) {
	// A new term starts from what the status says, not from a previous
	// term's memory: another leader may have scaled in between.
	s.mu.Lock()
	clear(s.handled)
	clear(s.pending)
	clear(s.events)
	s.mu.Unlock()
	s.deps.Metrics.setLeading(true)
	defer s.deps.Metrics.setLeading(false)
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		s.Sync(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sync applies every Autoscaler's latest recommendation once, Workers
// Autoscalers at a time, each with its own timeout.
func (s *Scaler) Sync(ctx context.Context) {
	list, err := s.deps.Autoscalers.List()
	if err != nil {
		klog.ErrorS(err, "Listing autoscalers")
		return
	}
	seen := make(map[types.UID]bool, len(list))
	for _, a := range list {
		seen[a.UID] = true
	}
	items := make(chan *v1alpha1.Autoscaler)
	var wg sync.WaitGroup
	for range min(s.cfg.Workers, len(list)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range items {
				s.sync(ctx, a)
			}
		}()
	}
	for _, a := range list {
		if ctx.Err() != nil {
			break
		}
		items <- a
	}
	close(items)
	wg.Wait()
	s.deps.Metrics.retain(list)
	s.mu.Lock()
	for uid := range s.handled {
		if !seen[uid] {
			delete(s.handled, uid)
			delete(s.pending, uid)
		}
	}
	for uid := range s.pending {
		if !seen[uid] {
			delete(s.pending, uid)
		}
	}
	for uid := range s.events {
		if !seen[uid] {
			delete(s.events, uid)
		}
	}
	s.mu.Unlock()
}

func (s *Scaler) sync(ctx context.Context, a *v1alpha1.Autoscaler) {
	rec, ok := s.deps.Recommendations.Get(a.Namespace, loop.KindAutoscaler, a.Name)
	actx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	out, err := s.Apply(actx, a, rec, ok)
	s.deps.Metrics.action(out, a.Namespace, a.Name, rec.Result.CurrentReplicas, rec.Result.DesiredReplicas)
	switch {
	case err != nil:
		klog.ErrorS(err, "Applying recommendation", "autoscaler", klog.KObj(a), "action", out.Action)
	case out.Action == ActionNone && ok:
		klog.V(5).InfoS("Nothing to apply", "autoscaler", klog.KObj(a), "why", out.Why)
	}
}

// Action says what Apply did.
type Action string

// The actions of Apply.
const (
	// ActionNone: nothing to act on (no recommendation, or one already
	// acted on, stale, for an older spec, or for a target that changed).
	ActionNone Action = "None"
	// ActionPaused: the Autoscaler is paused.
	ActionPaused Action = "Paused"
	// ActionHold: the recommendation keeps the replica count, or cannot be
	// used (no valid metric); the status says so.
	ActionHold Action = "Hold"
	// ActionRescaled: the scale was updated.
	ActionRescaled Action = "Rescaled"
	// ActionDryRun: a rescale was due and only recorded.
	ActionDryRun Action = "DryRun"
	// ActionFailed: the scale could not be read or updated.
	ActionFailed Action = "Failed"
)

// Outcome is what Apply did and why.
type Outcome struct {
	Action Action
	// Why explains ActionNone.
	Why string
	// StatusWritten says whether the status subresource was updated.
	StatusWritten bool
}

// Apply acts on rec, the latest recommendation for a (ok false when the
// loop has none). It acts on a recommendation at most once, never on one
// older than StaleAfter, computed for another generation of the spec, or
// for a target whose replicas changed since; it rescales only when the
// result asks for it and its observations are valid (ScalingActive True, or
// no metric computed at all: a bound brought back into range); dry-run
// Autoscalers get the would-be rescale in status and events; paused ones
// get only the ScalingPaused condition.
func (s *Scaler) Apply(ctx context.Context, a *v1alpha1.Autoscaler, rec loop.Recommendation, ok bool) (Outcome, error) {
	now := s.deps.Now()
	mnow := metav1.NewTime(now)
	if a.Spec.Paused {
		st := a.Status.DeepCopy()
		st.Conditions = setCondition(st.Conditions, autoscalingv2.AbleToScale, corev1.ConditionFalse, ReasonScalingPaused,
			"the Autoscaler is paused (spec.paused): no recommendation is applied", mnow)
		gen := a.Generation
		st.ObservedGeneration = &gen
		return s.finish(ctx, a, st, Outcome{Action: ActionPaused})
	}
	if !ok {
		return Outcome{Action: ActionNone, Why: "no recommendation yet"}, nil
	}
	s.mu.Lock()
	handled := s.handled[a.UID].Equal(rec.ComputedAt)
	pending := s.pending[a.UID]
	s.mu.Unlock()
	if handled {
		if pending != nil {
			return s.finish(ctx, a, pending, Outcome{Action: ActionNone, Why: "writing a status that failed before"})
		}
		return Outcome{Action: ActionNone, Why: "recommendation already applied"}, nil
	}
	if age := now.Sub(rec.ComputedAt); age > s.cfg.StaleAfter {
		return Outcome{Action: ActionNone, Why: fmt.Sprintf("recommendation is stale (%s old)", age.Round(time.Second))}, nil
	}
	if rec.ScaleTargetRef != a.Spec.ScaleTargetRef {
		return Outcome{Action: ActionNone, Why: "recommendation is for another scale target"}, nil
	}
	res := rec.Result
	if rec.Error == "" && (res.Status.ObservedGeneration == nil || *res.Status.ObservedGeneration != a.Generation) {
		return Outcome{Action: ActionNone, Why: "recommendation is for another generation of the spec"}, nil
	}
	s.mu.Lock()
	ev, remembered := s.events[a.UID]
	if remembered && !sawLatestEvent(res.History, ev) {
		// The loop computed this from an Autoscaler read before the status
		// with this leader's last scale event reached the cache: its
		// policies did not count that event and could spend a period's
		// budget again. Hold; the next cycle reads the event.
		s.mu.Unlock()
		if pending != nil {
			return s.finish(ctx, a, pending, Outcome{Action: ActionNone, Why: "writing a status that failed before"})
		}
		return Outcome{Action: ActionNone, Why: "recommendation computed before the last scale event was seen"}, nil
	}
	s.handled[a.UID] = rec.ComputedAt
	delete(s.pending, a.UID)
	if remembered {
		res.History.ScaleUpEvents, res.History.ScaleDownEvents = ev.up, ev.down
	}
	s.mu.Unlock()

	if rec.Error != "" {
		s.deps.Recorder.Event(a, corev1.EventTypeWarning, ReasonFailedGetRecommendation, rec.Error)
		st := a.Status.DeepCopy()
		st.Conditions = setCondition(st.Conditions, autoscalingv2.ScalingActive, corev1.ConditionFalse, ReasonFailedGetRecommendation, rec.Error, mnow)
		gen := a.Generation
		st.ObservedGeneration = &gen
		return s.finish(ctx, a, st, Outcome{Action: ActionHold})
	}

	st := a.Status.DeepCopy()
	st.SetHPAStatus(*res.Status.DeepCopy())
	st.History = v1alpha1.HistoryToStatus(res.History)
	st.LastExplanation = v1alpha1.ExplanationFromResult(&res)
	recAt := metav1.NewTime(rec.ComputedAt)
	st.LastRecommendationTime = &recAt

	valid := conditionTrue(res.Status.Conditions, autoscalingv2.ScalingActive) || len(res.Proposals) == 0
	s.computeEvents(a, &res)
	if !res.Rescale || res.DesiredReplicas == res.CurrentReplicas || !valid {
		if res.Rescale {
			// The result assumed a rescale it did not get.
			s.notRescaled(st, a)
		}
		return s.finish(ctx, a, st, Outcome{Action: ActionHold})
	}

	if a.Spec.DryRun {
		s.notRescaled(st, a)
		st.Conditions = setCondition(st.Conditions, autoscalingv2.AbleToScale, corev1.ConditionTrue, ReasonDryRunRescale,
			fmt.Sprintf("dry run: the controller would have updated the target scale from %d to %d", res.CurrentReplicas, res.DesiredReplicas), mnow)
		s.deps.Recorder.Eventf(a, corev1.EventTypeNormal, ReasonDryRunRescale, "New size: %d; reason: %s; dry run, the scale was not changed", res.DesiredReplicas, res.RescaleReason)
		return s.finish(ctx, a, st, Outcome{Action: ActionDryRun})
	}

	ts, err := getScale(ctx, s.deps.Scales, s.deps.Mapper, a.Namespace, a.Spec.ScaleTargetRef)
	if err != nil {
		s.deps.Recorder.Event(a, corev1.EventTypeWarning, ReasonFailedGetScale, err.Error())
		s.deps.Metrics.error(ReasonFailedGetScale)
		s.notRescaled(st, a)
		st.DesiredReplicas = a.Status.DesiredReplicas
		st.Conditions = setCondition(st.Conditions, autoscalingv2.AbleToScale, corev1.ConditionFalse, ReasonFailedGetScale,
			fmt.Sprintf("the HPA controller was unable to get the target's current scale: %v", err), mnow)
		out, werr := s.finish(ctx, a, st, Outcome{Action: ActionFailed})
		return out, errors.Join(fmt.Errorf("get scale of %s: %w", reference(a), err), werr)
	}
	err = updateScale(ctx, s.deps.Scales, a.Namespace, ts, res.CurrentReplicas, res.DesiredReplicas)
	switch {
	case errors.Is(err, ErrTargetChanged):
		// Not a failure: the next cycle sees the new count. Its status
		// would describe a count the target no longer has, so none is
		// written; the history it carried is rebuilt by the next cycle.
		klog.V(2).InfoS("Scale target changed since the recommendation", "autoscaler", klog.KObj(a), "err", err)
		return Outcome{Action: ActionNone, Why: err.Error()}, nil
	case err != nil:
		s.deps.Metrics.error(ReasonFailedRescale)
		s.deps.Recorder.Eventf(a, corev1.EventTypeWarning, ReasonFailedRescale, "New size: %d; reason: %s; error: %v", res.DesiredReplicas, res.RescaleReason, err.Error())
		s.notRescaled(st, a)
		st.DesiredReplicas = a.Status.DesiredReplicas
		st.Conditions = setCondition(st.Conditions, autoscalingv2.AbleToScale, corev1.ConditionFalse, ReasonFailedUpdateScale,
			fmt.Sprintf("the HPA controller was unable to update the target scale: %v", err), mnow)
		out, werr := s.finish(ctx, a, st, Outcome{Action: ActionFailed})
		return out, errors.Join(fmt.Errorf("rescale %s: %w", reference(a), err), werr)
	}

	s.deps.Recorder.Eventf(a, corev1.EventTypeNormal, ReasonSuccessfulRescale, "New size: %d; reason: %s", res.DesiredReplicas, res.RescaleReason)
	klog.InfoS("Successfully rescaled", "autoscaler", klog.KObj(a), "currentReplicas", res.CurrentReplicas, "desiredReplicas", res.DesiredReplicas, "reason", res.RescaleReason)
	// The scale events are what a restarted controller needs to honour the
	// policies' periods: record them at the time of the update, as
	// upstream's storeScaleEvent does, and write them with the status.
	hist := recommender.RecordScaleEvent(res.History, a.Spec.Behavior, res.CurrentReplicas, res.DesiredReplicas, now)
	st.History = v1alpha1.HistoryToStatus(hist)
	st.LastScaleTime = &mnow
	s.mu.Lock()
	s.events[a.UID] = scaleEvents{up: hist.ScaleUpEvents, down: hist.ScaleDownEvents}
	s.mu.Unlock()
	return s.finish(ctx, a, st, Outcome{Action: ActionRescaled})
}

// sawLatestEvent reports whether h holds the latest scale event of ev. Times
// are compared to the millisecond: the status keeps them to the microsecond.
func sawLatestEvent(h recommender.History, ev scaleEvents) bool {
	var latest time.Time
	for _, list := range [][]recommender.ScaleEvent{ev.up, ev.down} {
		for _, e := range list {
			if !e.Outdated && e.Timestamp.After(latest) {
				latest = e.Timestamp
			}
		}
	}
	if latest.IsZero() {
		return true
	}
	for _, list := range [][]recommender.ScaleEvent{h.ScaleUpEvents, h.ScaleDownEvents} {
		for _, e := range list {
			if d := e.Timestamp.Sub(latest); d > -time.Millisecond && d < time.Millisecond {
				return true
			}
		}
	}
	return false
}

// computeEvents emits the warnings upstream's reconcile emits while it
// computes: one per failed metric with the metric's reason, then
// FailedComputeMetricsReplicas when no metric could be used, or the selector
// problem (SelectorRequired, InvalidSelector, AmbiguousSelector).
func (s *Scaler) computeEvents(a *v1alpha1.Autoscaler, res *recommender.Result) {
	failed := 0
	for _, p := range res.Proposals {
		if p.Rule == recommender.RuleFailed {
			failed++
			if p.Reason != "" {
				s.deps.Recorder.Event(a, corev1.EventTypeWarning, p.Reason, p.Error)
			}
		}
	}
	// The events carry the error without the prefix the reconcile's own
	// error adds, as upstream's do.
	msg := strings.TrimPrefix(res.Error, fmt.Sprintf("failed to compute desired number of replicas based on listed metrics for %s: ", reference(a)))
	if failed > 0 && failed == len(res.Proposals) && res.Error != "" {
		s.deps.Recorder.Event(a, corev1.EventTypeWarning, ReasonFailedComputeMetricsReplicas, msg)
	}
	if len(res.Proposals) == 0 && res.Error != "" {
		for _, c := range res.Status.Conditions {
			if c.Type != autoscalingv2.ScalingActive || c.Status != corev1.ConditionFalse {
				continue
			}
			switch {
			case c.Reason == ReasonInvalidSelector && msg == "selector is required":
				s.deps.Recorder.Event(a, corev1.EventTypeWarning, ReasonSelectorRequired, msg)
			case c.Reason == ReasonInvalidSelector || c.Reason == ReasonAmbiguousSelector:
				s.deps.Recorder.Event(a, corev1.EventTypeWarning, c.Reason, msg)
			}
		}
	}
}

// notRescaled undoes what the result assumed of a successful rescale: the
// last scale time and the ScaledToZero condition stay as they were, and
// AbleToScale too unless the caller sets it.
func (s *Scaler) notRescaled(st *v1alpha1.AutoscalerStatus, a *v1alpha1.Autoscaler) {
	st.LastScaleTime = a.Status.LastScaleTime.DeepCopy()
	st.Conditions = restoreCondition(st.Conditions, a.Status.Conditions, autoscalingv2.ScaledToZero)
	st.Conditions = restoreCondition(st.Conditions, a.Status.Conditions, autoscalingv2.AbleToScale)
}

// finish writes st when it changed and keeps it for a later retry when the
// write fails (it may hold a scale event); a status for an older spec is
// dropped.
func (s *Scaler) finish(ctx context.Context, a *v1alpha1.Autoscaler, st *v1alpha1.AutoscalerStatus, out Outcome) (Outcome, error) {
	written, err := s.writeStatus(ctx, a, st)
	out.StatusWritten = written
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err == nil, errors.Is(err, ErrObjectChanged):
		delete(s.pending, a.UID)
		if err != nil {
			klog.V(2).InfoS("Status dropped", "autoscaler", klog.KObj(a), "err", err)
		}
		return out, nil
	default:
		if !a.Spec.Paused {
			s.pending[a.UID] = st
		}
		s.deps.Recorder.Event(a, corev1.EventTypeWarning, ReasonFailedUpdateStatus, err.Error())
		s.deps.Metrics.error(ReasonFailedUpdateStatus)
		return out, err
	}
}

func reference(a *v1alpha1.Autoscaler) string {
	return fmt.Sprintf("%s/%s/%s", a.Spec.ScaleTargetRef.Kind, a.Namespace, a.Spec.ScaleTargetRef.Name)
}
