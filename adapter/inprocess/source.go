package inprocess

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	cmv1beta2 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	emv1beta1 "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"

	"github.com/hpa-engine/hpa-engine/adapter"
)

// allObjects is the custom metrics API's name for every object.
const allObjects = "*"

// Source answers metrics requests from the providers in-process.
type Source struct {
	custom   adapter.CustomMetricsProvider
	external adapter.ExternalMetricsProvider

	mu       sync.Mutex
	inflight map[string]*call
}

// New returns a source over the providers; either may be nil, which makes
// its requests fail with 404 as an adapter serving no such API would.
func New(custom adapter.CustomMetricsProvider, external adapter.ExternalMetricsProvider) *Source {
	return &Source{custom: custom, external: external, inflight: map[string]*call{}}
}

// call is one provider call shared by identical concurrent requests.
type call struct {
	done chan struct{}
	val  any
	err  error
	// leaderGone says the first caller's context had ended when the call
	// returned, so its outcome may be that caller's cancellation.
	leaderGone bool
}

// GetCustomMetrics answers a custom metrics request: name "*" is every
// object selector matches, any other name one object; resource "namespaces"
// with namespace "" is the metric of the namespace named name. The list is
// shared with identical concurrent callers and must not be modified.
func (s *Source) GetCustomMetrics(ctx context.Context, namespace string, resource schema.GroupResource, name string, selector labels.Selector, metric string, metricSelector labels.Selector) (*cmv1beta2.MetricValueList, error) {
	selector, metricSelector = orEverything(selector), orEverything(metricSelector)
	info := adapter.CustomMetricInfo{GroupResource: resource, Namespaced: namespace != "", Metric: metric}
	key := strings.Join([]string{"custom", namespace, resource.String(), name, selector.String(), metric, metricSelector.String()}, "\x00")
	v, err := s.do(ctx, key, func(ctx context.Context) (any, error) {
		return s.getCustom(ctx, namespace, info, name, selector, metricSelector)
	})
	if err != nil {
		return nil, err
	}
	return v.(*cmv1beta2.MetricValueList), nil
}

func (s *Source) getCustom(ctx context.Context, namespace string, info adapter.CustomMetricInfo, name string, selector, metricSelector labels.Selector) (*cmv1beta2.MetricValueList, error) {
	if s.custom == nil {
		return nil, statusError(fmt.Errorf("metric %s: no custom metrics provider: %w", info, adapter.ErrMetricNotFound), info.GroupResource, name)
	}
	var values []adapter.CustomMetricValue
	if name == allObjects {
		vs, err := s.custom.GetMetricBySelector(ctx, namespace, selector, info, metricSelector)
		if err != nil {
			return nil, statusError(err, info.GroupResource, name)
		}
		values = vs
	} else {
		v, err := s.custom.GetMetricByName(ctx, types.NamespacedName{Namespace: namespace, Name: name}, info, metricSelector)
		if err != nil {
			return nil, statusError(err, info.GroupResource, name)
		}
		values = []adapter.CustomMetricValue{v}
	}
	list := customList(values, info.Metric, wireSelector(metricSelector))
	if name != allObjects && len(list.Items) == 0 {
		// The edge's rule: a by-name answer holds exactly one item, and a
		// non-finite sample is missing data, not 0.
		err := fmt.Errorf("metric %q of %s %q: %w", info.Metric, info.GroupResource, name, adapter.ErrNoData)
		return nil, statusError(err, info.GroupResource, name)
	}
	return list, nil
}

// GetExternalMetrics answers an external metrics request. The list is shared
// with identical concurrent callers and must not be modified.
func (s *Source) GetExternalMetrics(ctx context.Context, namespace, metric string, metricSelector labels.Selector) (*emv1beta1.ExternalMetricValueList, error) {
	metricSelector = orEverything(metricSelector)
	key := strings.Join([]string{"external", namespace, metric, metricSelector.String()}, "\x00")
	v, err := s.do(ctx, key, func(ctx context.Context) (any, error) {
		return s.getExternal(ctx, namespace, metric, metricSelector)
	})
	if err != nil {
		return nil, err
	}
	return v.(*emv1beta1.ExternalMetricValueList), nil
}

func (s *Source) getExternal(ctx context.Context, namespace, metric string, metricSelector labels.Selector) (*emv1beta1.ExternalMetricValueList, error) {
	gr := schema.GroupResource{Group: emv1beta1.SchemeGroupVersion.Group, Resource: metric}
	if s.external == nil {
		return nil, statusError(fmt.Errorf("external metric %q: no external metrics provider: %w", metric, adapter.ErrMetricNotFound), gr, metric)
	}
	values, err := s.external.GetExternalMetric(ctx, namespace, metricSelector, adapter.ExternalMetricInfo{Metric: metric})
	if err != nil {
		return nil, statusError(err, gr, metric)
	}
	list := externalList(values, metric)
	if len(list.Items) == 0 {
		// The HPA sums the items; none at all is missing data, never 0.
		err := fmt.Errorf("external metric %q in namespace %q: %w", metric, namespace, adapter.ErrNoData)
		return nil, statusError(err, gr, metric)
	}
	return list, nil
}

// do runs fn once for concurrent callers with the same key. The call runs
// under the first caller's context; if that context ends while another
// caller's has not, that caller runs the call again rather than inherit a
// cancellation that is not its own.
func (s *Source) do(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	for {
		s.mu.Lock()
		c, ok := s.inflight[key]
		if !ok {
			c = &call{done: make(chan struct{})}
			s.inflight[key] = c
			s.mu.Unlock()
			c.val, c.err = fn(ctx)
			c.leaderGone = ctx.Err() != nil
			s.mu.Lock()
			delete(s.inflight, key)
			s.mu.Unlock()
			close(c.done)
			return c.val, c.err
		}
		s.mu.Unlock()
		select {
		case <-c.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if c.err != nil && c.leaderGone && ctx.Err() == nil {
			continue
		}
		return c.val, c.err
	}
}

func orEverything(s labels.Selector) labels.Selector {
	if s == nil {
		return labels.Everything()
	}
	return s
}

// windowSeconds is the wire form of a window: omitted when instantaneous.
func windowSeconds(w time.Duration) *int64 {
	if w <= 0 {
		return nil
	}
	s := max(int64(w/time.Second), 1)
	return &s
}

func customList(values []adapter.CustomMetricValue, metric string, selector *metav1.LabelSelector) *cmv1beta2.MetricValueList {
	out := &cmv1beta2.MetricValueList{Items: make([]cmv1beta2.MetricValue, 0, len(values))}
	for _, v := range values {
		q, ok := adapter.Quantity(v.Value)
		if !ok {
			continue
		}
		out.Items = append(out.Items, cmv1beta2.MetricValue{
			DescribedObject: v.DescribedObject,
			Metric:          cmv1beta2.MetricIdentifier{Name: metric, Selector: selector},
			Timestamp:       metav1.NewTime(v.Timestamp),
			WindowSeconds:   windowSeconds(v.Window),
			Value:           q,
		})
	}
	return out
}

func externalList(values []adapter.ExternalMetricValue, metric string) *emv1beta1.ExternalMetricValueList {
	out := &emv1beta1.ExternalMetricValueList{Items: make([]emv1beta1.ExternalMetricValue, 0, len(values))}
	for _, v := range values {
		q, ok := adapter.Quantity(v.Value)
		if !ok {
			continue
		}
		lbls := v.Labels
		if lbls == nil {
			lbls = map[string]string{}
		}
		out.Items = append(out.Items, emv1beta1.ExternalMetricValue{
			MetricName:    metric,
			MetricLabels:  lbls,
			Timestamp:     metav1.NewTime(v.Timestamp),
			WindowSeconds: windowSeconds(v.Window),
			Value:         q,
		})
	}
	return out
}

// wireSelector is the metric selector as the response echoes it; nil for
// one that selects everything.
func wireSelector(s labels.Selector) *metav1.LabelSelector {
	reqs, ok := s.Requirements()
	if !ok || len(reqs) == 0 {
		return nil
	}
	out := &metav1.LabelSelector{}
	for _, r := range reqs {
		var op metav1.LabelSelectorOperator
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals:
			if out.MatchLabels == nil {
				out.MatchLabels = map[string]string{}
			}
			v, _ := r.Values().PopAny()
			out.MatchLabels[r.Key()] = v
			continue
		case selection.In:
			op = metav1.LabelSelectorOpIn
		case selection.NotIn, selection.NotEquals:
			op = metav1.LabelSelectorOpNotIn
		case selection.Exists:
			op = metav1.LabelSelectorOpExists
		case selection.DoesNotExist:
			op = metav1.LabelSelectorOpDoesNotExist
		default:
			continue
		}
		out.MatchExpressions = append(out.MatchExpressions, metav1.LabelSelectorRequirement{Key: r.Key(), Operator: op, Values: r.Values().List()})
	}
	return out
}

// statusError maps a provider error to the Status error the HTTP edge would
// send and client-go would return: same code, reason and message.
func statusError(err error, gr schema.GroupResource, name string) error {
	var se *apierrors.StatusError
	if errors.As(err, &se) {
		return se
	}
	code, reason := int32(http.StatusInternalServerError), metav1.StatusReasonInternalError
	switch {
	case errors.Is(err, adapter.ErrBadSelector), errors.Is(err, adapter.ErrBadRequest):
		code, reason = http.StatusBadRequest, metav1.StatusReasonBadRequest
	case errors.Is(err, adapter.ErrMetricNotFound), errors.Is(err, adapter.ErrObjectNotFound), errors.Is(err, adapter.ErrNoData):
		code, reason = http.StatusNotFound, metav1.StatusReasonNotFound
	case errors.Is(err, adapter.ErrBackendUnavailable), errors.Is(err, context.DeadlineExceeded):
		code, reason = http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable
	case errors.Is(err, context.Canceled):
		// Not a status at all: the caller went away. Keep the cause so
		// that coalesced callers can tell it from an answer.
		return err
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    code,
		Reason:  reason,
		Message: err.Error(),
		Details: &metav1.StatusDetails{Group: gr.Group, Kind: gr.Resource, Name: name},
	}}
}
