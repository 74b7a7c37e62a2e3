package conformance

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// BaseNow is the time every generated scenario is computed at. Before a
// scenario runs it is moved to the real clock (see Rebase), because upstream
// reads time.Now() itself.
var BaseNow = time.Date(2026, time.January, 1, 12, 0, 0, 0, time.UTC)

// Names shared by the generator and the conversion to Kubernetes objects.
const (
	Namespace = "ns"
	HPAName   = "hpa"
	Selector  = "app=web"
	appName   = "app"
	sideName  = "sidecar"
	initName  = "init-sidecar"
)

// Generate returns scenario i of the run with the given seed. Each scenario
// has its own random source, so one can be regenerated without the others.
//
// Every time that upstream compares with time.Now() (pod start times,
// recommendation and scale-event timestamps) lies a whole number of seconds
// plus half a second before BaseNow, and every window, period and duration
// the controller uses is a whole number of seconds: upstream's own clock runs
// a few microseconds behind ours, and this keeps every such comparison at
// least half a second away from its boundary, so both sides decide it the same
// way. Times compared only with each other (a pod's readiness transition, its
// start time and its metric samples) do hit their boundaries exactly.
func Generate(seed uint64, i int) recommender.Input {
	g := &gen{r: rand.New(rand.NewPCG(seed, uint64(i))), now: BaseNow}
	g.flavor = pick(g, flavorGeneral, flavorGeneral, flavorGeneral, flavorGeneral, flavorGeneral, flavorGeneral, flavorZero, flavorPolicies, flavorCPU)
	return g.input()
}

type gen struct {
	r      *rand.Rand
	now    time.Time
	flavor flavor
}

// flavor concentrates a scenario on one area whose paths uniform choices
// reach too rarely.
type flavor int

const (
	// flavorGeneral draws everything independently.
	flavorGeneral flavor = iota
	// flavorZero: minReplicas 0, Object/External metrics, targets at or near
	// zero replicas and a prior ScaledToZero condition (scale to and from 0).
	flavorZero
	// flavorPolicies: behaviors with policies, recent scale events and large
	// changes, so that Pods/Percent limits and selectPolicy decide.
	flavorPolicies
	// flavorCPU: one CPU utilization metric over pods around the CPU
	// initialization period and the initial readiness delay.
	flavorCPU
)

// chance is true with probability p.
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) intn(n int) int { return g.r.IntN(n) }

// between returns an int in [lo, hi].
func (g *gen) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }

func pick[T any](g *gen, xs ...T) T { return xs[g.r.IntN(len(xs))] }

// ago returns now minus whole seconds minus half a second (see Generate).
func (g *gen) ago(seconds int) time.Time {
	return g.now.Add(-time.Duration(seconds)*time.Second - 500*time.Millisecond)
}

// metricPlan is what the generator decided for one metric before making its
// observation: the defaulted spec entry and how far from target to land.
type metricPlan struct {
	spec  autoscalingv2.MetricSpec
	ratio float64
}

func (g *gen) input() recommender.Input {
	in := recommender.Input{
		Namespace:  Namespace,
		Name:       HPAName,
		Generation: int64(g.between(1, 4)),
		Now:        g.now,
	}
	in.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}

	settings := g.settings()
	in.Settings = settings
	tolDown, tolUp := 0.1, 0.1
	if settings.Tolerance != nil {
		tolDown, tolUp = *settings.Tolerance, *settings.Tolerance
	}

	in.Spec.Behavior = g.behavior()
	if b := in.Spec.Behavior; b != nil {
		if b.ScaleUp != nil && b.ScaleUp.Tolerance != nil {
			tolUp = b.ScaleUp.Tolerance.AsApproximateFloat64()
		}
		if b.ScaleDown != nil && b.ScaleDown.Tolerance != nil {
			tolDown = b.ScaleDown.Tolerance.AsApproximateFloat64()
		}
	}

	plans := g.metrics(tolDown, tolUp)
	if g.flavor == flavorCPU {
		plans = []metricPlan{{spec: cpuUtilization(int32(pick(g, 50, 80, 100))), ratio: g.ratio(tolDown, tolUp)}}
	}
	if len(plans) == 0 || (len(plans) == 1 && g.flavor == flavorGeneral && g.chance(0.1)) {
		// No metrics: the API server defaults one CPU utilization metric at 80%.
		plans = []metricPlan{{spec: cpuUtilization(80), ratio: g.ratio(tolDown, tolUp)}}
	} else {
		for _, p := range plans {
			in.Spec.Metrics = append(in.Spec.Metrics, p.spec)
		}
	}

	objectOrExternal := false
	for _, p := range plans {
		if p.spec.Type == autoscalingv2.ObjectMetricSourceType || p.spec.Type == autoscalingv2.ExternalMetricSourceType {
			objectOrExternal = true
		}
	}

	// Bounds: minReplicas 0 only with an Object or External metric, as the
	// API server validates.
	var minReplicas int32 = 1
	switch {
	case objectOrExternal && (g.flavor == flavorZero || g.chance(0.35)):
		minReplicas = 0
		in.Spec.MinReplicas = ptr(minReplicas)
	case g.chance(0.3):
	default:
		minReplicas = int32(g.between(1, 6))
		in.Spec.MinReplicas = ptr(minReplicas)
	}
	in.Spec.MaxReplicas = max(1, minReplicas) + int32(pick(g, 0, 1, 3, 8, 20, 60))

	// The scale: mostly within bounds, sometimes at zero or out of them.
	var current int32
	switch {
	case g.flavor == flavorZero:
		current = min(in.Spec.MaxReplicas, int32(pick(g, 0, 0, 0, 1, 1, 2, 3)))
	case g.chance(0.08):
		current = 0
	case g.chance(0.06):
		current = in.Spec.MaxReplicas + int32(g.between(1, 5))
	case minReplicas > 1 && g.chance(0.06):
		current = int32(g.between(0, int(minReplicas)-1))
	default:
		current = int32(g.between(max(1, int(minReplicas)), int(in.Spec.MaxReplicas)))
	}
	statusReplicas := current
	if g.chance(0.25) {
		statusReplicas = max(0, current+int32(g.between(-2, 3)))
	}
	in.Target = recommender.Target{SpecReplicas: current, StatusReplicas: statusReplicas, Selector: Selector}
	switch {
	case g.chance(0.01):
		in.Target.Selector = ""
	case g.chance(0.01):
		in.Target.Selector = "app in (web"
	}

	npods := int(statusReplicas)
	if g.chance(0.3) {
		npods = max(0, npods+g.between(-2, 2))
	}
	if current == 0 && g.chance(0.5) {
		npods = 0
	}
	withPodLevel := g.chance(0.05)
	for i := range npods {
		in.Target.Pods = append(in.Target.Pods, g.pod(i, settings, withPodLevel))
	}

	if len(in.Target.Pods) > 0 && in.Target.Selector == Selector && g.chance(0.015) {
		// Another autoscaler selects the same pods (the loop lists the
		// autoscalers whose selectors match them, this one included).
		in.Target.SelectingAutoscalers = []string{Namespace + "/" + HPAName, Namespace + "/other"}
	}

	for _, p := range plans {
		in.Observations = append(in.Observations, g.observation(p, in.Target, statusReplicas))
	}

	in.History = g.history(in.Spec.Behavior, current, settings)
	in.Status = g.priorStatus(current, minReplicas)
	if g.flavor == flavorZero && !hasCondition(in.Status, autoscalingv2.ScaledToZero) {
		in.Status.Conditions = append(in.Status.Conditions, autoscalingv2.HorizontalPodAutoscalerCondition{
			Type: autoscalingv2.ScaledToZero, Status: pick(g, corev1.ConditionTrue, corev1.ConditionTrue, corev1.ConditionFalse),
			LastTransitionTime: metav1.NewTime(g.ago(g.between(30, 3000))), Reason: "Previous", Message: "left by the previous reconcile",
		})
	}
	if g.chance(0.3) {
		// Our core must give the same answer for the spec as read back from
		// the API (defaulted) as for the manifest.
		in.Spec = HPAFor(in).Spec
	}
	return in
}

func ptr[T any](v T) *T { return &v }

func hasCondition(st autoscalingv2.HorizontalPodAutoscalerStatus, t autoscalingv2.HorizontalPodAutoscalerConditionType) bool {
	for _, c := range st.Conditions {
		if c.Type == t {
			return true
		}
	}
	return false
}

func cpuUtilization(target int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{
			Name:   corev1.ResourceCPU,
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(target)},
		},
	}
}

func (g *gen) settings() recommender.Settings {
	var s recommender.Settings
	if g.chance(0.4) {
		s.Tolerance = ptr(pick(g, 0.0, 0.05, 0.1, 0.2, 0.5))
	}
	if g.chance(0.4) {
		s.CPUInitializationPeriod = &metav1.Duration{Duration: time.Duration(pick(g, 0, 30, 60, 120, 300, 600)) * time.Second}
	}
	if g.chance(0.4) {
		s.InitialReadinessDelay = &metav1.Duration{Duration: time.Duration(pick(g, 0, 10, 30, 60)) * time.Second}
	}
	if g.chance(0.4) {
		s.DownscaleStabilizationWindow = &metav1.Duration{Duration: time.Duration(pick(g, 0, 15, 60, 300, 600)) * time.Second}
	}
	return s
}

func (g *gen) behavior() *autoscalingv2.HorizontalPodAutoscalerBehavior {
	if g.flavor != flavorPolicies && g.chance(0.4) {
		return nil
	}
	b := &autoscalingv2.HorizontalPodAutoscalerBehavior{}
	if g.chance(0.7) {
		b.ScaleUp = g.rules(true)
	}
	if g.chance(0.7) {
		b.ScaleDown = g.rules(false)
	}
	return b
}

func (g *gen) rules(up bool) *autoscalingv2.HPAScalingRules {
	r := &autoscalingv2.HPAScalingRules{}
	if g.chance(0.6) {
		r.StabilizationWindowSeconds = ptr(int32(pick(g, 0, 0, 15, 30, 60, 120, 300, 600)))
	}
	if g.chance(0.6) {
		r.SelectPolicy = ptr(pick(g, autoscalingv2.MaxChangePolicySelect, autoscalingv2.MaxChangePolicySelect,
			autoscalingv2.MinChangePolicySelect, autoscalingv2.MinChangePolicySelect, autoscalingv2.DisabledPolicySelect))
	}
	if g.flavor == flavorPolicies || g.chance(0.6) {
		n := g.between(1, 3)
		for range n {
			p := autoscalingv2.HPAScalingPolicy{PeriodSeconds: int32(pick(g, 15, 30, 60, 120, 300, 600, 1800))}
			if g.chance(0.5) {
				p.Type = autoscalingv2.PodsScalingPolicy
				p.Value = int32(pick(g, 1, 2, 3, 4, 5, 10))
			} else {
				p.Type = autoscalingv2.PercentScalingPolicy
				if up {
					p.Value = int32(pick(g, 10, 25, 50, 100, 150, 200, 900))
				} else {
					p.Value = int32(pick(g, 10, 25, 33, 50, 75, 100))
				}
			}
			r.Policies = append(r.Policies, p)
		}
	}
	if g.chance(0.3) {
		r.Tolerance = resource.NewMilliQuantity(int64(pick(g, 0, 10, 50, 100, 200, 500)), resource.DecimalSI)
	}
	return r
}

// ratio picks how far from target a metric lands: on target, exactly on a
// tolerance edge, just past it, or anywhere.
func (g *gen) ratio(tolDown, tolUp float64) float64 {
	switch g.flavor {
	case flavorPolicies:
		return pick(g, 0.05, 0.2, 0.5, 1.7, 3, 6, 12)
	case flavorZero:
		return pick(g, 0, 0, 0, 0.001, 0.3, 1, 2.5)
	}
	switch g.intn(9) {
	case 0:
		return 1
	case 1:
		return 1 + tolUp
	case 2:
		return 1 - tolDown
	case 3:
		return 1 + tolUp + 0.01
	case 4:
		return 1 - tolDown - 0.01
	case 5:
		return 0
	case 6:
		// Negative values are legal for custom and external metrics (a
		// gauge); upstream turns them into zero or negative proposals.
		return pick(g, 0.5, 2, 3, 10, -0.5, -2)
	default:
		return g.r.Float64() * 3
	}
}

func (g *gen) metrics(tolDown, tolUp float64) []metricPlan {
	n := pick(g, 0, 1, 1, 1, 1, 2, 2, 2, 3)
	if g.flavor == flavorZero {
		n = pick(g, 1, 1, 2)
	}
	var plans []metricPlan
	usedResources := map[string]bool{}
	for i := range n {
		name := fmt.Sprintf("m%d", i)
		var spec autoscalingv2.MetricSpec
		kind := g.intn(5)
		if g.flavor == flavorZero {
			kind = pick(g, 3, 4)
		}
		switch kind {
		case 0, 1: // Resource or ContainerResource
			res := pick(g, corev1.ResourceCPU, corev1.ResourceCPU, corev1.ResourceMemory)
			container := ""
			if g.chance(0.35) {
				container = pick(g, appName, appName, sideName, initName, "absent")
			}
			key := string(res) + "/" + container
			if usedResources[key] {
				continue
			}
			usedResources[key] = true
			target := autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(int32(pick(g, 10, 50, 60, 80, 100, 150, 200)))}
			if g.chance(0.3) {
				target = autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: g.resourceQuantity(res)}
			}
			if container == "" {
				spec = autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType,
					Resource: &autoscalingv2.ResourceMetricSource{Name: res, Target: target}}
			} else {
				spec = autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType,
					ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: res, Container: container, Target: target}}
			}
		case 2: // Pods
			spec = autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
				Metric: g.identifier(name),
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: g.quantity()},
			}}
		case 3: // Object
			target := autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: g.quantity()}
			if g.chance(0.4) {
				target = autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: g.quantity()}
			}
			spec = autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
				DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Name: "main"},
				Metric:          g.identifier(name),
				Target:          target,
			}}
		default: // External
			target := autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: g.quantity()}
			if g.chance(0.5) {
				target = autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: g.quantity()}
			}
			spec = autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
				Metric: g.identifier(name),
				Target: target,
			}}
		}
		plans = append(plans, metricPlan{spec: spec, ratio: g.ratio(tolDown, tolUp)})
	}
	return plans
}

func (g *gen) identifier(name string) autoscalingv2.MetricIdentifier {
	id := autoscalingv2.MetricIdentifier{Name: name}
	if g.chance(0.15) {
		id.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "front"}}
	}
	return id
}

// quantity is a custom or external metric target, in milli-units.
func (g *gen) quantity() *resource.Quantity {
	return resource.NewMilliQuantity(int64(pick(g, 1, 100, 500, 1000, 2500, 10000, 300000, 1000000000)), resource.DecimalSI)
}

func (g *gen) resourceQuantity(res corev1.ResourceName) *resource.Quantity {
	if res == corev1.ResourceMemory {
		return resource.NewQuantity(int64(pick(g, 64, 128, 256, 1000))<<20, resource.BinarySI)
	}
	return resource.NewMilliQuantity(int64(pick(g, 50, 100, 250, 500, 1000)), resource.DecimalSI)
}

func (g *gen) requests(missingCPU bool) corev1.ResourceList {
	rl := corev1.ResourceList{
		corev1.ResourceMemory: *resource.NewQuantity(int64(pick(g, 64, 100, 256, 512))<<20, resource.BinarySI),
	}
	if !missingCPU {
		rl[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(pick(g, 100, 200, 250, 333, 500, 1000)), resource.DecimalSI)
	}
	return rl
}

func (g *gen) pod(i int, s recommender.Settings, podLevel bool) recommender.Pod {
	p := recommender.Pod{Name: fmt.Sprintf("pod-%d", i), Phase: corev1.PodRunning}
	switch {
	case g.chance(0.07):
		p.Phase = corev1.PodPending
	case g.chance(0.03):
		p.Phase = corev1.PodFailed
	case g.chance(0.02):
		p.Phase = pick(g, corev1.PodSucceeded, corev1.PodUnknown)
	}
	p.Terminating = g.chance(0.04)

	cpuInit := int(recommender.DefaultCPUInitializationPeriod / time.Second)
	if s.CPUInitializationPeriod != nil {
		cpuInit = int(s.CPUInitializationPeriod.Seconds())
	}
	delay := int(recommender.DefaultInitialReadinessDelay / time.Second)
	if s.InitialReadinessDelay != nil {
		delay = int(s.InitialReadinessDelay.Seconds())
	}
	startAge := pick(g, cpuInit-1, cpuInit, cpuInit+1, g.between(0, 40), g.between(0, 2*cpuInit+60), 3600)
	startAge = max(0, startAge)
	var start time.Time
	if !g.chance(0.04) {
		start = g.ago(startAge)
		p.StartTime = &start
	}
	if !g.chance(0.06) {
		status := pick(g, corev1.ConditionTrue, corev1.ConditionTrue, corev1.ConditionTrue, corev1.ConditionFalse, corev1.ConditionUnknown)
		base := start
		if base.IsZero() {
			base = g.ago(startAge)
		}
		// The readiness transition relative to the start: exactly at the
		// initial readiness delay, just around it, or anywhere up to now.
		offset := time.Duration(pick(g, delay, delay-1, delay+1, 0, g.between(0, startAge+1))) * time.Second
		p.Ready = &recommender.PodReadyCondition{Status: status, LastTransitionTime: base.Add(offset)}
	}

	p.Containers = []recommender.Container{{Name: appName, Requests: g.requests(g.chance(0.03))}}
	if g.chance(0.3) {
		p.Containers = append(p.Containers, recommender.Container{Name: sideName, Requests: g.requests(g.chance(0.03))})
	}
	if g.chance(0.15) {
		p.InitContainers = append(p.InitContainers, recommender.Container{Name: initName, Requests: g.requests(false), Restartable: g.chance(0.7)})
	}
	if podLevel && g.chance(0.7) {
		p.Requests = g.requests(g.chance(0.1))
		if g.chance(0.3) {
			p.Overhead = corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(50, resource.DecimalSI)}
		}
	}
	return p
}

// observation makes what the metrics client returns for plan p.
func (g *gen) observation(p metricPlan, t recommender.Target, statusReplicas int32) recommender.Observation {
	if g.chance(0.07) {
		return recommender.Observation{Error: pick(g, "metrics unavailable", "the server is currently unable to handle the request")}
	}
	obsTime := g.ago(g.between(0, 60))
	if g.chance(0.03) {
		// Far past any replica count, to reach upstream's int32 and int64 caps.
		p.ratio *= pick(g, 1e7, 1e12)
	}
	switch p.spec.Type {
	case autoscalingv2.ObjectMetricSourceType:
		tgt := p.spec.Object.Target
		total := float64(0)
		if tgt.Value != nil {
			total = float64(tgt.Value.MilliValue()) * p.ratio
		} else {
			total = float64(tgt.AverageValue.MilliValue()) * float64(statusReplicas) * p.ratio
		}
		return recommender.Observation{Value: int64(total), Timestamp: obsTime}
	case autoscalingv2.ExternalMetricSourceType:
		tgt := p.spec.External.Target
		total := float64(0)
		if tgt.Value != nil {
			total = float64(tgt.Value.MilliValue()) * p.ratio
		} else {
			total = float64(tgt.AverageValue.MilliValue()) * float64(statusReplicas) * p.ratio
		}
		obs := recommender.Observation{Timestamp: obsTime}
		if g.chance(0.02) {
			// The sum overflows int64; upstream caps it.
			obs.Values = []int64{math.MaxInt64 / 2, math.MaxInt64/2 + 2, 5}
			return obs
		}
		parts := pick(g, 0, 1, 1, 1, 2, 3)
		if total == 0 && parts == 0 {
			return obs
		}
		parts = max(parts, 1)
		rest := int64(total)
		for k := range parts {
			v := rest
			if k < parts-1 {
				v = rest / int64(parts-k)
			}
			obs.Values = append(obs.Values, v)
			rest -= v
		}
		return obs
	}

	// Per-pod metrics. perPod gives the value that lands a pod exactly on
	// target; the plan's ratio (and per-pod noise) moves it away.
	var perPod func(pod recommender.Pod) float64
	window := metav1.Duration{Duration: time.Duration(pick(g, 30, 60)) * time.Second}
	switch p.spec.Type {
	case autoscalingv2.PodsMetricSourceType:
		target := float64(p.spec.Pods.Target.AverageValue.MilliValue())
		perPod = func(recommender.Pod) float64 { return target }
	default:
		var tgt autoscalingv2.MetricTarget
		var res corev1.ResourceName
		container := ""
		if p.spec.Resource != nil {
			tgt, res = p.spec.Resource.Target, p.spec.Resource.Name
		} else {
			tgt, res, container = p.spec.ContainerResource.Target, p.spec.ContainerResource.Name, p.spec.ContainerResource.Container
		}
		if tgt.AverageValue != nil {
			target := float64(tgt.AverageValue.MilliValue())
			perPod = func(recommender.Pod) float64 { return target }
		} else {
			util := float64(*tgt.AverageUtilization) / 100
			perPod = func(pod recommender.Pod) float64 { return float64(nominalRequest(pod, res, container)) * util }
		}
	}
	noisy := g.chance(0.5)
	obs := recommender.Observation{Timestamp: obsTime}
	for _, pod := range t.Pods {
		if g.chance(0.1) {
			continue // missing
		}
		v := perPod(pod) * p.ratio
		if noisy {
			v *= 0.5 + g.r.Float64()
		}
		obs.PodMetrics = append(obs.PodMetrics, recommender.PodMetric{
			Pod:       pod.Name,
			Value:     int64(v),
			Timestamp: g.sampleTime(pod, window.Duration),
			Window:    window,
		})
	}
	if g.chance(0.05) {
		// A sample for a pod the lister does not know.
		obs.PodMetrics = append(obs.PodMetrics, recommender.PodMetric{
			Pod: "ghost", Value: int64(perPod(recommender.Pod{}) * p.ratio), Timestamp: obsTime, Window: window,
		})
	}
	return obs
}

// sampleTime puts a sample's end relative to the pod's readiness transition
// plus one window, the boundary of upstream's CPU initialization rule.
func (g *gen) sampleTime(pod recommender.Pod, window time.Duration) time.Time {
	if pod.Ready == nil || g.chance(0.3) {
		return g.ago(g.between(0, 30))
	}
	edge := pod.Ready.LastTransitionTime.Add(window)
	return edge.Add(time.Duration(pick(g, 0, -1, 1, 20)) * time.Second)
}

// nominalRequest is the request a utilization target is relative to, used
// only to put values near target (the algorithm computes its own).
func nominalRequest(pod recommender.Pod, res corev1.ResourceName, container string) int64 {
	var sum int64
	for _, c := range pod.Containers {
		if container == "" || c.Name == container {
			if q, ok := c.Requests[res]; ok {
				sum += q.MilliValue()
			}
		}
	}
	if sum == 0 {
		return 500
	}
	return sum
}

func (g *gen) history(b *autoscalingv2.HorizontalPodAutoscalerBehavior, current int32, s recommender.Settings) recommender.History {
	var h recommender.History
	// Window and period lengths the history is placed around.
	edges := []int{0, 15, 30, 60, 120, 300, 600, 1800}
	if s.DownscaleStabilizationWindow != nil {
		edges = append(edges, int(s.DownscaleStabilizationWindow.Seconds()))
	}
	age := func() int {
		e := pick(g, edges...)
		return max(0, e+g.between(-1, 1)+pick(g, 0, 0, -g.between(0, 14)))
	}
	if !g.chance(0.25) {
		for range g.between(1, 10) {
			h.Recommendations = append(h.Recommendations, recommender.TimestampedRecommendation{
				Replicas:  max(0, current+int32(g.between(-6, 6))),
				Timestamp: g.ago(age()),
			})
		}
	}
	if b != nil || g.chance(0.2) {
		events := []int{0, 0, 1, 2, 4}
		if g.flavor == flavorPolicies {
			events = []int{1, 2, 3, 4}
		}
		for range pick(g, events...) {
			h.ScaleUpEvents = append(h.ScaleUpEvents, recommender.ScaleEvent{ReplicaChange: int32(g.between(1, 6)), Timestamp: g.ago(age()), Outdated: g.chance(0.15)})
		}
		for range pick(g, events...) {
			h.ScaleDownEvents = append(h.ScaleDownEvents, recommender.ScaleEvent{ReplicaChange: int32(g.between(1, 6)), Timestamp: g.ago(age()), Outdated: g.chance(0.15)})
		}
	}
	return h
}

// priorStatus is the status the previous reconcile left: upstream updates its
// conditions in place, so their order and stale entries matter.
func (g *gen) priorStatus(current, minReplicas int32) autoscalingv2.HorizontalPodAutoscalerStatus {
	st := autoscalingv2.HorizontalPodAutoscalerStatus{
		CurrentReplicas: current,
		DesiredReplicas: max(0, current+int32(pick(g, 0, 0, 0, -1, 2))),
	}
	if g.chance(0.5) {
		t := metav1.NewTime(g.ago(g.between(20, 900)))
		st.LastScaleTime = &t
	}
	types := []autoscalingv2.HorizontalPodAutoscalerConditionType{
		autoscalingv2.AbleToScale, autoscalingv2.ScalingActive, autoscalingv2.ScalingLimited, autoscalingv2.ScaledToZero,
	}
	g.r.Shuffle(len(types), func(a, b int) { types[a], types[b] = types[b], types[a] })
	for _, typ := range types {
		if g.chance(0.4) {
			continue
		}
		status := pick(g, corev1.ConditionTrue, corev1.ConditionFalse)
		if typ == autoscalingv2.ScaledToZero && current == 0 && (minReplicas == 0 || g.chance(0.5)) {
			status = pick(g, corev1.ConditionTrue, corev1.ConditionTrue, corev1.ConditionFalse)
		}
		st.Conditions = append(st.Conditions, autoscalingv2.HorizontalPodAutoscalerCondition{
			Type:               typ,
			Status:             status,
			LastTransitionTime: metav1.NewTime(g.ago(g.between(30, 3000))),
			Reason:             "Previous",
			Message:            "left by the previous reconcile",
		})
	}
	return st
}
