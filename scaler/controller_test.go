package scaler

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	corev1listers "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	cmv1beta2 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	emv1beta1 "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"

	"github.com/hpa-engine/hpa-engine/recommender/loop"
)

// externalQPS is a MetricSource with one external metric, qps, whose value
// the test sets.
type externalQPS struct{ value atomic.Int64 }

func (m *externalQPS) GetCustomMetrics(context.Context, string, schema.GroupResource, string, labels.Selector, string, labels.Selector) (*cmv1beta2.MetricValueList, error) {
	return nil, errors.New("no custom metrics here")
}

func (m *externalQPS) GetExternalMetrics(_ context.Context, _, metric string, _ labels.Selector) (*emv1beta1.ExternalMetricValueList, error) {
	return &emv1beta1.ExternalMetricValueList{Items: []emv1beta1.ExternalMetricValue{{
		MetricName: metric, Timestamp: metav1.Now(), Value: *resource.NewQuantity(m.value.Load(), resource.DecimalSI),
	}}}, nil
}

// TestControllerRestart runs the real loop over the Autoscaler source and
// the scaler, both rebuilt from nothing at each restart (only the API
// objects survive), through a scale-up, a burst within the policy's minute,
// a scale-down window with a restart in the middle, and the scale-down after
// it.
func TestControllerRestart(t *testing.T) {
	a := restartAutoscaler()
	e := newEnv(t, a)
	const gr = "deployments.apps"
	e.scales.set(gr, "web", 4)
	metrics := &externalQPS{}
	pods := corev1listers.NewPodLister(cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}))

	var l *loop.Loop
	start := func() {
		// A fresh informer cache, source, loop and scaler: what a
		// restarted process has.
		indexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
		src := NewAutoscalerSource(cache.NewGenericLister(indexer, schema.GroupResource{Group: "autoscaling.hpa-engine.io", Resource: "autoscalers"}))
		var err error
		l, err = loop.New(loop.Config{}, loop.Deps{
			Sources: []loop.TargetSource{src},
			Scales:  loop.NewScales(loop.WorkloadListers{}, e.scales, testMapper()),
			Pods:    pods,
			Metrics: metrics,
			Mapper:  testMapper(),
			Now:     func() time.Time { return e.now },
		})
		if err != nil {
			t.Fatal(err)
		}
		deps := e.s.deps
		deps.Autoscalers = src
		deps.Recommendations = l.Store()
		e.s, err = New(e.s.cfg, deps)
		if err != nil {
			t.Fatal(err)
		}
		e.indexer = indexer
	}
	start()

	steps := []struct {
		name    string
		at      time.Duration
		qps     int64
		restart bool
		want    int32
	}{
		{name: "scale up by the policy's 4 pods", at: 0, qps: 80, want: 8},
		{name: "after a restart the minute's budget is spent", at: 15 * time.Second, qps: 200, restart: true, want: 8},
		{name: "the next minute adds 4 more", at: 75 * time.Second, qps: 200, want: 12},
		{name: "load drops: the window holds", at: 90 * time.Second, qps: 20, want: 12},
		{name: "restart inside the window: still held", at: 300 * time.Second, qps: 20, restart: true, want: 12},
		{name: "still inside the window after the restart", at: 360 * time.Second, qps: 20, want: 12},
		{name: "window over: down by half", at: 400 * time.Second, qps: 20, want: 6},
	}
	for i, st := range steps {
		if st.restart {
			start()
		}
		e.now = t0.Add(st.at)
		metrics.value.Store(st.qps)
		// The informer's view: the objects as the API server has them,
		// with a new resourceVersion as a real one would have after a
		// write (the fake dynamic client keeps it unchanged).
		e.indexer.Replace(nil, "")
		cur := e.read("web")
		cur.ResourceVersion = strconv.Itoa(i + 100)
		if err := e.indexer.Add(toUnstructured(t, cur)); err != nil {
			t.Fatal(err)
		}
		l.Cycle(context.Background())
		e.now = e.now.Add(200 * time.Millisecond)
		e.s.Sync(context.Background())
		if got := e.scales.get(gr, "web"); got != st.want {
			rec, _ := l.Store().Get(ns, loop.KindAutoscaler, "web")
			t.Fatalf("%s: replicas %d, want %d\n%s%s", st.name, got, st.want, rec.Result, rec.Error)
		}
	}
}
