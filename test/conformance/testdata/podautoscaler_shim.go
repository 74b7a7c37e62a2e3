// This file is not part of the conformance module. run.sh adds it, through
// `go test -overlay`, to upstream's k8s.io/kubernetes/pkg/controller/podautoscaler
// (a symlink to the module cache, replaced through an alternate go.mod), so that
// the differential test can run one reconcile of upstream's HorizontalController
// with a stabilization history and scale events it injects. Upstream keeps those
// in unexported maps; this shim is the only code that touches them.

package podautoscaler

import (
	"context"
	"errors"
	"fmt"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	v1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	corelisters "k8s.io/client-go/listers/core/v1"
	scalefake "k8s.io/client-go/scale/fake"
	core "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	metricsclient "k8s.io/kubernetes/pkg/controller/podautoscaler/metrics"
	"k8s.io/kubernetes/pkg/controller/podautoscaler/monitor"
	consistencyutil "k8s.io/kubernetes/pkg/controller/util/consistency"
	"k8s.io/kubernetes/pkg/controller/util/selectors"
)

// ConformanceRecommendation is one entry of upstream's recommendation history.
type ConformanceRecommendation struct {
	Replicas  int32
	Timestamp time.Time
}

// ConformanceScaleEvent is one entry of upstream's scale-up or scale-down events.
type ConformanceScaleEvent struct {
	Change    int32
	Timestamp time.Time
	Outdated  bool
}

// ConformanceCase is everything one reconcile reads.
type ConformanceCase struct {
	// HPA must already be defaulted as the API server would; its status
	// conditions (e.g. ScaledToZero) are the previous ones.
	HPA *autoscalingv2.HorizontalPodAutoscaler
	// SpecReplicas and StatusReplicas are the target's scale.
	SpecReplicas, StatusReplicas int32
	Selector                     string
	Pods                         []*v1.Pod
	Metrics                      metricsclient.MetricsClient
	// UpdateError, when set, makes every scale update fail with it.
	UpdateError string
	// OtherHPAs are other autoscalers ("namespace/name" to their selector),
	// for AmbiguousSelector.
	OtherHPAs map[string]string

	Tolerance                     float64
	CPUInitializationPeriod       time.Duration
	DelayOfInitialReadinessStatus time.Duration
	DownscaleStabilisationWindow  time.Duration

	// Recommendations nil means "never seen" (upstream seeds it with the
	// current replicas at time.Now()).
	Recommendations []ConformanceRecommendation
	ScaleUpEvents   []ConformanceScaleEvent
	ScaleDownEvents []ConformanceScaleEvent
}

// ConformanceResult is what one reconcile wrote.
type ConformanceResult struct {
	Status        autoscalingv2.HorizontalPodAutoscalerStatus
	ScaleReplicas int32
	Rescaled      bool
	Err           error

	Recommendations []ConformanceRecommendation
	ScaleUpEvents   []ConformanceScaleEvent
	ScaleDownEvents []ConformanceScaleEvent
}

// ConformanceReconcile runs reconcileAutoscaler once for c with fake clients.
func ConformanceReconcile(ctx context.Context, c ConformanceCase) ConformanceResult {
	hpa := c.HPA.DeepCopy()
	key := hpa.Namespace + "/" + hpa.Name

	client := fake.NewClientset(hpa)

	scale := &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: hpa.Spec.ScaleTargetRef.Name, Namespace: hpa.Namespace},
		Spec:       autoscalingv1.ScaleSpec{Replicas: c.SpecReplicas},
		Status:     autoscalingv1.ScaleStatus{Replicas: c.StatusReplicas, Selector: c.Selector},
	}
	// rescaled and scaleReplicas record the update attempted, failed or not.
	rescaled := false
	scaleReplicas := c.SpecReplicas
	scaleClient := &scalefake.FakeScaleClient{}
	scaleClient.AddReactor("get", "*", func(core.Action) (bool, runtime.Object, error) {
		return true, scale.DeepCopy(), nil
	})
	scaleClient.AddReactor("update", "*", func(action core.Action) (bool, runtime.Object, error) {
		obj := action.(core.UpdateAction).GetObject().(*autoscalingv1.Scale)
		rescaled = true
		scaleReplicas = obj.Spec.Replicas
		if c.UpdateError != "" {
			return true, nil, errors.New(c.UpdateError)
		}
		return true, obj.DeepCopy(), nil
	})

	mapper := apimeta.NewDefaultRESTMapper([]schema.GroupVersion{{Group: "apps", Version: "v1"}})
	mapper.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, apimeta.RESTScopeNamespace)

	podLister, err := conformancePodLister(c.Pods)
	if err != nil {
		return ConformanceResult{Err: err}
	}

	a := &HorizontalController{
		scaleNamespacer:              scaleClient,
		hpaNamespacer:                client.AutoscalingV2(),
		mapper:                       mapper,
		tolerance:                    c.Tolerance,
		replicaCalc:                  NewReplicaCalculator(c.Metrics, podLister, c.CPUInitializationPeriod, c.DelayOfInitialReadinessStatus),
		eventRecorder:                &record.FakeRecorder{},
		downscaleStabilisationWindow: c.DownscaleStabilisationWindow,
		monitor:                      monitor.New(),
		podLister:                    podLister,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "conformance"},
		),
		recommendations:  map[string][]timestampedRecommendation{},
		scaleUpEvents:    map[string][]timestampedScaleEvent{},
		scaleDownEvents:  map[string][]timestampedScaleEvent{},
		selectorTracker:  newHPASelectorStore(),
		consistencyStore: consistencyutil.NewNoopConsistencyStore(),
	}
	defer a.queue.ShutDown()
	hpaKey := selectors.Key{Name: hpa.Name, Namespace: hpa.Namespace}
	a.selectorTracker.PutIfAbsent(hpa.Namespace, hpaKey, labels.Nothing())
	for other, selector := range c.OtherHPAs {
		sel, err := labels.Parse(selector)
		if err != nil {
			return ConformanceResult{Err: fmt.Errorf("parse selector of %s: %w", other, err)}
		}
		k := selectors.Parse(other)
		a.selectorTracker.PutIfAbsent(k.Namespace, k, sel)
	}

	if c.Recommendations != nil {
		recs := make([]timestampedRecommendation, 0, len(c.Recommendations))
		for _, r := range c.Recommendations {
			recs = append(recs, timestampedRecommendation{recommendation: r.Replicas, timestamp: r.Timestamp})
		}
		a.recommendations[key] = recs
	}
	a.scaleUpEvents[key] = toScaleEvents(c.ScaleUpEvents)
	a.scaleDownEvents[key] = toScaleEvents(c.ScaleDownEvents)

	err = a.reconcileAutoscaler(ctx, hpa, key)

	out, getErr := client.AutoscalingV2().HorizontalPodAutoscalers(hpa.Namespace).Get(ctx, hpa.Name, metav1.GetOptions{})
	if getErr != nil {
		return ConformanceResult{Err: fmt.Errorf("get hpa after reconcile: %w", getErr)}
	}
	res := ConformanceResult{
		Status:          out.Status,
		ScaleReplicas:   scaleReplicas,
		Rescaled:        rescaled,
		Err:             err,
		ScaleUpEvents:   fromScaleEvents(a.scaleUpEvents[key]),
		ScaleDownEvents: fromScaleEvents(a.scaleDownEvents[key]),
	}
	for _, r := range a.recommendations[key] {
		res.Recommendations = append(res.Recommendations, ConformanceRecommendation{Replicas: r.recommendation, Timestamp: r.timestamp})
	}
	return res
}

func conformancePodLister(pods []*v1.Pod) (corelisters.PodLister, error) {
	indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, p := range pods {
		if err := indexer.Add(p.DeepCopy()); err != nil {
			return nil, fmt.Errorf("add pod: %w", err)
		}
	}
	return corelisters.NewPodLister(indexer), nil
}

// ConformanceMetricProposal is what computeReplicasForMetric returns for one
// metric.
type ConformanceMetricProposal struct {
	Replicas  int32
	Metric    string
	Condition autoscalingv2.HorizontalPodAutoscalerCondition
	Err       error
}

// ConformanceProposals runs computeReplicasForMetric for every metric of
// c.HPA, as computeReplicasForMetrics does once the selector is valid.
func ConformanceProposals(ctx context.Context, c ConformanceCase) ([]ConformanceMetricProposal, error) {
	hpa := c.HPA.DeepCopy()
	selector, err := labels.Parse(c.Selector)
	if err != nil {
		return nil, fmt.Errorf("parse selector: %w", err)
	}
	podLister, err := conformancePodLister(c.Pods)
	if err != nil {
		return nil, err
	}
	a := &HorizontalController{
		tolerance:     c.Tolerance,
		replicaCalc:   NewReplicaCalculator(c.Metrics, podLister, c.CPUInitializationPeriod, c.DelayOfInitialReadinessStatus),
		eventRecorder: &record.FakeRecorder{},
		monitor:       monitor.New(),
		podLister:     podLister,
	}
	out := make([]ConformanceMetricProposal, len(hpa.Spec.Metrics))
	for i, spec := range hpa.Spec.Metrics {
		var status autoscalingv2.MetricStatus
		replicas, metric, _, cond, err := a.computeReplicasForMetric(ctx, hpa, spec, c.SpecReplicas, c.StatusReplicas, selector, &status)
		out[i] = ConformanceMetricProposal{Replicas: replicas, Metric: metric, Condition: cond, Err: err}
	}
	return out, nil
}

func toScaleEvents(in []ConformanceScaleEvent) []timestampedScaleEvent {
	if in == nil {
		return nil
	}
	out := make([]timestampedScaleEvent, 0, len(in))
	for _, e := range in {
		out = append(out, timestampedScaleEvent{replicaChange: e.Change, timestamp: e.Timestamp, outdated: e.Outdated})
	}
	return out
}

func fromScaleEvents(in []timestampedScaleEvent) []ConformanceScaleEvent {
	var out []ConformanceScaleEvent
	for _, e := range in {
		out = append(out, ConformanceScaleEvent{Change: e.replicaChange, Timestamp: e.timestamp, Outdated: e.outdated})
	}
	return out
}
