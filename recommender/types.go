package recommender

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Input is everything one recommendation depends on. Recommend reads nothing
// else: no clock, no client. Field names follow autoscaling/v2 where one exists.
type Input struct {
	// Namespace and Name identify the autoscaler. Upstream uses the namespace
	// in some error messages (object and external metrics), so it is part of
	// the input.
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// Generation is the autoscaler's metadata.generation; it becomes
	// status.observedGeneration as in v1.37 (HPAGeneration is on by default).
	Generation int64 `json:"generation,omitempty"`

	// Spec is the autoscaling/v2 spec. Recommend applies the API server's
	// defaulting first (see DefaultSpec), so a spec read from a manifest and
	// one read back from the API give the same result.
	Spec autoscalingv2.HorizontalPodAutoscalerSpec `json:"spec"`
	// Status is the autoscaler's previous status. Its conditions carry over
	// (upstream updates them in place: transition times, ScaledToZero), and
	// desiredReplicas and lastScaleTime are kept when nothing is computed.
	Status autoscalingv2.HorizontalPodAutoscalerStatus `json:"status,omitempty"`

	// Target is the state of the scale target as the controller sees it.
	Target Target `json:"target"`
	// Observations holds one entry per metric of the defaulted spec, in the
	// same order (a spec without metrics defaults to one CPU utilization
	// metric, so it needs one observation).
	Observations []Observation `json:"observations"`

	// Settings are the controller flags; zero values mean upstream's defaults.
	Settings Settings `json:"settings,omitempty"`
	// History is what upstream keeps in memory per autoscaler. An empty
	// recommendation list means "first time seen": it is seeded with the
	// current replicas at Now, as upstream does.
	History History `json:"history,omitempty"`

	// Now is the time the recommendation is computed at.
	Now time.Time `json:"now"`
}

// Target is the scale target's state: its scale subresource and its pods.
type Target struct {
	// SpecReplicas is scale.spec.replicas, upstream's "currentReplicas".
	SpecReplicas int32 `json:"specReplicas"`
	// StatusReplicas is scale.status.replicas; Object and External metrics
	// with an AverageValue target divide by it.
	StatusReplicas int32 `json:"statusReplicas"`
	// Selector is scale.status.selector, the label selector in string form.
	// Upstream refuses to compute anything when it is empty or invalid.
	Selector string `json:"selector"`
	// Pods are the pods the selector matches, as the pod lister returns them.
	Pods []Pod `json:"pods,omitempty"`
	// SelectingAutoscalers, when it has more than one entry, names the
	// autoscalers whose selectors also match these pods; upstream then refuses
	// to scale (AmbiguousSelector). The order is kept in the message.
	SelectingAutoscalers []string `json:"selectingAutoscalers,omitempty"`
}

// Pod is the part of a pod the algorithm reads.
type Pod struct {
	Name  string          `json:"name"`
	Phase corev1.PodPhase `json:"phase,omitempty"`
	// Ready is the pod's first Ready condition; nil when it has none.
	Ready *PodReadyCondition `json:"ready,omitempty"`
	// StartTime is status.startTime; nil when the kubelet has not set it.
	StartTime *time.Time `json:"startTime,omitempty"`
	// Terminating is true when metadata.deletionTimestamp is set.
	Terminating bool `json:"terminating,omitempty"`
	// Containers are spec.containers with their resource requests.
	Containers []Container `json:"containers,omitempty"`
	// InitContainers are spec.initContainers; restartable ones (sidecars)
	// count towards the pod's requests.
	InitContainers []Container `json:"initContainers,omitempty"`
	// Requests are the pod-level spec.resources.requests (PodLevelResources).
	Requests corev1.ResourceList `json:"requests,omitempty"`
	// Overhead is spec.overhead; it counts only with pod-level requests, as
	// upstream's pod-level path adds it.
	Overhead corev1.ResourceList `json:"overhead,omitempty"`
}

// PodReadyCondition is the status of a pod's Ready condition and when it last
// changed.
type PodReadyCondition struct {
	Status             corev1.ConditionStatus `json:"status"`
	LastTransitionTime time.Time              `json:"lastTransitionTime"`
}

// Container is a container's name and resource requests.
type Container struct {
	Name     string              `json:"name"`
	Requests corev1.ResourceList `json:"requests,omitempty"`
	// Restartable marks an init container with restartPolicy Always (a
	// sidecar). It is ignored on regular containers.
	Restartable bool `json:"restartable,omitempty"`
}

// Observation is what upstream's metrics client returns for one metric. Which
// fields count depends on the metric's type:
//   - Resource, ContainerResource, Pods: PodMetrics;
//   - Object: Value;
//   - External: Values (summed as upstream sums them).
//
// When Error is set the fetch failed and nothing else is read.
type Observation struct {
	// PodMetrics are per-pod samples in milli-units (CPU in millicores,
	// memory in milli-bytes, custom metrics as Quantity.MilliValue()).
	PodMetrics []PodMetric `json:"podMetrics,omitempty"`
	// Value is an Object metric's value in milli-units.
	Value int64 `json:"value,omitempty"`
	// Values are an External metric's values in milli-units.
	Values []int64 `json:"values,omitempty"`
	// Timestamp is the metric's timestamp as the client reports it.
	Timestamp time.Time `json:"timestamp,omitzero"`
	// Error is the metrics client's error message; upstream wraps it into the
	// condition message.
	Error string `json:"error,omitempty"`
}

// PodMetric is one pod's sample.
type PodMetric struct {
	Pod string `json:"pod"`
	// Value is in milli-units.
	Value int64 `json:"value"`
	// Timestamp and Window are the sample's end and length; the CPU
	// initialization rules compare them with the pod's readiness transition.
	// Upstream's custom metrics client uses one minute when the API gives no
	// window; callers pass the window upstream would have used.
	Timestamp time.Time       `json:"timestamp"`
	Window    metav1.Duration `json:"window"`
}

// Settings are the controller's flags. A nil field takes upstream's default.
type Settings struct {
	// Tolerance is --horizontal-pod-autoscaler-tolerance (default 0.1); a
	// behavior's scaleUp/scaleDown tolerance overrides it per direction.
	Tolerance *float64 `json:"tolerance,omitempty"`
	// CPUInitializationPeriod is --horizontal-pod-autoscaler-cpu-initialization-period (5m).
	CPUInitializationPeriod *metav1.Duration `json:"cpuInitializationPeriod,omitempty"`
	// InitialReadinessDelay is --horizontal-pod-autoscaler-initial-readiness-delay (30s).
	InitialReadinessDelay *metav1.Duration `json:"initialReadinessDelay,omitempty"`
	// DownscaleStabilizationWindow is
	// --horizontal-pod-autoscaler-downscale-stabilization (5m); it applies
	// without behavior and to a scaleDown rule without a window.
	DownscaleStabilizationWindow *metav1.Duration `json:"downscaleStabilizationWindow,omitempty"`
}

// Upstream's controller defaults (kube-controller-manager v1.37).
const (
	DefaultTolerance                    = 0.1
	DefaultCPUInitializationPeriod      = 5 * time.Minute
	DefaultInitialReadinessDelay        = 30 * time.Second
	DefaultDownscaleStabilizationWindow = 5 * time.Minute
)

// History is the per-autoscaler state upstream keeps in memory between
// cycles: unstabilized recommendations and scale events. Upstream reuses old
// slots in place rather than trimming, and so does this package; the lists
// stay bounded by the windows and policy periods (and by MaxHistory).
type History struct {
	Recommendations []TimestampedRecommendation `json:"recommendations,omitempty"`
	ScaleUpEvents   []ScaleEvent                `json:"scaleUpEvents,omitempty"`
	ScaleDownEvents []ScaleEvent                `json:"scaleDownEvents,omitempty"`
}

// MaxHistory bounds each history list against callers that feed in more than
// any window needs (the longest window, 3600 s, at a 15 s sync is 241).
const MaxHistory = 1024

// TimestampedRecommendation is one unstabilized recommendation.
type TimestampedRecommendation struct {
	Replicas  int32     `json:"replicas"`
	Timestamp time.Time `json:"timestamp"`
}

// ScaleEvent is one rescale: how many replicas were added (or removed) and
// when. Outdated marks a slot upstream may reuse for the next event.
type ScaleEvent struct {
	ReplicaChange int32     `json:"replicaChange"`
	Timestamp     time.Time `json:"timestamp"`
	Outdated      bool      `json:"outdated,omitempty"`
}

// Result is the recommendation and its reasons.
type Result struct {
	// CurrentReplicas is the target's scale.spec.replicas.
	CurrentReplicas int32 `json:"currentReplicas"`
	// DesiredReplicas is what the controller sets the scale to; equal to
	// CurrentReplicas when it does not rescale.
	DesiredReplicas int32 `json:"desiredReplicas"`
	// Rescale is true when the controller would update the scale.
	Rescale bool `json:"rescale"`
	// RescaleReason is upstream's event reason ("cpu resource utilization
	// (percentage of request) above target", "All metrics below target", ...).
	RescaleReason string `json:"rescaleReason,omitempty"`

	// Proposals has one entry per metric of the defaulted spec, in order.
	// Empty when no metric was computed (bounds, zero replicas, selector).
	Proposals []Proposal `json:"proposals,omitempty"`
	// MetricDesiredReplicas is the largest valid proposal, -1 when metrics
	// were computed and none could be used (negative metric values can give
	// -1 as a valid proposal too, as upstream).
	MetricDesiredReplicas int32 `json:"metricDesiredReplicas"`
	// Metric is upstream's description of the winning metric ("pods metric
	// qps"), and MetricIndex its index in the spec (-1 if none).
	Metric      string `json:"metric,omitempty"`
	MetricIndex int    `json:"metricIndex"`

	// Steps are what changed the result between the proposals and
	// DesiredReplicas, in the order upstream applies them.
	Steps []Step `json:"steps,omitempty"`

	// Status is the autoscaler status upstream would write: current and
	// desired replicas, lastScaleTime, currentMetrics and conditions. When
	// Rescale is true it assumes the scale update succeeds (AbleToScale
	// SucceededRescale, ScaledToZero); see RescaleFailed otherwise.
	Status autoscalingv2.HorizontalPodAutoscalerStatus `json:"status"`
	// History is the input history with this cycle's recommendation
	// recorded. Scale events are recorded by RecordScaleEvent after a
	// successful rescale.
	History History `json:"history"`
	// Error is the error upstream's reconcile would return (some or all
	// metrics invalid, selector problems); informational.
	Error string `json:"error,omitempty"`
}

// Proposal is one metric's replica proposal and how it was reached.
type Proposal struct {
	// Type is the metric source type; Name the resource or metric name.
	Type autoscalingv2.MetricSourceType `json:"type"`
	Name string                         `json:"name"`
	// Description is upstream's metric description, used in conditions.
	Description string `json:"description,omitempty"`
	// Target is the spec's target.
	Target autoscalingv2.MetricTarget `json:"target"`
	// Current is the value upstream reports in currentMetrics.
	Current autoscalingv2.MetricValueStatus `json:"current"`
	// UsageRatio is current over target as upstream computes it; AdjustedRatio
	// the ratio after missing and unready pods were filled in (if it was).
	UsageRatio    Ratio  `json:"usageRatio"`
	AdjustedRatio *Ratio `json:"adjustedRatio,omitempty"`
	// Replicas is the proposal (0 when Error is set).
	Replicas int32 `json:"replicas"`
	// Rule is the rule that decided Replicas.
	Rule Rule `json:"rule"`
	// Missing says what missing pods were assumed to use; UnreadyAsZero that
	// unready pods were counted as using nothing (scale-up only).
	Missing       MissingAssumption `json:"missing,omitempty"`
	UnreadyAsZero bool              `json:"unreadyAsZero,omitempty"`
	// Pod counts for pod-based metrics, as upstream groups them.
	ReadyPods   int `json:"readyPods,omitempty"`
	UnreadyPods int `json:"unreadyPods,omitempty"`
	MissingPods int `json:"missingPods,omitempty"`
	IgnoredPods int `json:"ignoredPods,omitempty"`
	// Timestamp is the metric timestamp upstream associates with the proposal.
	Timestamp time.Time `json:"timestamp,omitzero"`
	// Error is why the metric could not be used, and Reason the ScalingActive
	// reason upstream gives for it (FailedGetResourceMetric, ...).
	Error  string `json:"error,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Rule names the rule that decided a proposal.
type Rule string

// The rules of upstream's replica calculator.
const (
	// RuleWithinTolerance: the usage ratio is within tolerance, keep current.
	RuleWithinTolerance Rule = "WithinTolerance"
	// RuleRatio: ceil(usage ratio x ready pods).
	RuleRatio Rule = "Ratio"
	// RuleAdjustedWithinTolerance: after filling in missing/unready pods the
	// ratio is within tolerance, keep current.
	RuleAdjustedWithinTolerance Rule = "AdjustedWithinTolerance"
	// RuleDirectionFlip: filling in missing/unready pods flipped the
	// direction of the ratio, keep current.
	RuleDirectionFlip Rule = "DirectionFlip"
	// RuleCountFlip: the adjusted replica count points the other way from
	// the adjusted ratio, keep current.
	RuleCountFlip Rule = "CountFlip"
	// RuleAdjustedRatio: ceil(adjusted ratio x pods counted).
	RuleAdjustedRatio Rule = "AdjustedRatio"
	// RuleFromZero: the target has zero replicas; ceil(usage ratio).
	RuleFromZero Rule = "FromZero"
	// RuleTotalOverAverage: ceil(total / target average value), for Object
	// and External metrics with an AverageValue target.
	RuleTotalOverAverage Rule = "TotalOverAverage"
	// RuleFailed: the metric could not be used.
	RuleFailed Rule = "Failed"
)

// MissingAssumption says what pods without a sample were assumed to use.
type MissingAssumption string

// The assumptions upstream makes for missing pods.
const (
	// MissingNone: no pod was missing, or the ratio was exactly 1.
	MissingNone MissingAssumption = ""
	// MissingAtTarget: scale-down of a Pods (or raw value) metric, missing
	// pods use the target value.
	MissingAtTarget MissingAssumption = "AtTarget"
	// MissingAtRequest: scale-down of a utilization metric, missing pods use
	// max(100%, target utilization) of their request.
	MissingAtRequest MissingAssumption = "AtMax100PercentOrTarget"
	// MissingAtZero: scale-up, missing pods use nothing.
	MissingAtZero MissingAssumption = "AtZero"
)

// Step is one thing that changed the replica count after the proposals.
type Step struct {
	Kind StepKind `json:"kind"`
	From int32    `json:"from"`
	To   int32    `json:"to"`
	// Reason is upstream's condition reason for the step, Message its text.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// WindowSeconds is the stabilization window that applied.
	WindowSeconds *int32 `json:"windowSeconds,omitempty"`
	// Limit is the replica limit a policy or bound imposed, and Policy says
	// which one ("policy Pods 4 per 15 s from 3 replicas ...", "maxReplicas 10").
	Limit  *int32 `json:"limit,omitempty"`
	Policy string `json:"policy,omitempty"`
}

// StepKind names a step.
type StepKind string

// The steps, in upstream's order.
const (
	// StepScalingDisabled: the target has zero replicas, nothing is done.
	StepScalingDisabled StepKind = "ScalingDisabled"
	// StepAboveMax / StepBelowMin: the current count is out of bounds and is
	// brought back without looking at metrics.
	StepAboveMax StepKind = "CurrentAboveMax"
	StepBelowMin StepKind = "CurrentBelowMin"
	// StepStabilized: the stabilization window changed the recommendation.
	StepStabilized StepKind = "Stabilized"
	// StepLimited: a bound, policy or the legacy scale-up limit applied.
	StepLimited StepKind = "Limited"
	// StepFromZeroMin: scaling from zero went to at least minReplicas.
	StepFromZeroMin StepKind = "FromZeroMinReplicas"
	// StepHold: the result equals the current count, nothing to do.
	StepHold StepKind = "Hold"
)

// Ratio is a float64 that survives JSON when it is not finite (a zero target
// gives +Inf or NaN upstream too): those encode as strings.
type Ratio float64

// MarshalJSON encodes finite values as numbers and others as "NaN", "+Inf"
// or "-Inf".
func (r Ratio) MarshalJSON() ([]byte, error) {
	f := float64(r)
	switch {
	case math.IsNaN(f):
		return []byte(`"NaN"`), nil
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON accepts what MarshalJSON produces.
func (r *Ratio) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("ratio %s: %w", b, err)
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("ratio %q: %w", s, err)
		}
		*r = Ratio(f)
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("ratio %s: %w", b, err)
	}
	*r = Ratio(f)
	return nil
}
