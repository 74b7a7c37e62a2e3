package adaptertest

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/hpa-engine/hpa-engine/adapter"
)

// Object is one object the fake knows a custom metric for.
type Object struct {
	// Labels are the object's own labels, matched by labelSelector.
	Labels map[string]string
	// Value is returned as is; its DescribedObject names the object.
	Value adapter.CustomMetricValue
}

// Call records the arguments of one provider call, so tests can check what
// the edge passed on.
type Call struct {
	Method         string
	Namespace      string
	Name           string
	Info           adapter.CustomMetricInfo
	External       adapter.ExternalMetricInfo
	Selector       string
	MetricSelector string
}

// Provider is an in-memory CustomMetricsProvider and ExternalMetricsProvider.
// Fill its fields before use; it is safe for concurrent calls afterwards.
type Provider struct {
	// Custom maps each served metric to the objects that have it.
	Custom map[adapter.CustomMetricInfo][]Object
	// External maps each served external metric to its series.
	External map[string][]adapter.ExternalMetricValue
	// Err, when set, is returned by every Get call (ListAll* still answer).
	Err error
	// Hang, when set, makes every Get call wait for its context to end and
	// return the context's error, like a Prometheus that never answers.
	Hang bool

	mu    sync.Mutex
	calls []Call
}

var (
	_ adapter.CustomMetricsProvider   = (*Provider)(nil)
	_ adapter.ExternalMetricsProvider = (*Provider)(nil)
)

// Calls returns the calls recorded so far.
func (p *Provider) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

func (p *Provider) record(ctx context.Context, c Call) error {
	p.mu.Lock()
	p.calls = append(p.calls, c)
	p.mu.Unlock()
	if p.Hang {
		<-ctx.Done()
		return fmt.Errorf("%s: %w", c.Method, ctx.Err())
	}
	return p.Err
}

// GetMetricByName implements adapter.CustomMetricsProvider.
func (p *Provider) GetMetricByName(ctx context.Context, object types.NamespacedName, info adapter.CustomMetricInfo, metricSelector labels.Selector) (adapter.CustomMetricValue, error) {
	if err := p.record(ctx, Call{Method: "GetMetricByName", Namespace: object.Namespace, Name: object.Name, Info: info, MetricSelector: metricSelector.String()}); err != nil {
		return adapter.CustomMetricValue{}, err
	}
	objects, ok := p.Custom[info]
	if !ok {
		return adapter.CustomMetricValue{}, fmt.Errorf("metric %s: %w", info, adapter.ErrMetricNotFound)
	}
	for _, o := range objects {
		if o.Value.DescribedObject.Namespace == object.Namespace && o.Value.DescribedObject.Name == object.Name {
			return o.Value, nil
		}
	}
	return adapter.CustomMetricValue{}, fmt.Errorf("metric %s of %q: %w", info, object, adapter.ErrObjectNotFound)
}

// GetMetricBySelector implements adapter.CustomMetricsProvider.
func (p *Provider) GetMetricBySelector(ctx context.Context, namespace string, selector labels.Selector, info adapter.CustomMetricInfo, metricSelector labels.Selector) ([]adapter.CustomMetricValue, error) {
	if err := p.record(ctx, Call{Method: "GetMetricBySelector", Namespace: namespace, Info: info, Selector: selector.String(), MetricSelector: metricSelector.String()}); err != nil {
		return nil, err
	}
	objects, ok := p.Custom[info]
	if !ok {
		return nil, fmt.Errorf("metric %s: %w", info, adapter.ErrMetricNotFound)
	}
	var out []adapter.CustomMetricValue
	for _, o := range objects {
		if o.Value.DescribedObject.Namespace == namespace && selector.Matches(labels.Set(o.Labels)) {
			out = append(out, o.Value)
		}
	}
	return out, nil
}

// ListAllMetrics implements adapter.CustomMetricsProvider.
func (p *Provider) ListAllMetrics() []adapter.CustomMetricInfo {
	out := make([]adapter.CustomMetricInfo, 0, len(p.Custom))
	for info := range p.Custom {
		out = append(out, info)
	}
	return out
}

// GetExternalMetric implements adapter.ExternalMetricsProvider. It returns
// the series whose labels match metricSelector; the namespace is recorded
// but does not filter, like an external rule with namespaced: false.
func (p *Provider) GetExternalMetric(ctx context.Context, namespace string, metricSelector labels.Selector, info adapter.ExternalMetricInfo) ([]adapter.ExternalMetricValue, error) {
	if err := p.record(ctx, Call{Method: "GetExternalMetric", Namespace: namespace, External: info, MetricSelector: metricSelector.String()}); err != nil {
		return nil, err
	}
	series, ok := p.External[info.Metric]
	if !ok {
		return nil, fmt.Errorf("external metric %q: %w", info.Metric, adapter.ErrMetricNotFound)
	}
	var out []adapter.ExternalMetricValue
	for _, s := range series {
		if metricSelector.Matches(labels.Set(s.Labels)) {
			out = append(out, s)
		}
	}
	return out, nil
}

// ListAllExternalMetrics implements adapter.ExternalMetricsProvider.
func (p *Provider) ListAllExternalMetrics() []adapter.ExternalMetricInfo {
	out := make([]adapter.ExternalMetricInfo, 0, len(p.External))
	for name := range p.External {
		out = append(out, adapter.ExternalMetricInfo{Metric: name})
	}
	return out
}
