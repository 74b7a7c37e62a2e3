package recommender

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// This file mirrors upstream's replica_calculator.go and metrics/utilization.go:
// the same integer and float operations in the same order, so that rounding,
// truncation and overflow give the same numbers.

// tolerances are the usage-ratio tolerances per direction.
type tolerances struct {
	down, up float64
}

func (t tolerances) within(ratio float64) bool {
	return (1.0-t.down) <= ratio && ratio <= (1.0+t.up)
}

// sample is one pod's metric value, keyed by pod name like upstream's
// PodMetricsInfo.
type sample struct {
	value     int64
	timestamp time.Time
	window    time.Duration
}

type samples map[string]sample

func samplesOf(obs Observation) samples {
	m := make(samples, len(obs.PodMetrics))
	for _, pm := range obs.PodMetrics {
		m[pm.Pod] = sample{value: pm.Value, timestamp: pm.Timestamp, window: pm.Window.Duration}
	}
	return m
}

type nameSet map[string]struct{}

// calculator holds what upstream's ReplicaCalculator gets from its pod lister
// and flags.
type calculator struct {
	pods           []Pod
	now            time.Time
	cpuInit        time.Duration
	readinessDelay time.Duration
}

// outcome is a pod-based calculation's proposal and how it was reached.
type outcome struct {
	replicas      int32
	rule          Rule
	ratio         float64
	adjusted      *float64
	missing       MissingAssumption
	unreadyAsZero bool
	ready         int
	unready       int
	missingPods   int
	ignored       int
}

var (
	errNoPods           = errors.New("no pods returned by selector while calculating replica count")
	errNoTargetMetrics  = errors.New("did not receive metrics for targeted pods (pods might be unready)")
	errNoMatchedMetrics = errors.New("no metrics returned matched known pods")
)

// groupPods sorts the pods as upstream does: terminating and failed pods are
// ignored, pending ones are unready, pods without a sample are missing, and
// for CPU a pod is unready while it initializes or before it ever was ready.
func (c calculator) groupPods(metrics samples, res corev1.ResourceName) (ready int, unready, missing, ignored nameSet) {
	unready, missing, ignored = nameSet{}, nameSet{}, nameSet{}
	for _, pod := range c.pods {
		if pod.Terminating || pod.Phase == corev1.PodFailed {
			ignored[pod.Name] = struct{}{}
			continue
		}
		if pod.Phase == corev1.PodPending {
			unready[pod.Name] = struct{}{}
			continue
		}
		m, found := metrics[pod.Name]
		if !found {
			missing[pod.Name] = struct{}{}
			continue
		}
		if res == corev1.ResourceCPU {
			var isUnready bool
			cond := pod.Ready
			if cond == nil || pod.StartTime == nil {
				isUnready = true
			} else if pod.StartTime.Add(c.cpuInit).After(c.now) {
				// Still initializing: a sample must cover a full window
				// after the last readiness transition.
				isUnready = cond.Status == corev1.ConditionFalse || m.timestamp.Before(cond.LastTransitionTime.Add(m.window))
			} else {
				// Past initialization: ignore a pod that has never been ready.
				isUnready = cond.Status == corev1.ConditionFalse && pod.StartTime.Add(c.readinessDelay).After(cond.LastTransitionTime)
			}
			if isUnready {
				unready[pod.Name] = struct{}{}
				continue
			}
		}
		ready++
	}
	return ready, unready, missing, ignored
}

func removeAll(metrics samples, names nameSet) {
	for n := range names {
		delete(metrics, n)
	}
}

// resourceReplicas is upstream's GetResourceReplicas after the fetch.
func (c calculator) resourceReplicas(current, targetUtilization int32, res corev1.ResourceName, container string, tol tolerances, metrics samples) (out outcome, utilization int32, raw int64, err error) {
	if len(c.pods) == 0 {
		return out, 0, 0, errNoPods
	}
	ready, unready, missing, ignored := c.groupPods(metrics, res)
	out.ready, out.unready, out.missingPods, out.ignored = ready, len(unready), len(missing), len(ignored)
	removeAll(metrics, ignored)
	removeAll(metrics, unready)
	if len(metrics) == 0 {
		return out, 0, 0, errNoTargetMetrics
	}
	requests, err := podRequests(c.pods, container, res)
	if err != nil {
		return out, 0, 0, err
	}
	ratio, utilization, raw, err := utilizationRatio(metrics, requests, targetUtilization)
	if err != nil {
		return out, 0, 0, err
	}
	out.ratio = ratio

	scaleUpWithUnready := len(unready) > 0 && ratio > 1.0
	if !scaleUpWithUnready && len(missing) == 0 {
		if tol.within(ratio) {
			out.replicas, out.rule = current, RuleWithinTolerance
			return out, utilization, raw, nil
		}
		out.replicas, out.rule = int32(math.Ceil(ratio*float64(ready))), RuleRatio
		return out, utilization, raw, nil
	}

	if len(missing) > 0 {
		if ratio < 1.0 {
			fallback := int64(max(100, targetUtilization))
			for name := range missing {
				metrics[name] = sample{value: requests[name] * fallback / 100}
			}
			out.missing = MissingAtRequest
		} else if ratio > 1.0 {
			for name := range missing {
				metrics[name] = sample{value: 0}
			}
			out.missing = MissingAtZero
		}
	}
	if scaleUpWithUnready {
		for name := range unready {
			metrics[name] = sample{value: 0}
		}
		out.unreadyAsZero = true
	}

	newRatio, _, _, err := utilizationRatio(metrics, requests, targetUtilization)
	if err != nil {
		return out, utilization, raw, err
	}
	out.adjusted = &newRatio
	out.replicas, out.rule = adjustedReplicas(current, ratio, newRatio, len(metrics), tol)
	return out, utilization, raw, nil
}

// adjustedReplicas is the common tail of upstream's calculations after
// missing and unready pods were filled in.
func adjustedReplicas(current int32, ratio, newRatio float64, counted int, tol tolerances) (int32, Rule) {
	if tol.within(newRatio) {
		return current, RuleAdjustedWithinTolerance
	}
	if (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0) {
		return current, RuleDirectionFlip
	}
	replicas := int32(math.Ceil(newRatio * float64(counted)))
	if (newRatio < 1.0 && replicas > current) || (newRatio > 1.0 && replicas < current) {
		return current, RuleCountFlip
	}
	return replicas, RuleAdjustedRatio
}

// plainReplicas is upstream's calcPlainMetricReplicas: a per-pod average
// value against a target value (Pods metrics, Resource AverageValue).
func (c calculator) plainReplicas(metrics samples, current int32, target int64, tol tolerances, res corev1.ResourceName) (out outcome, usage int64, err error) {
	if len(c.pods) == 0 {
		return out, 0, errNoPods
	}
	ready, unready, missing, ignored := c.groupPods(metrics, res)
	out.ready, out.unready, out.missingPods, out.ignored = ready, len(unready), len(missing), len(ignored)
	removeAll(metrics, ignored)
	removeAll(metrics, unready)
	if len(metrics) == 0 {
		return out, 0, errNoTargetMetrics
	}
	ratio, usage := usageRatio(metrics, target)
	out.ratio = ratio

	scaleUpWithUnready := len(unready) > 0 && ratio > 1.0
	if !scaleUpWithUnready && len(missing) == 0 {
		if tol.within(ratio) {
			out.replicas, out.rule = current, RuleWithinTolerance
			return out, usage, nil
		}
		out.replicas, out.rule = int32(math.Ceil(ratio*float64(ready))), RuleRatio
		return out, usage, nil
	}

	if len(missing) > 0 {
		if ratio < 1.0 {
			for name := range missing {
				metrics[name] = sample{value: target}
			}
			out.missing = MissingAtTarget
		} else if ratio > 1.0 {
			for name := range missing {
				metrics[name] = sample{value: 0}
			}
			out.missing = MissingAtZero
		}
	}
	if scaleUpWithUnready {
		for name := range unready {
			metrics[name] = sample{value: 0}
		}
		out.unreadyAsZero = true
	}

	newRatio, _ := usageRatio(metrics, target)
	out.adjusted = &newRatio
	out.replicas, out.rule = adjustedReplicas(current, ratio, newRatio, len(metrics), tol)
	return out, usage, nil
}

// utilizationRatio is upstream's GetResourceUtilizationRatio: utilization is
// a truncated integer percentage before it is divided by the target.
func utilizationRatio(metrics samples, requests map[string]int64, target int32) (ratio float64, utilization int32, raw int64, err error) {
	var metricsTotal, requestsTotal int64
	entries := 0
	for name, m := range metrics {
		req, ok := requests[name]
		if !ok {
			// Samples of pods the lister does not know are extraneous.
			continue
		}
		metricsTotal += m.value
		requestsTotal += req
		entries++
	}
	if requestsTotal == 0 {
		return 0, 0, 0, errNoMatchedMetrics
	}
	utilization = int32((metricsTotal * 100) / requestsTotal)
	return float64(utilization) / float64(target), utilization, metricsTotal / int64(entries), nil
}

// usageRatio is upstream's GetMetricUsageRatio: the truncated integer average
// over every sample, including pods the lister does not know.
func usageRatio(metrics samples, target int64) (float64, int64) {
	var total int64
	for _, m := range metrics {
		total += m.value
	}
	current := total / int64(len(metrics))
	return float64(current) / float64(target), current
}

// readyPodCount is upstream's getReadyPodsCount: running pods whose Ready
// condition is True, terminating or not.
func (c calculator) readyPodCount() (int64, error) {
	if len(c.pods) == 0 {
		return 0, errNoPods
	}
	var n int64
	for _, p := range c.pods {
		if p.Phase == corev1.PodRunning && p.Ready != nil && p.Ready.Status == corev1.ConditionTrue {
			n++
		}
	}
	return n, nil
}

// ratioReplicas is upstream's getUsageRatioReplicaCount for Object and
// External Value targets: from zero replicas it is ceil(ratio) without
// tolerance, otherwise ceil(ratio x ready pods).
func (c calculator) ratioReplicas(current int32, ratio float64, tol tolerances) (replicas int32, rule Rule, ready int64, err error) {
	if current == 0 {
		return int32(math.Ceil(ratio)), RuleFromZero, 0, nil
	}
	if tol.within(ratio) {
		return current, RuleWithinTolerance, 0, nil
	}
	ready, err = c.readyPodCount()
	if err != nil {
		return 0, RuleFailed, 0, fmt.Errorf("unable to calculate ready pods: %s", err)
	}
	f := ratio * float64(ready)
	if f > math.MaxInt32 {
		return math.MaxInt32, RuleRatio, ready, nil
	}
	return int32(math.Ceil(f)), RuleRatio, ready, nil
}

// podRequests is upstream's calculateRequests: a container's request, the
// pod-level request when one is set, or the sum over containers and sidecars.
func podRequests(pods []Pod, container string, res corev1.ResourceName) (map[string]int64, error) {
	requests := make(map[string]int64, len(pods))
	for i := range pods {
		pod := &pods[i]
		var req int64
		var err error
		if container == "" && podLevelRequestsSet(pod) {
			req, err = podLevelRequest(pod, res)
		} else {
			req, err = containerRequests(pod, container, res)
		}
		if err != nil {
			return nil, err
		}
		requests[pod.Name] = req
	}
	return requests, nil
}

func supportedPodLevel(name corev1.ResourceName) bool {
	return name == corev1.ResourceCPU || name == corev1.ResourceMemory || strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

func podLevelRequestsSet(pod *Pod) bool {
	for name := range pod.Requests {
		if supportedPodLevel(name) {
			return true
		}
	}
	return false
}

// podLevelRequest follows component-helpers' PodRequests for one resource:
// containers and sidecars summed, at least the largest init container's need,
// replaced by the pod-level request, plus the pod overhead.
func podLevelRequest(pod *Pod, res corev1.ResourceName) (int64, error) {
	var total, sidecars, inits resource.Quantity
	var haveTotal, haveSidecars, haveInits bool
	for _, c := range pod.Containers {
		if q, ok := c.Requests[res]; ok {
			total.Add(q)
			haveTotal = true
		}
	}
	for _, c := range pod.InitContainers {
		q, ok := c.Requests[res]
		var need resource.Quantity
		var haveNeed bool
		if c.Restartable {
			if ok {
				total.Add(q)
				haveTotal = true
				sidecars.Add(q)
				haveSidecars = true
			}
			need, haveNeed = sidecars.DeepCopy(), haveSidecars
		} else {
			if ok {
				need.Add(q)
				haveNeed = true
			}
			if haveSidecars {
				need.Add(sidecars)
				haveNeed = true
			}
		}
		if haveNeed && (!haveInits || need.Cmp(inits) > 0) {
			inits, haveInits = need.DeepCopy(), true
		}
	}
	if haveInits && (!haveTotal || inits.Cmp(total) > 0) {
		total, haveTotal = inits.DeepCopy(), true
	}
	if q, ok := pod.Requests[res]; ok && supportedPodLevel(res) {
		total, haveTotal = q.DeepCopy(), true
	}
	if q, ok := pod.Overhead[res]; ok {
		total.Add(q)
		haveTotal = true
	}
	if !haveTotal {
		return 0, fmt.Errorf("missing pod-level request for %s in Pod %s", res, pod.Name)
	}
	return total.MilliValue(), nil
}

// containerRequests sums the containers' and sidecars' requests, or takes the
// named container's.
func containerRequests(pod *Pod, container string, res corev1.ResourceName) (int64, error) {
	containers := append([]Container{}, pod.Containers...)
	for _, c := range pod.InitContainers {
		if c.Restartable {
			containers = append(containers, c)
		}
	}
	var req int64
	for _, c := range containers {
		if container == "" || container == c.Name {
			q, ok := c.Requests[res]
			if !ok {
				return 0, fmt.Errorf("missing request for %s in container %s of Pod %s", res, c.Name, pod.Name)
			}
			req += q.MilliValue()
		}
		if container == c.Name {
			return req, nil
		}
	}
	if container != "" {
		return 0, fmt.Errorf("container %s not found in Pod %s", container, pod.Name)
	}
	return req, nil
}
