package recommender

import (
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// defaultCPUUtilization is the API server's default target for an autoscaler
// without metrics (k8s.io/kubernetes pkg/apis/autoscaling DefaultCPUUtilization).
const defaultCPUUtilization int32 = 80

// DefaultSpec returns a copy of spec with the defaults the API server applies
// to an autoscaling/v2 object (minReplicas 1, one CPU metric at 80% when
// there are none, every unset field of a behavior's scaling rules), plus the
// controller's own: a scaleDown rule without a stabilization window gets
// downscaleWindow. Upstream only ever sees defaulted objects, so Recommend
// starts from this; differential tests should feed the same spec upstream.
func DefaultSpec(spec autoscalingv2.HorizontalPodAutoscalerSpec, downscaleWindow time.Duration) autoscalingv2.HorizontalPodAutoscalerSpec {
	out := *spec.DeepCopy()
	if out.MinReplicas == nil {
		one := int32(1)
		out.MinReplicas = &one
	}
	if len(out.Metrics) == 0 {
		target := defaultCPUUtilization
		out.Metrics = []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{
					Type:               autoscalingv2.UtilizationMetricType,
					AverageUtilization: &target,
				},
			},
		}}
	}
	if out.Behavior != nil {
		out.Behavior.ScaleUp = fillRules(out.Behavior.ScaleUp, defaultScaleUpRules())
		out.Behavior.ScaleDown = fillRules(out.Behavior.ScaleDown, defaultScaleDownRules())
		if out.Behavior.ScaleDown.StabilizationWindowSeconds == nil {
			// The API leaves this unset on purpose: the controller flag decides.
			w := int32(downscaleWindow.Seconds())
			out.Behavior.ScaleDown.StabilizationWindowSeconds = &w
		}
	}
	return out
}

// defaultScaleUpRules repeats the legacy scale-up limit as a behavior: no
// window, 4 pods or 100% per 15 s, whichever is more.
func defaultScaleUpRules() *autoscalingv2.HPAScalingRules {
	window := int32(0)
	selectMax := autoscalingv2.MaxChangePolicySelect
	return &autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: &window,
		SelectPolicy:               &selectMax,
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
}

// defaultScaleDownRules allows removing every pod per 15 s; the window comes
// from the controller flag.
func defaultScaleDownRules() *autoscalingv2.HPAScalingRules {
	selectMax := autoscalingv2.MaxChangePolicySelect
	return &autoscalingv2.HPAScalingRules{
		SelectPolicy: &selectMax,
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
}

// fillRules copies every non-nil field of from over the defaults, as the API
// server does; an empty but non-nil policy list is kept.
func fillRules(from, defaults *autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if from == nil {
		return defaults
	}
	if from.SelectPolicy != nil {
		p := *from.SelectPolicy
		defaults.SelectPolicy = &p
	}
	if from.StabilizationWindowSeconds != nil {
		w := *from.StabilizationWindowSeconds
		defaults.StabilizationWindowSeconds = &w
	}
	if from.Policies != nil {
		defaults.Policies = append([]autoscalingv2.HPAScalingPolicy{}, from.Policies...)
	}
	if from.Tolerance != nil {
		t := from.Tolerance.DeepCopy()
		defaults.Tolerance = &t
	}
	return defaults
}

// settings are Settings with the defaults filled in.
type settings struct {
	tolerance       float64
	cpuInit         time.Duration
	readinessDelay  time.Duration
	downscaleWindow time.Duration
}

func (s Settings) resolve() settings {
	out := settings{
		tolerance:       DefaultTolerance,
		cpuInit:         DefaultCPUInitializationPeriod,
		readinessDelay:  DefaultInitialReadinessDelay,
		downscaleWindow: DefaultDownscaleStabilizationWindow,
	}
	if s.Tolerance != nil {
		out.tolerance = *s.Tolerance
	}
	if s.CPUInitializationPeriod != nil {
		out.cpuInit = s.CPUInitializationPeriod.Duration
	}
	if s.InitialReadinessDelay != nil {
		out.readinessDelay = s.InitialReadinessDelay.Duration
	}
	if s.DownscaleStabilizationWindow != nil {
		out.downscaleWindow = s.DownscaleStabilizationWindow.Duration
	}
	return out
}
