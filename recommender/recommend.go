package recommender

import (
	"errors"
	"fmt"
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// This file mirrors upstream's horizontal.go: reconcileAutoscaler,
// computeReplicasForMetrics, the computeStatusFor*Metric functions and the
// normalization with and without behavior. Where upstream reads time.Now()
// or its in-memory maps, this code reads in.Now and in.History.

// Legacy scale-up limit without behavior: max(2 x current, 4).
const (
	scaleUpLimitFactor  = 2.0
	scaleUpLimitMinimum = 4.0
)

// Recommend computes what upstream's HorizontalController (k8s.io/kubernetes
// v1.37.2, default feature gates) does in one reconcile of an autoscaler whose
// scale it could read, given in. It returns an error wrapping ErrInvalidInput
// only for input upstream could never see; everything upstream handles
// (failed metrics, bad selectors, zero targets) is reported in the Result.
func Recommend(in Input) (Result, error) {
	return run(in, nil)
}

// RescaleFailed is Recommend for a cycle whose scale update failed with
// updateErr: upstream then sets AbleToScale False (FailedUpdateScale), keeps
// the previous desired replicas and scale time, records no scale event and
// leaves ScaledToZero as it was. The scaler calls it when its update fails.
func RescaleFailed(in Input, updateErr error) (Result, error) {
	return run(in, updateErr)
}

func run(in Input, updateErr error) (Result, error) {
	if in.Now.IsZero() {
		return Result{}, fmt.Errorf("now is unset: %w", ErrInvalidInput)
	}
	s := in.Settings.resolve()
	spec := DefaultSpec(in.Spec, s.downscaleWindow)
	if err := checkInput(in, spec); err != nil {
		return Result{}, err
	}
	r := newReconciler(in, s, spec)
	r.updateErr = updateErr
	return r.reconcile(), nil
}

func checkInput(in Input, spec autoscalingv2.HorizontalPodAutoscalerSpec) error {
	if len(in.Observations) != len(spec.Metrics) {
		return fmt.Errorf("%d observations for %d metrics: %w", len(in.Observations), len(spec.Metrics), ErrInvalidInput)
	}
	for i, m := range spec.Metrics {
		if err := checkMetricSpec(m); err != nil {
			return fmt.Errorf("metric %d: %w", i, err)
		}
	}
	return nil
}

func newReconciler(in Input, s settings, spec autoscalingv2.HorizontalPodAutoscalerSpec) *reconciler {
	return &reconciler{
		in:    in,
		spec:  spec,
		set:   s,
		now:   in.Now,
		conds: append([]autoscalingv2.HorizontalPodAutoscalerCondition(nil), in.Status.DeepCopy().Conditions...),
		hist:  in.History.clone(),
		calc: calculator{
			pods:           in.Target.Pods,
			now:            in.Now,
			cpuInit:        s.cpuInit,
			readinessDelay: s.readinessDelay,
		},
	}
}

// checkMetricSpec rejects metric specs upstream would dereference as nil
// (the API server's validation never lets them through).
func checkMetricSpec(m autoscalingv2.MetricSpec) error {
	missing := false
	switch m.Type {
	case autoscalingv2.ObjectMetricSourceType:
		missing = m.Object == nil
	case autoscalingv2.PodsMetricSourceType:
		missing = m.Pods == nil || m.Pods.Target.AverageValue == nil
	case autoscalingv2.ResourceMetricSourceType:
		missing = m.Resource == nil
	case autoscalingv2.ContainerResourceMetricSourceType:
		missing = m.ContainerResource == nil
	case autoscalingv2.ExternalMetricSourceType:
		missing = m.External == nil
	}
	if missing {
		return fmt.Errorf("%s metric without its source or target: %w", m.Type, ErrInvalidInput)
	}
	return nil
}

type reconciler struct {
	in    Input
	spec  autoscalingv2.HorizontalPodAutoscalerSpec
	set   settings
	now   time.Time
	conds []autoscalingv2.HorizontalPodAutoscalerCondition
	hist  History
	calc  calculator
	steps []Step
	// updateErr, when set, makes the scale update fail (RescaleFailed).
	updateErr error
}

func (r *reconciler) setCondition(t autoscalingv2.HorizontalPodAutoscalerConditionType, status corev1.ConditionStatus, reason, message string) {
	var c *autoscalingv2.HorizontalPodAutoscalerCondition
	for i := range r.conds {
		if r.conds[i].Type == t {
			c = &r.conds[i]
			break
		}
	}
	if c == nil {
		r.conds = append(r.conds, autoscalingv2.HorizontalPodAutoscalerCondition{Type: t})
		c = &r.conds[len(r.conds)-1]
	}
	if c.Status != status {
		c.LastTransitionTime = metav1.NewTime(r.now)
	}
	c.Status, c.Reason, c.Message = status, reason, message
}

func (r *reconciler) conditionTrue(t autoscalingv2.HorizontalPodAutoscalerConditionType) bool {
	for _, c := range r.conds {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (r *reconciler) hasObjectOrExternalMetrics() bool {
	for _, m := range r.spec.Metrics {
		if m.Type == autoscalingv2.ObjectMetricSourceType || m.Type == autoscalingv2.ExternalMetricSourceType {
			return true
		}
	}
	return false
}

func (r *reconciler) tolerances() tolerances {
	t := tolerances{down: r.set.tolerance, up: r.set.tolerance}
	if b := r.spec.Behavior; b != nil {
		if b.ScaleDown != nil && b.ScaleDown.Tolerance != nil {
			t.down = b.ScaleDown.Tolerance.AsApproximateFloat64()
		}
		if b.ScaleUp != nil && b.ScaleUp.Tolerance != nil {
			t.up = b.ScaleUp.Tolerance.AsApproximateFloat64()
		}
	}
	return t
}

func (r *reconciler) step(s Step) {
	r.steps = append(r.steps, s)
}

func (r *reconciler) reconcile() Result {
	r.setCondition(autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededGetScale", "the HPA controller was able to get the target's current scale")
	current := r.in.Target.SpecReplicas
	if len(r.hist.Recommendations) == 0 {
		// Upstream seeds at its own time.Now(), which is always strictly
		// before the time.Now() its stabilization reads a moment later: with
		// a zero window the seed is already old. One nanosecond reproduces it.
		r.hist.Recommendations = []TimestampedRecommendation{{Replicas: current, Timestamp: r.now.Add(-time.Nanosecond)}}
	}
	minReplicas := *r.spec.MinReplicas
	maxReplicas := r.spec.MaxReplicas

	res := Result{CurrentReplicas: current, MetricDesiredReplicas: -1, MetricIndex: -1}
	var desired int32
	rescale := true
	rescaleReason := ""
	var statuses []autoscalingv2.MetricStatus

	hasObjExt := r.hasObjectOrExternalMetrics()
	scaledToZero := r.conditionTrue(autoscalingv2.ScaledToZero)
	canScaleFromZero := scaledToZero && hasObjExt
	needsMetrics := true

	switch {
	case current == 0:
		if !((minReplicas != 0 && scaledToZero) || canScaleFromZero) {
			needsMetrics = false
			desired = 0
			rescale = false
			r.setCondition(autoscalingv2.ScalingActive, corev1.ConditionFalse, "ScalingDisabled", "scaling is disabled since the replica count of the target is zero")
			r.step(Step{Kind: StepScalingDisabled, From: 0, To: 0, Reason: "ScalingDisabled", Message: "scaling is disabled since the replica count of the target is zero"})
		}
	case current > maxReplicas:
		rescaleReason = "Current number of replicas above Spec.MaxReplicas"
		desired = maxReplicas
		needsMetrics = false
		r.step(Step{Kind: StepAboveMax, From: current, To: maxReplicas, Limit: ptrTo(maxReplicas), Message: rescaleReason})
	case current < minReplicas:
		rescaleReason = "Current number of replicas below Spec.MinReplicas"
		desired = minReplicas
		needsMetrics = false
		r.step(Step{Kind: StepBelowMin, From: current, To: minReplicas, Limit: ptrTo(minReplicas), Message: rescaleReason})
	}

	if needsMetrics {
		mr := r.computeReplicasForMetrics()
		statuses = mr.statuses
		res.Proposals = mr.proposals
		if mr.err != nil {
			res.Error = mr.err.Error()
		}
		if mr.failed {
			if mr.err != nil {
				res.Error = fmt.Sprintf("failed to compute desired number of replicas based on listed metrics for %s: %v", r.reference(), mr.err)
			}
			// Nothing usable: keep the previous desired count and scale time.
			res.DesiredReplicas = current
			res.Steps = r.steps
			res.Status = r.status(current, r.in.Status.DesiredReplicas, statuses, false)
			res.History = r.hist
			return res
		}
		res.MetricDesiredReplicas = mr.replicas
		res.Metric = mr.metric
		res.MetricIndex = mr.index

		rescaleMetric := ""
		if mr.replicas > desired {
			desired = mr.replicas
			rescaleMetric = mr.metric
		}
		if desired > current {
			rescaleReason = fmt.Sprintf("%s above target", rescaleMetric)
		}
		if desired < current {
			rescaleReason = "All metrics below target"
		}
		if r.spec.Behavior == nil {
			desired = r.normalize(current, desired, minReplicas)
		} else {
			desired = r.normalizeWithBehaviors(current, desired, minReplicas)
		}
		if current == 0 && minReplicas != 0 && scaledToZero && desired < minReplicas {
			r.step(Step{Kind: StepFromZeroMin, From: desired, To: minReplicas, Limit: ptrTo(minReplicas)})
			desired = minReplicas
			if rescaleReason == "" {
				rescaleReason = "Current number of replicas below Spec.MinReplicas"
			}
		}
		rescale = desired != current
	}

	if rescale && r.updateErr != nil {
		r.setCondition(autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedUpdateScale", fmt.Sprintf("the HPA controller was unable to update the target scale: %v", r.updateErr))
		res.Rescale = true
		res.RescaleReason = rescaleReason
		res.DesiredReplicas = desired
		res.Error = fmt.Sprintf("failed to rescale %s: %v", r.reference(), r.updateErr)
		res.Steps = r.steps
		res.Status = r.status(current, r.in.Status.DesiredReplicas, statuses, false)
		res.History = r.hist
		return res
	}
	if rescale {
		r.setCondition(autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededRescale", fmt.Sprintf("the HPA controller was able to update the target scale to %d", desired))
		if current > 0 && desired == 0 && minReplicas == 0 && hasObjExt {
			r.setCondition(autoscalingv2.ScaledToZero, corev1.ConditionTrue, "ScaledToZero", "the HPA controller scaled the workload to zero")
		} else {
			r.setCondition(autoscalingv2.ScaledToZero, corev1.ConditionFalse, "NotScaledToZero", "the HPA controller did not scale the workload to zero")
		}
		res.RescaleReason = rescaleReason
	} else {
		if needsMetrics {
			r.step(Step{Kind: StepHold, From: current, To: current})
		}
		desired = current
	}
	res.Rescale = rescale
	res.DesiredReplicas = desired
	res.Steps = r.steps
	res.Status = r.status(current, desired, statuses, rescale)
	res.History = r.hist
	return res
}

// reference names the scale target in upstream's error messages.
func (r *reconciler) reference() string {
	return fmt.Sprintf("%s/%s/%s", r.spec.ScaleTargetRef.Kind, r.in.Namespace, r.spec.ScaleTargetRef.Name)
}

// status is upstream's setStatus.
func (r *reconciler) status(current, desired int32, metrics []autoscalingv2.MetricStatus, rescale bool) autoscalingv2.HorizontalPodAutoscalerStatus {
	gen := r.in.Generation
	st := autoscalingv2.HorizontalPodAutoscalerStatus{
		ObservedGeneration: &gen,
		CurrentReplicas:    current,
		DesiredReplicas:    desired,
		LastScaleTime:      r.in.Status.DeepCopy().LastScaleTime,
		CurrentMetrics:     metrics,
		Conditions:         r.conds,
	}
	if rescale {
		t := metav1.NewTime(r.now)
		st.LastScaleTime = &t
	}
	return st
}

// metricsResult is computeReplicasForMetrics' outcome.
type metricsResult struct {
	replicas  int32
	metric    string
	index     int
	statuses  []autoscalingv2.MetricStatus
	proposals []Proposal
	err       error
	// failed is upstream's "-1 with an error": nothing to scale on. A -1
	// proposal from negative metric values is not a failure.
	failed bool
}

func (r *reconciler) selectorError() error {
	sel := r.in.Target.Selector
	if sel == "" {
		r.setCondition(autoscalingv2.ScalingActive, corev1.ConditionFalse, "InvalidSelector", "the HPA target's scale is missing a selector")
		return errors.New("selector is required")
	}
	if _, err := labels.Parse(sel); err != nil {
		msg := fmt.Sprintf("couldn't convert selector into a corresponding internal selector object: %v", err)
		r.setCondition(autoscalingv2.ScalingActive, corev1.ConditionFalse, "InvalidSelector", msg)
		return errors.New(msg)
	}
	if others := r.in.Target.SelectingAutoscalers; len(others) > 1 {
		msg := fmt.Sprintf("pods by selector %v are controlled by more than one HPA (e.g. %v)", sel, others[:2])
		r.setCondition(autoscalingv2.ScalingActive, corev1.ConditionFalse, "AmbiguousSelector", msg)
		return errors.New(msg)
	}
	return nil
}

func (r *reconciler) computeReplicasForMetrics() metricsResult {
	out := metricsResult{replicas: -1, index: -1}
	if err := r.selectorError(); err != nil {
		out.err = err
		out.failed = true
		return out
	}
	specReplicas := r.in.Target.SpecReplicas
	n := len(r.spec.Metrics)
	out.statuses = make([]autoscalingv2.MetricStatus, n)
	out.proposals = make([]Proposal, n)

	var replicas int32
	invalid := 0
	var firstErr error
	var firstCond autoscalingv2.HorizontalPodAutoscalerCondition
	for i, spec := range r.spec.Metrics {
		p, status, err := r.computeMetric(spec, r.in.Observations[i])
		out.proposals[i] = p
		if err != nil {
			if invalid <= 0 {
				firstErr = err
				firstCond = autoscalingv2.HorizontalPodAutoscalerCondition{
					Type:    autoscalingv2.ScalingActive,
					Status:  corev1.ConditionFalse,
					Reason:  p.Reason,
					Message: fmt.Sprintf("the HPA was unable to compute the replica count: %v", errors.Unwrap(err)),
				}
			}
			invalid++
			continue
		}
		out.statuses[i] = status
		out.proposals[i].Current = currentOf(status)
		if replicas == 0 || p.Replicas > replicas {
			replicas = p.Replicas
			out.metric = p.Description
			out.index = i
		}
	}
	if firstErr != nil {
		out.err = fmt.Errorf("invalid metrics (%v invalid out of %v), first error is: %w", invalid, n, firstErr)
	}
	if invalid >= n || (invalid > 0 && replicas < specReplicas) {
		r.setCondition(firstCond.Type, firstCond.Status, firstCond.Reason, firstCond.Message)
		out.replicas = -1
		out.metric = ""
		out.index = -1
		out.failed = true
		return out
	}
	r.setCondition(autoscalingv2.ScalingActive, corev1.ConditionTrue, "ValidMetricFound", fmt.Sprintf("the HPA was able to successfully calculate a replica count from %s", out.metric))
	out.replicas = replicas
	return out
}

// conditionError carries the error upstream puts in the condition message
// (the inner one) wrapped in the one its reconcile returns (the outer one).
type conditionError struct {
	outer string
	inner error
}

func (e *conditionError) Error() string { return e.outer }
func (e *conditionError) Unwrap() error { return e.inner }

// fail records a failed metric on p: the condition reason, and both error
// texts (outer is the text upstream's reconcile returns).
func fail(p *Proposal, reason string, inner error, outer string) error {
	p.Rule = RuleFailed
	p.Reason = reason
	p.Error = inner.Error()
	p.Replicas = 0
	return &conditionError{outer: outer, inner: inner}
}

// computeMetric is upstream's computeReplicasForMetric with the
// computeStatusFor*Metric functions. On error it returns a conditionError
// whose Unwrap is the error upstream puts in the ScalingActive message.
func (r *reconciler) computeMetric(spec autoscalingv2.MetricSpec, obs Observation) (Proposal, autoscalingv2.MetricStatus, error) {
	specReplicas := r.in.Target.SpecReplicas
	statusReplicas := r.in.Target.StatusReplicas
	tol := r.tolerances()
	p := Proposal{Type: spec.Type}
	var st autoscalingv2.MetricStatus

	switch spec.Type {
	case autoscalingv2.ObjectMetricSourceType:
		src := spec.Object
		p.Name, p.Target = src.Metric.Name, src.Target
		wrap := func(inner error) string { return fmt.Sprintf("failed to get object metric value: %v", inner) }
		if _, err := metav1.LabelSelectorAsSelector(src.Metric.Selector); err != nil {
			return p, st, fail(&p, "FailedGetObjectMetric", err, wrap(err))
		}
		status := autoscalingv2.MetricStatus{
			Type: autoscalingv2.ObjectMetricSourceType,
			Object: &autoscalingv2.ObjectMetricStatus{
				DescribedObject: src.DescribedObject,
				Metric:          autoscalingv2.MetricIdentifier{Name: src.Metric.Name, Selector: src.Metric.Selector},
			},
		}
		fetchErr := func() error {
			return fmt.Errorf("unable to get metric %s on %s %s/%s: %w", src.Metric.Name, src.DescribedObject.Kind, r.in.Namespace, src.DescribedObject.Name, errors.New(obs.Error))
		}
		switch {
		case src.Target.Type == autoscalingv2.ValueMetricType && src.Target.Value != nil:
			if obs.Error != "" {
				err := fetchErr()
				return p, st, fail(&p, "FailedGetObjectMetric", err, wrap(err))
			}
			usage := obs.Value
			ratio := float64(usage) / float64(src.Target.Value.MilliValue())
			p.UsageRatio = Ratio(ratio)
			replicas, rule, ready, err := r.calc.ratioReplicas(specReplicas, ratio, tol)
			if err != nil {
				return p, st, fail(&p, "FailedGetObjectMetric", err, wrap(err))
			}
			p.Replicas, p.Rule, p.ReadyPods = replicas, rule, int(ready)
			status.Object.Current.Value = resource.NewMilliQuantity(usage, resource.DecimalSI)
			p.Description = fmt.Sprintf("%s metric %s", src.DescribedObject.Kind, src.Metric.Name)
		case src.Target.Type == autoscalingv2.AverageValueMetricType && src.Target.AverageValue != nil:
			if obs.Error != "" {
				err := fetchErr()
				return p, st, fail(&p, "FailedGetObjectMetric", err, wrap(fmt.Errorf("failed to get %s object metric: %w", src.Metric.Name, err)))
			}
			replicas, avg, ratio, rule := perPodReplicas(statusReplicas, obs.Value, src.Target.AverageValue.MilliValue(), tol, false)
			p.UsageRatio, p.Replicas, p.Rule, p.Timestamp = Ratio(ratio), replicas, rule, obs.Timestamp
			status.Object.Current.AverageValue = resource.NewMilliQuantity(avg, resource.DecimalSI)
			// Upstream describes this case as an external metric.
			p.Description = fmt.Sprintf("external metric %s(%+v)", src.Metric.Name, src.Metric.Selector)
		default:
			err := errors.New("invalid object metric source: neither a value target nor an average value target was set")
			return p, st, fail(&p, "FailedGetObjectMetric", err, wrap(err))
		}
		st = status

	case autoscalingv2.PodsMetricSourceType:
		src := spec.Pods
		p.Name, p.Target = src.Metric.Name, src.Target
		wrap := func(inner error) string { return fmt.Sprintf("failed to get pods metric value: %v", inner) }
		if _, err := metav1.LabelSelectorAsSelector(src.Metric.Selector); err != nil {
			return p, st, fail(&p, "FailedGetPodsMetric", err, wrap(err))
		}
		if obs.Error != "" {
			err := fmt.Errorf("unable to get metric %s: %w", src.Metric.Name, errors.New(obs.Error))
			return p, st, fail(&p, "FailedGetPodsMetric", err, wrap(err))
		}
		o, usage, err := r.calc.plainReplicas(samplesOf(obs), specReplicas, src.Target.AverageValue.MilliValue(), tol, "")
		p.applyOutcome(o)
		if err != nil {
			return p, st, fail(&p, "FailedGetPodsMetric", err, wrap(err))
		}
		p.Timestamp = obs.Timestamp
		p.Description = fmt.Sprintf("pods metric %s", src.Metric.Name)
		st = autoscalingv2.MetricStatus{
			Type: autoscalingv2.PodsMetricSourceType,
			Pods: &autoscalingv2.PodsMetricStatus{
				Metric:  autoscalingv2.MetricIdentifier{Name: src.Metric.Name, Selector: src.Metric.Selector},
				Current: autoscalingv2.MetricValueStatus{AverageValue: resource.NewMilliQuantity(usage, resource.DecimalSI)},
			},
		}

	case autoscalingv2.ResourceMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType:
		var name corev1.ResourceName
		var container, reason, wrapFmt string
		if spec.Type == autoscalingv2.ResourceMetricSourceType {
			name, p.Target = spec.Resource.Name, spec.Resource.Target
			reason, wrapFmt = "FailedGetResourceMetric", "failed to get %s resource metric value: %v"
		} else {
			name, p.Target, container = spec.ContainerResource.Name, spec.ContainerResource.Target, spec.ContainerResource.Container
			reason, wrapFmt = "FailedGetContainerResourceMetric", "failed to get %s container metric value: %v"
		}
		p.Name = string(name)
		label := string(name)
		if spec.Type == autoscalingv2.ContainerResourceMetricSourceType {
			label = container
		}
		wrap := func(inner error) string { return fmt.Sprintf(wrapFmt, label, inner) }
		current, err := r.resourceMetric(&p, specReplicas, p.Target, name, container, spec.Type, obs, tol)
		if err != nil {
			return p, st, fail(&p, reason, err, wrap(err))
		}
		p.Timestamp = obs.Timestamp
		if spec.Type == autoscalingv2.ResourceMetricSourceType {
			st = autoscalingv2.MetricStatus{
				Type:     autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricStatus{Name: name, Current: current},
			}
		} else {
			st = autoscalingv2.MetricStatus{
				Type:              autoscalingv2.ContainerResourceMetricSourceType,
				ContainerResource: &autoscalingv2.ContainerResourceMetricStatus{Name: name, Container: container, Current: current},
			}
		}

	case autoscalingv2.ExternalMetricSourceType:
		src := spec.External
		p.Name, p.Target = src.Metric.Name, src.Target
		wrap := func(inner error) string {
			return fmt.Sprintf("failed to get %s external metric value: %v", src.Metric.Name, inner)
		}
		desc := fmt.Sprintf("external metric %s(%+v)", src.Metric.Name, src.Metric.Selector)
		status := autoscalingv2.MetricStatus{
			Type: autoscalingv2.ExternalMetricSourceType,
			External: &autoscalingv2.ExternalMetricStatus{
				Metric: autoscalingv2.MetricIdentifier{Name: src.Metric.Name, Selector: src.Metric.Selector},
			},
		}
		fetchErr := func() error {
			return fmt.Errorf("unable to get external metric %s/%s/%+v: %s", r.in.Namespace, src.Metric.Name, src.Metric.Selector, obs.Error)
		}
		switch {
		case src.Target.AverageValue != nil:
			outer := func(inner error) string {
				return wrap(fmt.Errorf("failed to get %s external metric: %w", src.Metric.Name, inner))
			}
			if _, err := metav1.LabelSelectorAsSelector(src.Metric.Selector); err != nil {
				return p, st, fail(&p, "FailedGetExternalMetric", err, outer(err))
			}
			if obs.Error != "" {
				err := fetchErr()
				return p, st, fail(&p, "FailedGetExternalMetric", err, outer(err))
			}
			var usage int64
			for _, v := range obs.Values {
				usage += v
				if usage < 0 {
					// Only an int64 overflow gets here, as upstream assumes.
					usage = math.MaxInt64
					break
				}
			}
			replicas, avg, ratio, rule := perPodReplicas(statusReplicas, usage, src.Target.AverageValue.MilliValue(), tol, true)
			p.UsageRatio, p.Replicas, p.Rule, p.Timestamp = Ratio(ratio), replicas, rule, obs.Timestamp
			status.External.Current.AverageValue = resource.NewMilliQuantity(avg, resource.DecimalSI)
		case src.Target.Value != nil:
			outer := func(inner error) string {
				return wrap(fmt.Errorf("failed to get external metric %s: %w", src.Metric.Name, inner))
			}
			if _, err := metav1.LabelSelectorAsSelector(src.Metric.Selector); err != nil {
				return p, st, fail(&p, "FailedGetExternalMetric", err, outer(err))
			}
			if obs.Error != "" {
				err := fetchErr()
				return p, st, fail(&p, "FailedGetExternalMetric", err, outer(err))
			}
			var usage int64
			for _, v := range obs.Values {
				if v > 0 && usage > math.MaxInt64-v {
					usage = math.MaxInt64
					break
				}
				usage += v
			}
			ratio := float64(usage) / float64(src.Target.Value.MilliValue())
			p.UsageRatio = Ratio(ratio)
			replicas, rule, ready, err := r.calc.ratioReplicas(specReplicas, ratio, tol)
			if err != nil {
				return p, st, fail(&p, "FailedGetExternalMetric", err, outer(err))
			}
			p.Replicas, p.Rule, p.ReadyPods = replicas, rule, int(ready)
			status.External.Current.Value = resource.NewMilliQuantity(usage, resource.DecimalSI)
		default:
			err := errors.New("invalid external metric source: neither a value target nor an average value target was set")
			return p, st, fail(&p, "FailedGetExternalMetric", err, wrap(err))
		}
		p.Description = desc
		st = status

	default:
		err := fmt.Errorf("unknown metric source type %q", string(spec.Type))
		return p, st, fail(&p, "InvalidMetricSourceType", err, err.Error())
	}
	return p, st, nil
}

// resourceMetric is upstream's computeStatusForResourceMetricGeneric with
// GetResourceReplicas and GetRawResourceReplicas.
func (r *reconciler) resourceMetric(p *Proposal, current int32, target autoscalingv2.MetricTarget, name corev1.ResourceName, container string, typ autoscalingv2.MetricSourceType, obs Observation, tol tolerances) (autoscalingv2.MetricValueStatus, error) {
	fetchErr := func() error {
		return fmt.Errorf("unable to get metrics for resource %s: %w", name, errors.New(obs.Error))
	}
	if target.AverageValue != nil {
		if obs.Error != "" {
			return autoscalingv2.MetricValueStatus{}, fmt.Errorf("failed to get %s usage: %w", name, fetchErr())
		}
		o, usage, err := r.calc.plainReplicas(samplesOf(obs), current, target.AverageValue.MilliValue(), tol, name)
		p.applyOutcome(o)
		if err != nil {
			return autoscalingv2.MetricValueStatus{}, fmt.Errorf("failed to get %s usage: %w", name, err)
		}
		p.Description = fmt.Sprintf("%s resource", name.String())
		q := buildQuantity(name, usage)
		return autoscalingv2.MetricValueStatus{AverageValue: &q}, nil
	}
	if target.AverageUtilization == nil {
		return autoscalingv2.MetricValueStatus{}, errors.New("invalid resource metric source: neither an average utilization target nor an average value (usage) target was set")
	}
	if obs.Error != "" {
		return autoscalingv2.MetricValueStatus{}, fmt.Errorf("failed to get %s utilization: %w", name, fetchErr())
	}
	o, utilization, raw, err := r.calc.resourceReplicas(current, *target.AverageUtilization, name, container, tol, samplesOf(obs))
	p.applyOutcome(o)
	if err != nil {
		return autoscalingv2.MetricValueStatus{}, fmt.Errorf("failed to get %s utilization: %w", name, err)
	}
	p.Description = fmt.Sprintf("%s resource utilization (percentage of request)", name)
	if typ == autoscalingv2.ContainerResourceMetricSourceType {
		p.Description = fmt.Sprintf("%s container resource utilization (percentage of request)", name)
	}
	q := buildQuantity(name, raw)
	return autoscalingv2.MetricValueStatus{AverageUtilization: &utilization, AverageValue: &q}, nil
}

// buildQuantity formats memory in binary units and the rest in decimal ones,
// as upstream (and metrics-server) do.
func buildQuantity(name corev1.ResourceName, milli int64) resource.Quantity {
	format := resource.DecimalSI
	if name == corev1.ResourceMemory {
		format = resource.BinarySI
	}
	return *resource.NewMilliQuantity(milli, format)
}

// perPodReplicas is upstream's GetObjectPerPodMetricReplicas and
// GetExternalPerPodMetricReplicas after the fetch: the total divided by the
// target average, unless the per-replica ratio is within tolerance. The
// external variant caps at MaxInt32 and MaxInt64 where the object one does not.
func perPodReplicas(statusReplicas int32, usage, targetAverage int64, tol tolerances, external bool) (replicas int32, average int64, ratio float64, rule Rule) {
	replicas = statusReplicas
	rule = RuleWithinTolerance
	ratio = float64(usage) / (float64(targetAverage) * float64(replicas))
	if !tol.within(ratio) {
		rule = RuleTotalOverAverage
		f := math.Ceil(float64(usage) / float64(targetAverage))
		if external && f > float64(math.MaxInt32) {
			replicas = math.MaxInt32
		} else {
			replicas = int32(f)
		}
	}
	if external && float64(usage) >= float64(math.MaxInt64) {
		average = math.MaxInt64
	} else {
		average = int64(math.Ceil(float64(usage) / float64(statusReplicas)))
	}
	return replicas, average, ratio, rule
}

func (p *Proposal) applyOutcome(o outcome) {
	p.Replicas, p.Rule = o.replicas, o.rule
	p.UsageRatio = Ratio(o.ratio)
	if o.adjusted != nil {
		a := Ratio(*o.adjusted)
		p.AdjustedRatio = &a
	}
	p.Missing, p.UnreadyAsZero = o.missing, o.unreadyAsZero
	p.ReadyPods, p.UnreadyPods, p.MissingPods, p.IgnoredPods = o.ready, o.unready, o.missingPods, o.ignored
}

func ptrTo[T any](v T) *T { return &v }

// currentOf returns the current value of a metric status, whatever its type.
func currentOf(st autoscalingv2.MetricStatus) autoscalingv2.MetricValueStatus {
	switch {
	case st.Object != nil:
		return st.Object.Current
	case st.Pods != nil:
		return st.Pods.Current
	case st.Resource != nil:
		return st.Resource.Current
	case st.ContainerResource != nil:
		return st.ContainerResource.Current
	case st.External != nil:
		return st.External.Current
	}
	return autoscalingv2.MetricValueStatus{}
}
