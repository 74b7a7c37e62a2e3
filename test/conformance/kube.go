package conformance

import (
	"context"
	"errors"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	autoscalingdefaults "k8s.io/kubernetes/pkg/apis/autoscaling/v2"
	metricsclient "k8s.io/kubernetes/pkg/controller/podautoscaler/metrics"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// UpstreamSettings are the controller flags upstream runs with for in: the
// input's, or kube-controller-manager's defaults.
type UpstreamSettings struct {
	Tolerance                     float64
	CPUInitializationPeriod       time.Duration
	DelayOfInitialReadinessStatus time.Duration
	DownscaleStabilisationWindow  time.Duration
}

// SettingsFor resolves s as kube-controller-manager's flags would.
func SettingsFor(s recommender.Settings) UpstreamSettings {
	out := UpstreamSettings{
		Tolerance:                     recommender.DefaultTolerance,
		CPUInitializationPeriod:       recommender.DefaultCPUInitializationPeriod,
		DelayOfInitialReadinessStatus: recommender.DefaultInitialReadinessDelay,
		DownscaleStabilisationWindow:  recommender.DefaultDownscaleStabilizationWindow,
	}
	if s.Tolerance != nil {
		out.Tolerance = *s.Tolerance
	}
	if s.CPUInitializationPeriod != nil {
		out.CPUInitializationPeriod = s.CPUInitializationPeriod.Duration
	}
	if s.InitialReadinessDelay != nil {
		out.DelayOfInitialReadinessStatus = s.InitialReadinessDelay.Duration
	}
	if s.DownscaleStabilizationWindow != nil {
		out.DownscaleStabilisationWindow = s.DownscaleStabilizationWindow.Duration
	}
	return out
}

// HPAFor is the HorizontalPodAutoscaler upstream's informer would hold for
// in: the spec defaulted by the API server's own defaulting function.
func HPAFor(in recommender.Input) *autoscalingv2.HorizontalPodAutoscaler {
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: in.Name, Namespace: in.Namespace, Generation: in.Generation},
		Spec:       *in.Spec.DeepCopy(),
		Status:     *in.Status.DeepCopy(),
	}
	autoscalingdefaults.SetDefaults_HorizontalPodAutoscaler(hpa)
	return hpa
}

// PodsFor turns the input's pods into the objects upstream's pod lister returns.
func PodsFor(in recommender.Input) []*corev1.Pod {
	out := make([]*corev1.Pod, 0, len(in.Target.Pods))
	for _, p := range in.Target.Pods {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: in.Namespace, Labels: map[string]string{"app": "web"}},
			Status:     corev1.PodStatus{Phase: p.Phase},
		}
		if p.Terminating {
			t := metav1.NewTime(in.Now.Add(-time.Second))
			pod.DeletionTimestamp = &t
		}
		if p.StartTime != nil {
			t := metav1.NewTime(*p.StartTime)
			pod.Status.StartTime = &t
		}
		// Other conditions around Ready, as the kubelet sets them: the
		// Ready one must be found among them.
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}
		if p.Ready != nil {
			pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{
				Type:               corev1.PodReady,
				Status:             p.Ready.Status,
				LastTransitionTime: metav1.NewTime(p.Ready.LastTransitionTime),
			})
		}
		pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionFalse})
		for _, c := range p.Containers {
			pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{
				Name: c.Name, Resources: corev1.ResourceRequirements{Requests: c.Requests.DeepCopy()},
			})
		}
		for _, c := range p.InitContainers {
			ic := corev1.Container{Name: c.Name, Resources: corev1.ResourceRequirements{Requests: c.Requests.DeepCopy()}}
			if c.Restartable {
				always := corev1.ContainerRestartPolicyAlways
				ic.RestartPolicy = &always
			}
			pod.Spec.InitContainers = append(pod.Spec.InitContainers, ic)
		}
		if len(p.Requests) > 0 {
			pod.Spec.Resources = &corev1.ResourceRequirements{Requests: p.Requests.DeepCopy()}
		}
		if len(p.Overhead) > 0 {
			pod.Spec.Overhead = p.Overhead.DeepCopy()
		}
		out = append(out, pod)
	}
	return out
}

// FakeMetrics is upstream's MetricsClient serving the input's observations,
// matched to the defaulted spec's metrics by resource and container
// (Resource, ContainerResource) or by metric name (Pods, Object, External);
// the generator keeps those unique within a scenario.
type FakeMetrics struct {
	resources map[[2]string]recommender.Observation
	named     map[string]recommender.Observation
}

var _ metricsclient.MetricsClient = (*FakeMetrics)(nil)

// NewFakeMetrics indexes in's observations by the metric each one answers.
func NewFakeMetrics(in recommender.Input) *FakeMetrics {
	spec := HPAFor(in).Spec
	f := &FakeMetrics{resources: map[[2]string]recommender.Observation{}, named: map[string]recommender.Observation{}}
	for i, m := range spec.Metrics {
		if i >= len(in.Observations) {
			break
		}
		obs := in.Observations[i]
		switch m.Type {
		case autoscalingv2.ResourceMetricSourceType:
			f.resources[[2]string{string(m.Resource.Name), ""}] = obs
		case autoscalingv2.ContainerResourceMetricSourceType:
			f.resources[[2]string{string(m.ContainerResource.Name), m.ContainerResource.Container}] = obs
		case autoscalingv2.PodsMetricSourceType:
			f.named[m.Pods.Metric.Name] = obs
		case autoscalingv2.ObjectMetricSourceType:
			f.named[m.Object.Metric.Name] = obs
		case autoscalingv2.ExternalMetricSourceType:
			f.named[m.External.Metric.Name] = obs
		}
	}
	return f
}

// errNoObservation means the fake was asked for a metric the scenario does not
// have: a harness bug, reported through upstream's error path.
var errNoObservation = errors.New("conformance harness: no observation for this metric")

func podMetrics(obs recommender.Observation) metricsclient.PodMetricsInfo {
	// A fresh map every call: upstream deletes from and adds to it.
	out := make(metricsclient.PodMetricsInfo, len(obs.PodMetrics))
	for _, s := range obs.PodMetrics {
		out[s.Pod] = metricsclient.PodMetric{Timestamp: s.Timestamp, Window: s.Window.Duration, Value: s.Value}
	}
	return out
}

// GetResourceMetric implements metricsclient.MetricsClient.
func (f *FakeMetrics) GetResourceMetric(_ context.Context, res corev1.ResourceName, _ string, _ labels.Selector, container string) (metricsclient.PodMetricsInfo, time.Time, error) {
	obs, ok := f.resources[[2]string{string(res), container}]
	if !ok {
		return nil, time.Time{}, errNoObservation
	}
	if obs.Error != "" {
		return nil, time.Time{}, errors.New(obs.Error)
	}
	return podMetrics(obs), obs.Timestamp, nil
}

// GetRawMetric implements metricsclient.MetricsClient.
func (f *FakeMetrics) GetRawMetric(name string, _ string, _ labels.Selector, _ labels.Selector) (metricsclient.PodMetricsInfo, time.Time, error) {
	obs, ok := f.named[name]
	if !ok {
		return nil, time.Time{}, errNoObservation
	}
	if obs.Error != "" {
		return nil, time.Time{}, errors.New(obs.Error)
	}
	return podMetrics(obs), obs.Timestamp, nil
}

// GetObjectMetric implements metricsclient.MetricsClient.
func (f *FakeMetrics) GetObjectMetric(name string, _ string, _ *autoscalingv2.CrossVersionObjectReference, _ labels.Selector) (int64, time.Time, error) {
	obs, ok := f.named[name]
	if !ok {
		return 0, time.Time{}, errNoObservation
	}
	if obs.Error != "" {
		return 0, time.Time{}, errors.New(obs.Error)
	}
	return obs.Value, obs.Timestamp, nil
}

// GetExternalMetric implements metricsclient.MetricsClient.
func (f *FakeMetrics) GetExternalMetric(name string, _ string, _ labels.Selector) ([]int64, time.Time, error) {
	obs, ok := f.named[name]
	if !ok {
		return nil, time.Time{}, errNoObservation
	}
	if obs.Error != "" {
		return nil, time.Time{}, errors.New(obs.Error)
	}
	return append([]int64(nil), obs.Values...), obs.Timestamp, nil
}

// Rebase moves every time in in by d, so that a scenario generated at
// BaseNow runs at the real clock's now.
func Rebase(in recommender.Input, d time.Duration) recommender.Input {
	out := in
	out.Now = in.Now.Add(d)
	out.Status = *in.Status.DeepCopy()
	if out.Status.LastScaleTime != nil {
		out.Status.LastScaleTime = &metav1.Time{Time: out.Status.LastScaleTime.Add(d)}
	}
	for i := range out.Status.Conditions {
		c := &out.Status.Conditions[i]
		c.LastTransitionTime = metav1.NewTime(c.LastTransitionTime.Add(d))
	}
	out.Target.Pods = make([]recommender.Pod, len(in.Target.Pods))
	for i, p := range in.Target.Pods {
		if p.StartTime != nil {
			t := p.StartTime.Add(d)
			p.StartTime = &t
		}
		if p.Ready != nil {
			r := *p.Ready
			r.LastTransitionTime = r.LastTransitionTime.Add(d)
			p.Ready = &r
		}
		out.Target.Pods[i] = p
	}
	out.Observations = make([]recommender.Observation, len(in.Observations))
	for i, o := range in.Observations {
		if !o.Timestamp.IsZero() {
			o.Timestamp = o.Timestamp.Add(d)
		}
		samples := make([]recommender.PodMetric, len(o.PodMetrics))
		for j, s := range o.PodMetrics {
			s.Timestamp = s.Timestamp.Add(d)
			samples[j] = s
		}
		if o.PodMetrics == nil {
			samples = nil
		}
		o.PodMetrics = samples
		out.Observations[i] = o
	}
	if in.Observations == nil {
		out.Observations = nil
	}
	out.History = rebaseHistory(in.History, d)
	return out
}

// WithAPIStatusTimes returns in with its prior status' times truncated to
// whole seconds, the precision of metav1.Time in the API (and in JSON): the
// status a controller reads back has no fractions. Those times are only
// carried over, never compared with now.
func WithAPIStatusTimes(in recommender.Input) recommender.Input {
	out := in
	out.Status = *in.Status.DeepCopy()
	if out.Status.LastScaleTime != nil {
		out.Status.LastScaleTime = &metav1.Time{Time: out.Status.LastScaleTime.Truncate(time.Second)}
	}
	for i := range out.Status.Conditions {
		c := &out.Status.Conditions[i]
		c.LastTransitionTime = metav1.NewTime(c.LastTransitionTime.Truncate(time.Second))
	}
	return out
}

func rebaseHistory(h recommender.History, d time.Duration) recommender.History {
	var out recommender.History
	for _, r := range h.Recommendations {
		r.Timestamp = r.Timestamp.Add(d)
		out.Recommendations = append(out.Recommendations, r)
	}
	for _, e := range h.ScaleUpEvents {
		e.Timestamp = e.Timestamp.Add(d)
		out.ScaleUpEvents = append(out.ScaleUpEvents, e)
	}
	for _, e := range h.ScaleDownEvents {
		e.Timestamp = e.Timestamp.Add(d)
		out.ScaleDownEvents = append(out.ScaleDownEvents, e)
	}
	return out
}
