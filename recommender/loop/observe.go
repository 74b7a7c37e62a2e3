package loop

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	cmv1beta2 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	emv1beta1 "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// defaultCustomMetricWindow is the window upstream's custom metrics client
// assumes when the API gives none (metricServerDefaultMetricWindow).
const defaultCustomMetricWindow = time.Minute

// allObjects is the custom metrics API's name for every object.
const allObjects = "*"

var (
	podsResource       = schema.GroupResource{Resource: "pods"}
	namespacesResource = schema.GroupResource{Resource: "namespaces"}
)

// reqKind says which API a request goes to.
type reqKind uint8

const (
	reqCustom reqKind = iota
	reqExternal
	reqPodMetrics
)

// reqKey identifies one call of a cycle; targets whose metrics map to the
// same key share the call (the batching).
type reqKey struct {
	kind           reqKind
	namespace      string
	resource       schema.GroupResource
	name           string
	metric         string
	metricSelector string
}

// request is one call with its parsed metric selector.
type request struct {
	key            reqKey
	metricSelector labels.Selector
}

// response is one call's answer. Index maps a described object's (or pod
// metrics') name to the items with it, in response order; it is built once,
// on first use, because many targets read one response.
type response struct {
	custom   *cmv1beta2.MetricValueList
	external *emv1beta1.ExternalMetricValueList
	pods     *metricsv1beta1.PodMetricsList
	err      error

	indexOnce sync.Once
	index     map[string][]int
}

func (r *response) byName() map[string][]int {
	r.indexOnce.Do(func() {
		switch {
		case r.custom != nil:
			r.index = make(map[string][]int, len(r.custom.Items))
			for i := range r.custom.Items {
				n := r.custom.Items[i].DescribedObject.Name
				r.index[n] = append(r.index[n], i)
			}
		case r.pods != nil:
			r.index = make(map[string][]int, len(r.pods.Items))
			for i := range r.pods.Items {
				n := r.pods.Items[i].Name
				r.index[n] = append(r.index[n], i)
			}
		}
	})
	return r.index
}

// extractKind says how a target reads its observation from a response.
type extractKind uint8

const (
	// extractPreset: no call; the observation is already known (an error).
	extractPreset extractKind = iota
	// extractPods: the items of the target's pods (a Pods metric).
	extractPods
	// extractObject: the item of one object.
	extractObject
	// extractOne: the single item of a by-name call (a namespace's own
	// metric, or an object the batch had no sample for).
	extractOne
	// extractExternal: every item.
	extractExternal
	// extractResource: the PodMetrics of the target's pods, one resource
	// summed over containers or one container's.
	extractResource
)

// need is what one metric of one target needs.
type need struct {
	kind      extractKind
	req       int // index into the cycle's requests
	preset    recommender.Observation
	object    types.NamespacedName
	gr        schema.GroupResource
	metric    string
	resource  corev1.ResourceName
	container string
}

// planner collects a cycle's distinct requests.
type planner struct {
	mapper RESTMapper
	index  map[reqKey]int
	reqs   []request
}

func newPlanner(mapper RESTMapper) *planner {
	return &planner{mapper: mapper, index: map[reqKey]int{}}
}

func (p *planner) add(key reqKey, metricSelector labels.Selector) int {
	if i, ok := p.index[key]; ok {
		return i
	}
	i := len(p.reqs)
	p.index[key] = i
	p.reqs = append(p.reqs, request{key: key, metricSelector: metricSelector})
	return i
}

// fallbacks turns the Object metrics a batch answered without the target's
// object into by-name calls, which are what upstream makes. The provider
// answers a by-name query from a single sample without the object's label
// (a query that aggregates the label away), which a batch cannot attribute;
// only the objects missing from their batch cost a call of their own. It
// returns the index of the first new request.
func (p *planner) fallbacks(works []*work, responses []*response) int {
	first := len(p.reqs)
	for _, w := range works {
		for j, n := range w.needs {
			if n.kind != extractObject {
				continue
			}
			r := responses[n.req]
			if r.err != nil || len(r.byName()[n.object.Name]) > 0 {
				continue
			}
			batch := p.reqs[n.req]
			key := batch.key
			key.name = n.object.Name
			w.needs[j].kind = extractOne
			w.needs[j].req = p.add(key, batch.metricSelector)
		}
	}
	return first
}

// metricSelector parses an HPA metric selector as it reaches the API: a nil
// selector is sent as an empty string, which selects everything.
func metricSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return nil, err
	}
	if sel.Empty() || sel.String() == "" {
		return labels.Everything(), nil
	}
	return sel, nil
}

// plan maps one metric of a target in namespace to its need.
func (p *planner) plan(namespace string, spec autoscalingv2.MetricSpec) need {
	switch spec.Type {
	case autoscalingv2.PodsMetricSourceType:
		if spec.Pods == nil {
			return need{}
		}
		sel, err := metricSelector(spec.Pods.Metric.Selector)
		if err != nil {
			return presetError(err) // the core reports the selector itself
		}
		m := spec.Pods.Metric.Name
		return need{kind: extractPods, metric: m, req: p.add(reqKey{kind: reqCustom, namespace: namespace, resource: podsResource, name: allObjects, metric: m, metricSelector: sel.String()}, sel)}
	case autoscalingv2.ObjectMetricSourceType:
		if spec.Object == nil {
			return need{}
		}
		sel, err := metricSelector(spec.Object.Metric.Selector)
		if err != nil {
			return presetError(err)
		}
		m, ref := spec.Object.Metric.Name, spec.Object.DescribedObject
		gk := schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind).GroupKind()
		if gk.Group == "" && gk.Kind == "Namespace" {
			// Upstream asks for the metric of the autoscaler's own
			// namespace, whatever name the reference gives.
			return need{kind: extractOne, metric: m, gr: namespacesResource, object: types.NamespacedName{Name: namespace},
				req: p.add(reqKey{kind: reqCustom, resource: namespacesResource, name: namespace, metric: m, metricSelector: sel.String()}, sel)}
		}
		if p.mapper == nil {
			return presetError(customErr(fmt.Errorf("unable to map kind %s to resource: no REST mapper", gk)))
		}
		mapping, err := p.mapper.RESTMapping(gk)
		if err != nil {
			return presetError(customErr(fmt.Errorf("unable to map kind %s to resource: %v", gk, err)))
		}
		gr := mapping.Resource.GroupResource()
		return need{kind: extractObject, metric: m, gr: gr, object: types.NamespacedName{Namespace: namespace, Name: ref.Name},
			req: p.add(reqKey{kind: reqCustom, namespace: namespace, resource: gr, name: allObjects, metric: m, metricSelector: sel.String()}, sel)}
	case autoscalingv2.ExternalMetricSourceType:
		if spec.External == nil {
			return need{}
		}
		sel, err := metricSelector(spec.External.Metric.Selector)
		if err != nil {
			return presetError(err)
		}
		m := spec.External.Metric.Name
		return need{kind: extractExternal, metric: m, req: p.add(reqKey{kind: reqExternal, namespace: namespace, metric: m, metricSelector: sel.String()}, sel)}
	case autoscalingv2.ResourceMetricSourceType:
		if spec.Resource == nil {
			return need{}
		}
		return need{kind: extractResource, resource: spec.Resource.Name, req: p.add(reqKey{kind: reqPodMetrics, namespace: namespace}, nil)}
	case autoscalingv2.ContainerResourceMetricSourceType:
		if spec.ContainerResource == nil {
			return need{}
		}
		return need{kind: extractResource, resource: spec.ContainerResource.Name, container: spec.ContainerResource.Container,
			req: p.add(reqKey{kind: reqPodMetrics, namespace: namespace}, nil)}
	}
	return need{}
}

func presetError(err error) need {
	return need{kind: extractPreset, preset: recommender.Observation{Error: err.Error()}}
}

// The prefixes of upstream's metrics client errors.
func customErr(err error) error {
	return fmt.Errorf("unable to fetch metrics from custom metrics API: %w", err)
}

func externalErr(err error) error {
	return fmt.Errorf("unable to fetch metrics from external metrics API: %w", err)
}

func resourceErr(err error) error {
	return fmt.Errorf("unable to fetch metrics from resource metrics API: %w", err)
}

var (
	errNoCustomMetrics   = errors.New("no metrics returned from custom metrics API")
	errNoExternalMetrics = errors.New("no metrics returned from external metrics API")
	errNoResourceMetrics = errors.New("no metrics returned from resource metrics API")
)

// fetch runs one request against the sources.
func fetch(ctx context.Context, src MetricSource, res PodMetricsLister, r request) *response {
	k := r.key
	out := &response{}
	switch k.kind {
	case reqCustom:
		if src == nil {
			out.err = errors.New("no custom metrics source configured")
			break
		}
		out.custom, out.err = src.GetCustomMetrics(ctx, k.namespace, k.resource, k.name, labels.Everything(), k.metric, r.metricSelector)
	case reqExternal:
		if src == nil {
			out.err = errors.New("no external metrics source configured")
			break
		}
		out.external, out.err = src.GetExternalMetrics(ctx, k.namespace, k.metric, r.metricSelector)
	case reqPodMetrics:
		if res == nil {
			out.err = errResourceMetricsNotServed()
			break
		}
		out.pods, out.err = res.ListPodMetrics(ctx, k.namespace)
	}
	if out.err == nil && out.custom == nil && out.external == nil && out.pods == nil {
		out.err = errors.New("metric source returned no list")
	}
	return out
}

// observe converts a target's share of a response into the observation
// upstream's metrics client would have returned for the target's own call.
// pods are the target's pods and selector its scale selector.
func observe(n need, r *response, pods []*corev1.Pod, selector labels.Selector) recommender.Observation {
	if n.kind == extractPreset {
		return n.preset
	}
	switch n.kind {
	case extractPods:
		if r.err != nil {
			return obsError(customErr(r.err))
		}
		items := itemsOf(r, pods)
		if len(items) == 0 {
			return obsError(errNoCustomMetrics)
		}
		obs := recommender.Observation{PodMetrics: make([]recommender.PodMetric, 0, len(items))}
		for _, i := range items {
			m := &r.custom.Items[i]
			window := defaultCustomMetricWindow
			if m.WindowSeconds != nil {
				window = time.Duration(*m.WindowSeconds) * time.Second
			}
			obs.PodMetrics = append(obs.PodMetrics, recommender.PodMetric{
				Pod: m.DescribedObject.Name, Value: m.Value.MilliValue(), Timestamp: m.Timestamp.Time, Window: metav1.Duration{Duration: window},
			})
		}
		obs.Timestamp = r.custom.Items[items[0]].Timestamp.Time
		return obs
	case extractObject:
		if r.err != nil {
			return obsError(customErr(r.err))
		}
		idx := r.byName()[n.object.Name]
		if len(idx) == 0 {
			// What the adapter answers for an object without a sample.
			return obsError(customErr(fmt.Errorf("metric %s/%s of %s: no data", n.gr, n.metric, n.object)))
		}
		m := &r.custom.Items[idx[0]]
		return recommender.Observation{Value: m.Value.MilliValue(), Timestamp: m.Timestamp.Time}
	case extractOne:
		if r.err != nil {
			return obsError(customErr(r.err))
		}
		if len(r.custom.Items) != 1 {
			return obsError(customErr(fmt.Errorf("the custom metrics API server returned %v results when we asked for exactly one", len(r.custom.Items))))
		}
		m := &r.custom.Items[0]
		return recommender.Observation{Value: m.Value.MilliValue(), Timestamp: m.Timestamp.Time}
	case extractExternal:
		if r.err != nil {
			return obsError(externalErr(r.err))
		}
		if len(r.external.Items) == 0 {
			return obsError(errNoExternalMetrics)
		}
		obs := recommender.Observation{Values: make([]int64, 0, len(r.external.Items)), Timestamp: r.external.Items[0].Timestamp.Time}
		for i := range r.external.Items {
			obs.Values = append(obs.Values, r.external.Items[i].Value.MilliValue())
		}
		return obs
	case extractResource:
		if r.err != nil {
			return obsError(resourceErr(r.err))
		}
		return resourceObservation(r, pods, selector, n.resource, n.container)
	}
	return recommender.Observation{}
}

func obsError(err error) recommender.Observation {
	return recommender.Observation{Error: err.Error()}
}

// itemsOf returns the indexes, in response order, of the items about the
// target's pods: what the API returns for the target's own labelSelector.
func itemsOf(r *response, pods []*corev1.Pod) []int {
	index := r.byName()
	var out []int
	for _, p := range pods {
		out = append(out, index[p.Name]...)
	}
	slices.Sort(out)
	return out
}

// resourceObservation is upstream's GetResourceMetric over the PodMetrics of
// the target's pods whose labels its selector matches (the list upstream
// asks for with that selector).
func resourceObservation(r *response, pods []*corev1.Pod, selector labels.Selector, resource corev1.ResourceName, container string) recommender.Observation {
	var items []int
	for _, i := range itemsOf(r, pods) {
		if selector == nil || selector.Matches(labels.Set(r.pods.Items[i].Labels)) {
			items = append(items, i)
		}
	}
	if len(items) == 0 {
		return obsError(errNoResourceMetrics)
	}
	obs := recommender.Observation{Timestamp: r.pods.Items[items[0]].Timestamp.Time}
	for _, i := range items {
		m := &r.pods.Items[i]
		value, ok := podUsage(m, resource, container)
		if !ok {
			continue
		}
		obs.PodMetrics = append(obs.PodMetrics, recommender.PodMetric{
			Pod: m.Name, Value: value, Timestamp: m.Timestamp.Time, Window: metav1.Duration{Duration: m.Window.Duration},
		})
	}
	return obs
}

// podUsage is upstream's getPodMetrics (sum over containers, none missing)
// or getContainerMetrics (one container) for one pod.
func podUsage(m *metricsv1beta1.PodMetrics, resource corev1.ResourceName, container string) (int64, bool) {
	if container != "" {
		for _, c := range m.Containers {
			if c.Name == container {
				v, ok := c.Usage[resource]
				return v.MilliValue(), ok
			}
		}
		return 0, false
	}
	if len(m.Containers) == 0 {
		return 0, false
	}
	var sum int64
	for _, c := range m.Containers {
		v, ok := c.Usage[resource]
		if !ok {
			return 0, false
		}
		sum += v.MilliValue()
	}
	return sum, true
}
