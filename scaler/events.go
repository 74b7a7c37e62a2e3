package scaler

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

// EventComponent is the source component of the scaler's events.
const EventComponent = "hpa-engine-scaler"

// Event reasons: upstream's HPA controller's, with its messages (per-metric
// failures use the metric's own reason, FailedGetPodsMetric and the like),
// and the engine's own DryRunRescale and FailedGetRecommendation.
const (
	ReasonSuccessfulRescale = "SuccessfulRescale"
	ReasonFailedRescale     = "FailedRescale"
	ReasonFailedGetScale    = "FailedGetScale"
	// ReasonFailedComputeMetricsReplicas is upstream's event when no metric
	// could be used (ScalingActive False); the scaler emits it once per
	// recommendation with the algorithm's error.
	ReasonFailedComputeMetricsReplicas = "FailedComputeMetricsReplicas"
	ReasonFailedUpdateStatus           = "FailedUpdateStatus"
	// The selector problems upstream reports before computing metrics.
	ReasonSelectorRequired  = "SelectorRequired"
	ReasonInvalidSelector   = "InvalidSelector"
	ReasonAmbiguousSelector = "AmbiguousSelector"
	// ReasonDryRunRescale says what a rescale of a dry-run Autoscaler would
	// have been; the scale is never touched.
	ReasonDryRunRescale = "DryRunRescale"
	// ReasonFailedGetRecommendation says the loop computed nothing for the
	// Autoscaler (its scale or pods could not be read, its spec is invalid).
	ReasonFailedGetRecommendation = "FailedGetRecommendation"
)

// NewEventRecorder returns a recorder that writes core/v1 Events, as
// upstream's HPA controller does, through events (the CoreV1 events
// client), and the function that stops its broadcaster. The scheme knows
// the built-in kinds and the Autoscaler, so events reference it properly.
func NewEventRecorder(events typedcorev1.EventsGetter) (record.EventRecorder, func(), error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, nil, err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, nil, err
	}
	b := record.NewBroadcaster()
	b.StartStructuredLogging(3)
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: events.Events("")})
	rec := b.NewRecorder(scheme, corev1.EventSource{Component: EventComponent})
	return rec, b.Shutdown, nil
}
