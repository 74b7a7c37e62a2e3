package api

import (
	"fmt"
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// Bounds the API server enforces on behavior (k8s.io/kubernetes
// pkg/apis/autoscaling/validation).
const (
	maxStabilizationWindowSeconds = 3600
	maxPeriodSeconds              = 1800
)

// maxSettingDuration bounds the controller settings of a recommend input:
// the downscale window becomes int32 seconds, and a day is beyond any value a
// controller is run with.
const maxSettingDuration = 24 * time.Hour

// validateInput checks a recommend input the way the API server would check
// the autoscaler it describes (on the defaulted spec, so errors point at what
// the controller would see), plus what the input adds: one observation per
// metric, sane settings, bounded history. recommender.Recommend computes any
// input without panicking, but an answer for an autoscaler Kubernetes would
// refuse to store answers nobody's question.
//
// minReplicas may be 0 as with the HPAScaleToZero feature gate (the engine's
// own Autoscaler allows it): then an Object or External metric is required,
// as upstream requires.
func validateInput(in recommender.Input) field.ErrorList {
	var errs field.ErrorList
	window := recommender.DefaultDownscaleStabilizationWindow
	if d := in.Settings.DownscaleStabilizationWindow; d != nil && d.Duration >= 0 && d.Duration <= maxSettingDuration {
		window = d.Duration
	}
	spec := recommender.DefaultSpec(in.Spec, window)
	errs = append(errs, validateSpec(spec, field.NewPath("spec"))...)

	if n, m := len(in.Observations), len(spec.Metrics); n != m {
		msg := fmt.Sprintf("must have one entry per metric: %d for %d metrics", n, m)
		if len(in.Spec.Metrics) == 0 {
			msg += " (a spec without metrics has one, CPU utilization at 80%)"
		}
		errs = append(errs, field.Invalid(field.NewPath("observations"), n, msg))
	}

	tp := field.NewPath("target")
	if in.Target.SpecReplicas < 0 {
		errs = append(errs, field.Invalid(tp.Child("specReplicas"), in.Target.SpecReplicas, "must be greater than or equal to 0"))
	}
	if in.Target.StatusReplicas < 0 {
		errs = append(errs, field.Invalid(tp.Child("statusReplicas"), in.Target.StatusReplicas, "must be greater than or equal to 0"))
	}

	sp := field.NewPath("settings")
	if t := in.Settings.Tolerance; t != nil && (math.IsNaN(*t) || math.IsInf(*t, 0) || *t < 0) {
		errs = append(errs, field.Invalid(sp.Child("tolerance"), *t, "must be a finite number greater than or equal to 0"))
	}
	for _, d := range []struct {
		name string
		d    *metav1.Duration
	}{
		{"cpuInitializationPeriod", in.Settings.CPUInitializationPeriod},
		{"initialReadinessDelay", in.Settings.InitialReadinessDelay},
		{"downscaleStabilizationWindow", in.Settings.DownscaleStabilizationWindow},
	} {
		if d.d != nil && (d.d.Duration < 0 || d.d.Duration > maxSettingDuration) {
			errs = append(errs, field.Invalid(sp.Child(d.name), d.d.Duration.String(), fmt.Sprintf("must be from 0s to %s", maxSettingDuration)))
		}
	}

	hp := field.NewPath("history")
	for _, h := range []struct {
		name string
		n    int
	}{
		{"recommendations", len(in.History.Recommendations)},
		{"scaleUpEvents", len(in.History.ScaleUpEvents)},
		{"scaleDownEvents", len(in.History.ScaleDownEvents)},
	} {
		if h.n > recommender.MaxHistory {
			errs = append(errs, field.TooMany(hp.Child(h.name), h.n, recommender.MaxHistory))
		}
	}
	return errs
}

// causesOf turns validation errors into the API's causes.
func causesOf(errs field.ErrorList) []Cause {
	out := make([]Cause, 0, len(errs))
	for _, e := range errs {
		out = append(out, Cause{Field: e.Field, Message: e.ErrorBody()})
	}
	return out
}

func validateSpec(spec autoscalingv2.HorizontalPodAutoscalerSpec, fp *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.MinReplicas != nil && *spec.MinReplicas < 0 {
		errs = append(errs, field.Invalid(fp.Child("minReplicas"), *spec.MinReplicas, "must be greater than or equal to 0"))
	}
	switch {
	case spec.MaxReplicas == 0:
		errs = append(errs, field.Required(fp.Child("maxReplicas"), "must be set and greater than 0"))
	case spec.MaxReplicas < 0:
		errs = append(errs, field.Invalid(fp.Child("maxReplicas"), spec.MaxReplicas, "must be greater than or equal to 1"))
	}
	if spec.MinReplicas != nil && spec.MaxReplicas < *spec.MinReplicas {
		errs = append(errs, field.Invalid(fp.Child("maxReplicas"), spec.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	objectOrExternal := false
	for i, m := range spec.Metrics {
		errs = append(errs, validateMetricSpec(m, fp.Child("metrics").Index(i))...)
		if m.Type == autoscalingv2.ObjectMetricSourceType || m.Type == autoscalingv2.ExternalMetricSourceType {
			objectOrExternal = true
		}
	}
	if spec.MinReplicas != nil && *spec.MinReplicas == 0 && !objectOrExternal {
		errs = append(errs, field.Forbidden(fp.Child("metrics"), "must specify at least one Object or External metric to support scaling to zero replicas"))
	}
	if b := spec.Behavior; b != nil {
		errs = append(errs, validateRules(b.ScaleUp, fp.Child("behavior", "scaleUp"))...)
		errs = append(errs, validateRules(b.ScaleDown, fp.Child("behavior", "scaleDown"))...)
	}
	return errs
}

func validateRules(r *autoscalingv2.HPAScalingRules, fp *field.Path) field.ErrorList {
	var errs field.ErrorList
	if r == nil {
		return nil
	}
	if w := r.StabilizationWindowSeconds; w != nil && (*w < 0 || *w > maxStabilizationWindowSeconds) {
		errs = append(errs, field.Invalid(fp.Child("stabilizationWindowSeconds"), *w, fmt.Sprintf("must be from 0 to %d", maxStabilizationWindowSeconds)))
	}
	if p := r.SelectPolicy; p != nil {
		switch *p {
		case autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect, autoscalingv2.DisabledPolicySelect:
		default:
			errs = append(errs, field.NotSupported(fp.Child("selectPolicy"), *p, []autoscalingv2.ScalingPolicySelect{
				autoscalingv2.DisabledPolicySelect, autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect}))
		}
	}
	pp := fp.Child("policies")
	if len(r.Policies) == 0 {
		errs = append(errs, field.Required(pp, "must specify at least one Policy"))
	}
	for i, p := range r.Policies {
		ip := pp.Index(i)
		if p.Type != autoscalingv2.PodsScalingPolicy && p.Type != autoscalingv2.PercentScalingPolicy {
			errs = append(errs, field.NotSupported(ip.Child("type"), p.Type, []autoscalingv2.HPAScalingPolicyType{autoscalingv2.PercentScalingPolicy, autoscalingv2.PodsScalingPolicy}))
		}
		if p.Value <= 0 {
			errs = append(errs, field.Invalid(ip.Child("value"), p.Value, "must be greater than zero"))
		}
		if p.PeriodSeconds <= 0 || p.PeriodSeconds > maxPeriodSeconds {
			errs = append(errs, field.Invalid(ip.Child("periodSeconds"), p.PeriodSeconds, fmt.Sprintf("must be from 1 to %d", maxPeriodSeconds)))
		}
	}
	if t := r.Tolerance; t != nil && t.Sign() < 0 {
		errs = append(errs, field.Invalid(fp.Child("tolerance"), t.String(), "must be greater than or equal to 0"))
	}
	return errs
}

// validateMetricSpec repeats the API server's checks of one metric: a known
// type with exactly its own source, a named metric, a target of a known type
// with positive values, and the target fields each source needs.
func validateMetricSpec(m autoscalingv2.MetricSpec, fp *field.Path) field.ErrorList {
	var errs field.ErrorList
	sources := []struct {
		typ     autoscalingv2.MetricSourceType
		field   string
		present bool
	}{
		{autoscalingv2.ObjectMetricSourceType, "object", m.Object != nil},
		{autoscalingv2.PodsMetricSourceType, "pods", m.Pods != nil},
		{autoscalingv2.ResourceMetricSourceType, "resource", m.Resource != nil},
		{autoscalingv2.ContainerResourceMetricSourceType, "containerResource", m.ContainerResource != nil},
		{autoscalingv2.ExternalMetricSourceType, "external", m.External != nil},
	}
	known := false
	for _, s := range sources {
		switch {
		case s.typ == m.Type:
			known = true
			if !s.present {
				errs = append(errs, field.Required(fp.Child(s.field), "must populate information for the given metric source"))
			}
		case s.present:
			errs = append(errs, field.Forbidden(fp.Child(s.field), "must populate the given metric source only"))
		}
	}
	if !known {
		errs = append(errs, field.NotSupported(fp.Child("type"), m.Type, []autoscalingv2.MetricSourceType{
			autoscalingv2.ContainerResourceMetricSourceType, autoscalingv2.ExternalMetricSourceType, autoscalingv2.ObjectMetricSourceType,
			autoscalingv2.PodsMetricSourceType, autoscalingv2.ResourceMetricSourceType}))
		return errs
	}
	switch m.Type {
	case autoscalingv2.ObjectMetricSourceType:
		if m.Object == nil {
			break
		}
		sp := fp.Child("object")
		errs = append(errs, validateObjectRef(m.Object.DescribedObject, sp.Child("describedObject"))...)
		errs = append(errs, validateMetricName(m.Object.Metric.Name, sp.Child("metric", "name"))...)
		errs = append(errs, validateTarget(m.Object.Target, sp.Child("target"))...)
		if m.Object.Target.Value == nil && m.Object.Target.AverageValue == nil {
			errs = append(errs, field.Required(sp.Child("target", "averageValue"), "must set either a target value or averageValue"))
		}
	case autoscalingv2.PodsMetricSourceType:
		if m.Pods == nil {
			break
		}
		sp := fp.Child("pods")
		errs = append(errs, validateMetricName(m.Pods.Metric.Name, sp.Child("metric", "name"))...)
		errs = append(errs, validateTarget(m.Pods.Target, sp.Child("target"))...)
		if m.Pods.Target.AverageValue == nil {
			errs = append(errs, field.Required(sp.Child("target", "averageValue"), "must specify a positive target averageValue"))
		}
	case autoscalingv2.ResourceMetricSourceType:
		if m.Resource == nil {
			break
		}
		sp := fp.Child("resource")
		if m.Resource.Name == "" {
			errs = append(errs, field.Required(sp.Child("name"), "must specify a resource name"))
		}
		errs = append(errs, validateResourceTarget(m.Resource.Target, sp.Child("target"))...)
	case autoscalingv2.ContainerResourceMetricSourceType:
		if m.ContainerResource == nil {
			break
		}
		sp := fp.Child("containerResource")
		if m.ContainerResource.Name == "" {
			errs = append(errs, field.Required(sp.Child("name"), "must specify a resource name"))
		}
		if c := m.ContainerResource.Container; c == "" {
			errs = append(errs, field.Required(sp.Child("container"), "must specify a container"))
		} else {
			for _, msg := range validation.IsDNS1123Label(c) {
				errs = append(errs, field.Invalid(sp.Child("container"), c, msg))
			}
		}
		errs = append(errs, validateResourceTarget(m.ContainerResource.Target, sp.Child("target"))...)
	case autoscalingv2.ExternalMetricSourceType:
		if m.External == nil {
			break
		}
		sp := fp.Child("external")
		errs = append(errs, validateMetricName(m.External.Metric.Name, sp.Child("metric", "name"))...)
		errs = append(errs, validateTarget(m.External.Target, sp.Child("target"))...)
		t := m.External.Target
		if t.Value == nil && t.AverageValue == nil {
			errs = append(errs, field.Required(sp.Child("target", "averageValue"), "must set either a target value for metric or a per-pod target"))
		}
		if t.Value != nil && t.AverageValue != nil {
			errs = append(errs, field.Forbidden(sp.Child("target", "value"), "may not set both a target value for metric and a per-pod target"))
		}
	}
	return errs
}

func validateResourceTarget(t autoscalingv2.MetricTarget, fp *field.Path) field.ErrorList {
	errs := validateTarget(t, fp)
	if t.AverageUtilization == nil && t.AverageValue == nil {
		errs = append(errs, field.Required(fp.Child("averageUtilization"), "must set either a target raw value or a target utilization"))
	}
	if t.AverageUtilization != nil && t.AverageValue != nil {
		errs = append(errs, field.Forbidden(fp.Child("averageValue"), "may not set both a target raw value and a target utilization"))
	}
	return errs
}

func validateTarget(t autoscalingv2.MetricTarget, fp *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch t.Type {
	case autoscalingv2.UtilizationMetricType, autoscalingv2.ValueMetricType, autoscalingv2.AverageValueMetricType:
	case "":
		errs = append(errs, field.Required(fp.Child("type"), "must specify a metric target type"))
	default:
		errs = append(errs, field.Invalid(fp.Child("type"), t.Type, "must be either Utilization, Value, or AverageValue"))
	}
	if t.Value != nil && t.Value.Sign() != 1 {
		errs = append(errs, field.Invalid(fp.Child("value"), t.Value.String(), "must be positive"))
	}
	if t.AverageValue != nil && t.AverageValue.Sign() != 1 {
		errs = append(errs, field.Invalid(fp.Child("averageValue"), t.AverageValue.String(), "must be positive"))
	}
	if t.AverageUtilization != nil && *t.AverageUtilization < 1 {
		errs = append(errs, field.Invalid(fp.Child("averageUtilization"), *t.AverageUtilization, "must be greater than 0"))
	}
	return errs
}

func validateObjectRef(ref autoscalingv2.CrossVersionObjectReference, fp *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, f := range [][2]string{{"kind", ref.Kind}, {"name", ref.Name}} {
		if f[1] == "" {
			errs = append(errs, field.Required(fp.Child(f[0]), ""))
			continue
		}
		for _, msg := range path.IsValidPathSegmentName(f[1]) {
			errs = append(errs, field.Invalid(fp.Child(f[0]), f[1], msg))
		}
	}
	return errs
}

func validateMetricName(name string, fp *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(fp, "must specify a metric name")}
	}
	var errs field.ErrorList
	for _, msg := range path.IsValidPathSegmentName(name) {
		errs = append(errs, field.Invalid(fp, name, msg))
	}
	return errs
}
