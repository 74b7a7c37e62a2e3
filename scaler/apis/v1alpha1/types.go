package v1alpha1

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Autoscaler scales a workload through its scale subresource with the
// autoscaling/v2 algorithm, as a HorizontalPodAutoscaler does, but keeps its
// stabilization history in its status (a restarted controller honours windows
// that began before it started), can run dry, and explains its last decision.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=asc,categories=hpa-engine
// +kubebuilder:printcolumn:name="Reference",type=string,JSONPath=`.spec.scaleTargetRef.name`,description="The scaled workload's name"
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.scaleTargetRef.kind`,description="The scaled workload's kind",priority=1
// +kubebuilder:printcolumn:name="Min",type=integer,JSONPath=`.spec.minReplicas`
// +kubebuilder:printcolumn:name="Max",type=integer,JSONPath=`.spec.maxReplicas`
// +kubebuilder:printcolumn:name="Current",type=integer,JSONPath=`.status.currentReplicas`
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.status.desiredReplicas`
// +kubebuilder:printcolumn:name="DryRun",type=boolean,JSONPath=`.spec.dryRun`,priority=1
// +kubebuilder:printcolumn:name="Paused",type=boolean,JSONPath=`.spec.paused`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Autoscaler struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what to scale and on which metrics.
	Spec AutoscalerSpec `json:"spec"`
	// status is what the controller observed and decided last.
	// +optional
	Status AutoscalerStatus `json:"status,omitempty"`
}

// AutoscalerList is a list of Autoscalers.
//
// +kubebuilder:object:root=true
type AutoscalerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Autoscaler `json:"items"`
}

// AutoscalerSpec is autoscaling/v2's HorizontalPodAutoscalerSpec field for
// field, with the same JSON names, plus dryRun and paused. The fields are
// copied rather than embedded so that the schema can carry validation that
// upstream does in Go (the rules below and on the fields).
//
// The rules mirror upstream's ValidateHorizontalPodAutoscalerSpec where CEL
// says it cheaply; minReplicas 0 is allowed, as with the HPAScaleToZero gate,
// only with an Object or External metric.
//
// +kubebuilder:validation:XValidation:rule="!has(self.minReplicas) || self.minReplicas <= self.maxReplicas",message="maxReplicas must be greater than or equal to minReplicas",fieldPath=".maxReplicas"
// +kubebuilder:validation:XValidation:rule="!has(self.minReplicas) || self.minReplicas > 0 || (has(self.metrics) && self.metrics.exists(m, m.type == 'Object' || m.type == 'External'))",message="minReplicas 0 needs at least one Object or External metric",fieldPath=".minReplicas"
type AutoscalerSpec struct {
	// scaleTargetRef points to the workload to scale: anything with a scale
	// subresource.
	ScaleTargetRef autoscalingv2.CrossVersionObjectReference `json:"scaleTargetRef"`

	// minReplicas is the lower bound of the replica count; 1 when unset. It
	// may be 0 only with an Object or External metric.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MinReplicas *int32 `json:"minReplicas,omitempty"`

	// maxReplicas is the upper bound of the replica count, at least 1 and
	// at least minReplicas.
	// +kubebuilder:validation:Minimum=1
	MaxReplicas int32 `json:"maxReplicas"`

	// metrics are the signals the replica count follows; the largest
	// proposal wins. Unset means upstream's default, 80% average CPU
	// utilization, so HPA manifests without metrics convert too; an empty
	// list is refused. The bound keeps the CEL rules cheap.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(m, m.type in ['Object', 'Pods', 'Resource', 'ContainerResource', 'External'])",message="type must be one of Object, Pods, Resource, ContainerResource, External"
	// +kubebuilder:validation:XValidation:rule="self.all(m, (m.type == 'Object') == has(m.object) && (m.type == 'Pods') == has(m.pods) && (m.type == 'Resource') == has(m.resource) && (m.type == 'ContainerResource') == has(m.containerResource) && (m.type == 'External') == has(m.external))",message="each metric must populate exactly the source its type names"
	// +kubebuilder:validation:XValidation:rule="self.all(m, (!has(m.object) || m.object.target.type in ['Utilization', 'Value', 'AverageValue']) && (!has(m.pods) || m.pods.target.type in ['Utilization', 'Value', 'AverageValue']) && (!has(m.resource) || m.resource.target.type in ['Utilization', 'Value', 'AverageValue']) && (!has(m.containerResource) || m.containerResource.target.type in ['Utilization', 'Value', 'AverageValue']) && (!has(m.external) || m.external.target.type in ['Utilization', 'Value', 'AverageValue']))",message="target type must be one of Utilization, Value, AverageValue"
	// +kubebuilder:validation:XValidation:rule="self.all(m, (!has(m.resource) || !has(m.resource.target.averageUtilization) || m.resource.target.averageUtilization > 0) && (!has(m.containerResource) || !has(m.containerResource.target.averageUtilization) || m.containerResource.target.averageUtilization > 0))",message="averageUtilization must be greater than 0"
	// +listType=atomic
	// +optional
	Metrics []autoscalingv2.MetricSpec `json:"metrics,omitempty"`

	// behavior configures scaling up and down separately (stabilization
	// windows, policies); upstream's defaults apply when unset.
	// +kubebuilder:validation:XValidation:rule="(!has(self.scaleUp) || !has(self.scaleUp.stabilizationWindowSeconds) || (self.scaleUp.stabilizationWindowSeconds >= 0 && self.scaleUp.stabilizationWindowSeconds <= 3600)) && (!has(self.scaleDown) || !has(self.scaleDown.stabilizationWindowSeconds) || (self.scaleDown.stabilizationWindowSeconds >= 0 && self.scaleDown.stabilizationWindowSeconds <= 3600))",message="stabilizationWindowSeconds must be between 0 and 3600"
	// +kubebuilder:validation:XValidation:rule="(!has(self.scaleUp) || !has(self.scaleUp.selectPolicy) || self.scaleUp.selectPolicy in ['Max', 'Min', 'Disabled']) && (!has(self.scaleDown) || !has(self.scaleDown.selectPolicy) || self.scaleDown.selectPolicy in ['Max', 'Min', 'Disabled'])",message="selectPolicy must be one of Max, Min, Disabled"
	// +kubebuilder:validation:XValidation:rule="(!has(self.scaleUp) || !has(self.scaleUp.policies) || self.scaleUp.policies.all(p, p.type in ['Pods', 'Percent'] && p.value > 0 && p.periodSeconds > 0 && p.periodSeconds <= 1800)) && (!has(self.scaleDown) || !has(self.scaleDown.policies) || self.scaleDown.policies.all(p, p.type in ['Pods', 'Percent'] && p.value > 0 && p.periodSeconds > 0 && p.periodSeconds <= 1800))",message="policies need type Pods or Percent, value > 0 and periodSeconds in 1..1800"
	// +optional
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`

	// dryRun makes the controller recommend and record (status, history,
	// events) without ever updating the target's scale.
	// +optional
	DryRun bool `json:"dryRun,omitempty"`

	// paused stops the controller from acting on this Autoscaler: no
	// recommendation is applied and its status is left as it is.
	// +optional
	Paused bool `json:"paused,omitempty"`
}

// AutoscalerStatus is autoscaling/v2's HorizontalPodAutoscalerStatus field
// for field, plus what upstream keeps only in memory (the stabilization
// history) and the reasoning behind the last decision.
type AutoscalerStatus struct {
	// observedGeneration is the most recent generation the controller acted on.
	// +optional
	ObservedGeneration *int64 `json:"observedGeneration,omitempty"`

	// lastScaleTime is the last time the controller changed the scale.
	// +optional
	LastScaleTime *metav1.Time `json:"lastScaleTime,omitempty"`

	// currentReplicas is the target's replica count as last seen.
	// +optional
	CurrentReplicas int32 `json:"currentReplicas,omitempty"`

	// desiredReplicas is the replica count last computed.
	// +optional
	DesiredReplicas int32 `json:"desiredReplicas"`

	// currentMetrics is the last read state of the metrics.
	// +listType=atomic
	// +optional
	CurrentMetrics []autoscalingv2.MetricStatus `json:"currentMetrics,omitempty"`

	// conditions are upstream's AbleToScale, ScalingActive and
	// ScalingLimited, with upstream's reasons.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []autoscalingv2.HorizontalPodAutoscalerCondition `json:"conditions,omitempty"`

	// history is the state the algorithm carries between cycles; upstream
	// keeps it in memory and loses it on restart.
	// +optional
	History *AutoscalerHistory `json:"history,omitempty"`

	// lastExplanation says why desiredReplicas is what it is.
	// +optional
	LastExplanation *Explanation `json:"lastExplanation,omitempty"`

	// lastRecommendationTime is when desiredReplicas was last computed.
	// +optional
	LastRecommendationTime *metav1.Time `json:"lastRecommendationTime,omitempty"`
}

// MaxHistoryItems bounds each list of AutoscalerHistory; it equals
// recommender.MaxHistory (a test checks it), and the MaxItems markers below
// must follow it.
const MaxHistoryItems = 1024

// AutoscalerHistory is the recommender's History as the API stores it.
// Timestamps are MicroTime: a window's edge computed from a stored history
// is off by under a microsecond, not by up to a second as metav1.Time would
// make it.
type AutoscalerHistory struct {
	// recommendations are the unstabilized recommendations of the longest
	// stabilization window. Entries are kept in the order the recommender
	// keeps them (it reuses old slots in place).
	// +kubebuilder:validation:MaxItems=1024
	// +listType=atomic
	// +optional
	Recommendations []TimestampedRecommendation `json:"recommendations,omitempty"`

	// scaleUpEvents are the scale-ups of the longest scale-up policy period.
	// +kubebuilder:validation:MaxItems=1024
	// +listType=atomic
	// +optional
	ScaleUpEvents []ScaleEvent `json:"scaleUpEvents,omitempty"`

	// scaleDownEvents are the scale-downs of the longest scale-down policy
	// period.
	// +kubebuilder:validation:MaxItems=1024
	// +listType=atomic
	// +optional
	ScaleDownEvents []ScaleEvent `json:"scaleDownEvents,omitempty"`
}

// TimestampedRecommendation is one unstabilized recommendation.
type TimestampedRecommendation struct {
	// replicas is the recommended replica count.
	Replicas int32 `json:"replicas"`
	// timestamp is when it was computed.
	Timestamp metav1.MicroTime `json:"timestamp"`
}

// ScaleEvent is one change of the target's scale made by the controller.
type ScaleEvent struct {
	// replicaChange is how many replicas were added (scale-up) or removed
	// (scale-down), as a positive number.
	ReplicaChange int32 `json:"replicaChange"`
	// timestamp is when the scale was changed.
	Timestamp metav1.MicroTime `json:"timestamp"`
	// outdated marks an event older than every policy period, whose slot
	// the recommender may reuse.
	// +optional
	Outdated bool `json:"outdated,omitempty"`
}

// Explanation is a short account of the last decision: which metric won,
// what each metric proposed and what moved the result from there.
type Explanation struct {
	// metric describes the winning metric as upstream does ("pods metric qps").
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Metric string `json:"metric,omitempty"`
	// metricIndex is the winning metric's index in spec.metrics, -1 if none.
	// +optional
	MetricIndex int32 `json:"metricIndex"`
	// metricDesiredReplicas is the largest valid proposal, -1 when none
	// could be used.
	// +optional
	MetricDesiredReplicas int32 `json:"metricDesiredReplicas"`
	// proposals are the metrics' proposals, in spec order.
	// +kubebuilder:validation:MaxItems=64
	// +listType=atomic
	// +optional
	Proposals []ProposalSummary `json:"proposals,omitempty"`
	// steps are what changed the count after the proposals (stabilization,
	// bounds, policies), in the order they applied.
	// +kubebuilder:validation:MaxItems=16
	// +listType=atomic
	// +optional
	Steps []ExplanationStep `json:"steps,omitempty"`
	// rescale is true when the decision was to change the scale.
	// +optional
	Rescale bool `json:"rescale,omitempty"`
	// message is the rescale reason, or the error that held the count.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Message string `json:"message,omitempty"`
}

// ProposalSummary is one metric's proposal.
type ProposalSummary struct {
	// type is the metric source type.
	Type autoscalingv2.MetricSourceType `json:"type"`
	// name is the resource or metric name.
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Name string `json:"name,omitempty"`
	// replicas is the proposed replica count (0 when the metric failed).
	Replicas int32 `json:"replicas"`
	// rule is the replica calculator's rule that decided it.
	// +optional
	Rule string `json:"rule,omitempty"`
	// error is why the metric could not be used.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Error string `json:"error,omitempty"`
}

// ExplanationStep is one change of the replica count after the proposals.
type ExplanationStep struct {
	// kind names the step (Stabilized, Limited, Hold, ...).
	Kind string `json:"kind"`
	// from and to are the counts before and after the step.
	From int32 `json:"from"`
	To   int32 `json:"to"`
	// reason is upstream's condition reason for the step.
	// +optional
	Reason string `json:"reason,omitempty"`
	// windowSeconds is the stabilization window that applied.
	// +optional
	WindowSeconds *int32 `json:"windowSeconds,omitempty"`
	// limit is the bound or policy limit that applied, and policy which one.
	// +optional
	Limit *int32 `json:"limit,omitempty"`
	// +kubebuilder:validation:MaxLength=512
	// +optional
	Policy string `json:"policy,omitempty"`
}
