package inprocess_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	cmv1beta2 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	customclient "k8s.io/metrics/pkg/client/custom_metrics"
	externalclient "k8s.io/metrics/pkg/client/external_metrics"

	"github.com/hpa-engine/hpa-engine/adapter"
	"github.com/hpa-engine/hpa-engine/adapter/adaptertest"
	"github.com/hpa-engine/hpa-engine/adapter/inprocess"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

var (
	podsGR        = schema.GroupResource{Resource: "pods"}
	deploymentsGR = schema.GroupResource{Group: "apps", Resource: "deployments"}
	namespacesGR  = schema.GroupResource{Resource: "namespaces"}
)

func value(kind, namespace, name string, v float64, window time.Duration) adapter.CustomMetricValue {
	return adapter.CustomMetricValue{
		DescribedObject: corev1.ObjectReference{Kind: kind, APIVersion: "v1", Namespace: namespace, Name: name},
		Timestamp:       t0, Window: window, Value: v,
	}
}

func fixture() *adaptertest.Provider {
	return &adaptertest.Provider{
		Custom: map[adapter.CustomMetricInfo][]adaptertest.Object{
			{GroupResource: podsGR, Namespaced: true, Metric: "rps"}: {
				{Labels: map[string]string{"app": "web"}, Value: value("Pod", "default", "web-0", 1.5, 2*time.Minute)},
				{Labels: map[string]string{"app": "web"}, Value: value("Pod", "default", "web-1", math.NaN(), 0)},
				{Labels: map[string]string{"app": "web"}, Value: value("Pod", "default", "web-2", 7, 0)},
				{Labels: map[string]string{"app": "api"}, Value: value("Pod", "default", "api-0", 3, 0)},
			},
			{GroupResource: deploymentsGR, Namespaced: true, Metric: "hits"}: {
				{Value: value("Deployment", "default", "web", 42, 0)},
				{Value: value("Deployment", "default", "broken", math.Inf(1), 0)},
			},
			{GroupResource: namespacesGR, Metric: "queue_depth"}: {
				{Value: value("Namespace", "", "default", 7, 30*time.Second)},
			},
		},
		External: map[string][]adapter.ExternalMetricValue{
			"queue_messages": {
				{Labels: map[string]string{"queue": "a"}, Timestamp: t0, Value: 3},
				{Labels: map[string]string{"queue": "b"}, Timestamp: t0, Window: time.Minute, Value: 4.25},
			},
			"only_nan": {{Labels: map[string]string{"queue": "a"}, Timestamp: t0, Value: math.NaN()}},
		},
	}
}

func mapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper([]schema.GroupVersion{{Version: "v1"}, {Group: "apps", Version: "v1"}})
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Pod"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, meta.RESTScopeRoot)
	m.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	return m
}

// TestSameAsHTTPEdge asks the same things in-process and through the
// adapter's HTTP edge with the HPA's own clients, over one provider: the
// lists and the errors must be the same.
func TestSameAsHTTPEdge(t *testing.T) {
	p := fixture()
	ts := httptest.NewServer(adapter.NewAPIHandler(p, p))
	t.Cleanup(ts.Close)
	cfg := &rest.Config{Host: ts.URL}
	cc, err := customclient.NewForVersionForConfig(rest.CopyConfig(cfg), mapper(), cmv1beta2.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := externalclient.NewForConfig(rest.CopyConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	src := inprocess.New(p, p)
	ctx := context.Background()
	web := labels.SelectorFromSet(labels.Set{"app": "web"})
	queueA := labels.SelectorFromSet(labels.Set{"queue": "a"})
	one := func(v *cmv1beta2.MetricValue, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return []cmv1beta2.MetricValue{*v}, nil
	}

	tests := []struct {
		name     string
		http     func() (any, error)
		inproc   func() (any, error)
		wantErr  bool
		wantCode int32
	}{
		{
			name: "pods by selector",
			http: func() (any, error) {
				l, err := cc.NamespacedMetrics("default").GetForObjects(schema.GroupKind{Kind: "Pod"}, web, "rps", labels.Everything())
				return items(l, err)
			},
			inproc: func() (any, error) {
				return items(src.GetCustomMetrics(ctx, "default", podsGR, "*", web, "rps", labels.Everything()))
			},
		},
		{
			name: "every pod of the namespace",
			http: func() (any, error) {
				return items(cc.NamespacedMetrics("default").GetForObjects(schema.GroupKind{Kind: "Pod"}, labels.Everything(), "rps", labels.Everything()))
			},
			inproc: func() (any, error) {
				return items(src.GetCustomMetrics(ctx, "default", podsGR, "*", labels.Everything(), "rps", labels.Everything()))
			},
		},
		{
			name: "object by name",
			http: func() (any, error) {
				return one(cc.NamespacedMetrics("default").GetForObject(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "web", "hits", labels.Everything()))
			},
			inproc: func() (any, error) {
				return items(src.GetCustomMetrics(ctx, "default", deploymentsGR, "web", labels.Everything(), "hits", labels.Everything()))
			},
		},
		{
			name: "object whose sample is not finite",
			http: func() (any, error) {
				return one(cc.NamespacedMetrics("default").GetForObject(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "broken", "hits", labels.Everything()))
			},
			inproc: func() (any, error) {
				return items(src.GetCustomMetrics(ctx, "default", deploymentsGR, "broken", labels.Everything(), "hits", labels.Everything()))
			},
			wantErr: true, wantCode: 404,
		},
		{
			name: "unknown object",
			http: func() (any, error) {
				return one(cc.NamespacedMetrics("default").GetForObject(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "ghost", "hits", labels.Everything()))
			},
			inproc: func() (any, error) {
				return items(src.GetCustomMetrics(ctx, "default", deploymentsGR, "ghost", labels.Everything(), "hits", labels.Everything()))
			},
			wantErr: true, wantCode: 404,
		},
		{
			name: "metric of a namespace",
			http: func() (any, error) {
				return one(cc.RootScopedMetrics().GetForObject(schema.GroupKind{Kind: "Namespace"}, "default", "queue_depth", labels.Everything()))
			},
			inproc: func() (any, error) {
				return items(src.GetCustomMetrics(ctx, "", namespacesGR, "default", labels.Everything(), "queue_depth", labels.Everything()))
			},
		},
		{
			name: "unknown metric",
			http: func() (any, error) {
				return items(cc.NamespacedMetrics("default").GetForObjects(schema.GroupKind{Kind: "Pod"}, web, "nope", labels.Everything()))
			},
			inproc: func() (any, error) {
				return items(src.GetCustomMetrics(ctx, "default", podsGR, "*", web, "nope", labels.Everything()))
			},
			wantErr: true, wantCode: 404,
		},
		{
			name: "external with a selector",
			http: func() (any, error) {
				l, err := ec.NamespacedMetrics("default").List("queue_messages", queueA)
				if err != nil {
					return nil, err
				}
				return l.Items, nil
			},
			inproc: func() (any, error) {
				l, err := src.GetExternalMetrics(ctx, "default", "queue_messages", queueA)
				if err != nil {
					return nil, err
				}
				return l.Items, nil
			},
		},
		{
			name: "external, every series",
			http: func() (any, error) {
				l, err := ec.NamespacedMetrics("default").List("queue_messages", labels.Everything())
				if err != nil {
					return nil, err
				}
				return l.Items, nil
			},
			inproc: func() (any, error) {
				l, err := src.GetExternalMetrics(ctx, "default", "queue_messages", labels.Everything())
				if err != nil {
					return nil, err
				}
				return l.Items, nil
			},
		},
		{
			name: "external with only non-finite samples",
			http: func() (any, error) {
				_, err := ec.NamespacedMetrics("default").List("only_nan", labels.Everything())
				return nil, err
			},
			inproc: func() (any, error) {
				_, err := src.GetExternalMetrics(ctx, "default", "only_nan", labels.Everything())
				return nil, err
			},
			wantErr: true, wantCode: 404,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := tt.http()
			got, gotErr := tt.inproc()
			if tt.wantErr {
				if wantErr == nil || gotErr == nil {
					t.Fatalf("errors: http %v, in-process %v; want both", wantErr, gotErr)
				}
				if gotErr.Error() != wantErr.Error() {
					t.Errorf("in-process error %q, http %q", gotErr, wantErr)
				}
				if code := apierrors.ReasonForError(gotErr); code != apierrors.ReasonForError(wantErr) {
					t.Errorf("in-process reason %q, http %q", code, apierrors.ReasonForError(wantErr))
				}
				var se apierrors.APIStatus
				if !errors.As(gotErr, &se) || se.Status().Code != tt.wantCode {
					t.Errorf("in-process error %v is not a Status with code %d", gotErr, tt.wantCode)
				}
				return
			}
			if wantErr != nil || gotErr != nil {
				t.Fatalf("errors: http %v, in-process %v", wantErr, gotErr)
			}
			if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
				t.Errorf("in-process\n%s\nhttp\n%s", g, w)
			}
		})
	}
}

func items(l *cmv1beta2.MetricValueList, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return l.Items, nil
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// blocking is a provider whose calls wait for release and count.
type blocking struct {
	adaptertest.Provider
	calls   atomic.Int32
	started chan struct{}
	release chan struct{}
}

func (b *blocking) GetMetricBySelector(ctx context.Context, namespace string, selector labels.Selector, info adapter.CustomMetricInfo, metricSelector labels.Selector) ([]adapter.CustomMetricValue, error) {
	b.calls.Add(1)
	b.started <- struct{}{}
	select {
	case <-b.release:
		return []adapter.CustomMetricValue{value("Pod", namespace, "p", 1, 0)}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (b *blocking) GetMetricByName(context.Context, types.NamespacedName, adapter.CustomMetricInfo, labels.Selector) (adapter.CustomMetricValue, error) {
	return adapter.CustomMetricValue{}, adapter.ErrNoData
}

func TestIdenticalConcurrentCallsCoalesce(t *testing.T) {
	b := &blocking{started: make(chan struct{}, 10), release: make(chan struct{})}
	src := inprocess.New(b, nil)
	const n = 5
	var wg sync.WaitGroup
	results := make([]*cmv1beta2.MetricValueList, n)
	errs := make([]error, n)
	wg.Add(1)
	go func() {
		defer wg.Done()
		results[0], errs[0] = src.GetCustomMetrics(context.Background(), "ns", podsGR, "*", labels.Everything(), "rps", labels.Everything())
	}()
	<-b.started // the leader is in the provider; the others join it
	for i := 1; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = src.GetCustomMetrics(context.Background(), "ns", podsGR, "*", labels.Everything(), "rps", labels.Everything())
		}()
	}
	// Give the followers time to find the call in flight.
	time.Sleep(50 * time.Millisecond)
	close(b.release)
	wg.Wait()
	if got := b.calls.Load(); got != 1 {
		t.Errorf("provider calls = %d, want 1", got)
	}
	for i := range n {
		if errs[i] != nil || results[i] != results[0] {
			t.Errorf("caller %d: %v, %p (leader %p)", i, errs[i], results[i], results[0])
		}
	}
}

func TestLeaderCancelDoesNotFailFollowers(t *testing.T) {
	b := &blocking{started: make(chan struct{}, 10), release: make(chan struct{})}
	src := inprocess.New(b, nil)
	leaderCtx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := src.GetCustomMetrics(leaderCtx, "ns", podsGR, "*", labels.Everything(), "rps", labels.Everything())
		leaderErr <- err
	}()
	<-b.started
	follower := make(chan error, 1)
	go func() {
		_, err := src.GetCustomMetrics(context.Background(), "ns", podsGR, "*", labels.Everything(), "rps", labels.Everything())
		follower <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Errorf("leader error = %v, want context.Canceled", err)
	}
	<-b.started // the follower runs the call itself
	close(b.release)
	if err := <-follower; err != nil {
		t.Errorf("follower error = %v, want its own answer", err)
	}
	if got := b.calls.Load(); got != 2 {
		t.Errorf("provider calls = %d, want 2", got)
	}
}

func TestNilProviders(t *testing.T) {
	src := inprocess.New(nil, nil)
	_, err := src.GetCustomMetrics(context.Background(), "ns", podsGR, "*", nil, "rps", nil)
	if !apierrors.IsNotFound(err) {
		t.Errorf("custom without provider: %v, want NotFound", err)
	}
	_, err = src.GetExternalMetrics(context.Background(), "ns", "q", nil)
	if !apierrors.IsNotFound(err) {
		t.Errorf("external without provider: %v, want NotFound", err)
	}
}

func TestBackendUnavailableIs503(t *testing.T) {
	p := fixture()
	p.Err = errors.Join(adapter.ErrBackendUnavailable, errors.New("dial tcp: refused"))
	_, err := inprocess.New(p, p).GetExternalMetrics(context.Background(), "ns", "queue_messages", labels.Everything())
	if !apierrors.IsServiceUnavailable(err) {
		t.Errorf("error = %v, want ServiceUnavailable", err)
	}
}
