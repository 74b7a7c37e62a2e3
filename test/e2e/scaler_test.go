//go:build integration

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/test/testbed"
)

// TestAutoscalerOnDeployment: an Autoscaler scales a Deployment on
// Prometheus data up and back down, by itself (no HPA object exists), and
// a dry-run Autoscaler beside it only says what it would do.
func TestAutoscalerOnDeployment(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	installAutoscalerCRD(ctx, t)
	ns := cp.CreateNamespace(ctx, t, "e2e-scaler")
	createDeployment(ctx, t, ns, "web", 2)
	createDeployment(ctx, t, ns, "dry", 2)
	pusher := startPusher(t, ns)
	pusher.SetPodLoad("web", 10)
	pusher.SetPodLoad("dry", 10)
	ref := func(name string) autoscalingv2.CrossVersionObjectReference {
		return autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name}
	}
	createAutoscaler(ctx, t, ns, "web", podLoadAutoscaler(ref("web"), 1, 8, nil))
	dry := podLoadAutoscaler(ref("dry"), 1, 8, nil)
	dry.DryRun = true
	createAutoscaler(ctx, t, ns, "dry", dry)
	startScalerController(ctx, t, "hpa-engine-controller-scaler")

	// e2e_pod_load is per pod and does not drop as pods are added, so the
	// count moves until it reaches a bound or the load is back on target.
	steps := []struct {
		name string
		load float64
		want int32
		hold bool
	}{
		{name: "on target: hold", load: 10, want: 2, hold: true},
		{name: "2.5x: scale up to maxReplicas", load: 25, want: 8},
		{name: "back on target: hold", load: 10, want: 8, hold: true},
		{name: "0.3x: scale down to minReplicas", load: 3, want: 1},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			sctx, cancel := context.WithTimeout(ctx, 45*time.Second)
			defer cancel()
			pusher.SetPodLoad("web", st.load)
			waitAutoscaled(sctx, t, deploymentsGVR, ns, "web", st.want)
			if st.hold {
				stayReplicas(sctx, t, deploymentsGVR, ns, "web", st.want, 3*time.Second)
			}
			waitReplicas(sctx, t, ns, "web", st.want)
		})
	}
	t.Run("status carries the history and conditions", func(t *testing.T) {
		a, err := getAutoscaler(ctx, dynamicClient(t), ns, "web")
		if err != nil {
			t.Fatal(err)
		}
		st := a.Status
		if st.History == nil || len(st.History.Recommendations) == 0 || len(st.History.ScaleUpEvents) == 0 || len(st.History.ScaleDownEvents) == 0 {
			t.Errorf("history %+v, want recommendations and scale up and down events", st.History)
		}
		if len(st.Conditions) == 0 || st.LastScaleTime == nil || st.LastExplanation == nil || len(st.CurrentMetrics) == 0 {
			t.Errorf("status %s: want conditions, lastScaleTime, lastExplanation and currentMetrics", autoscalerSummary(a))
		}
		hpas, err := cp.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, metav1.ListOptions{})
		if err != nil || len(hpas.Items) != 0 {
			t.Errorf("HPAs in %s: %v, %v; the native HPA controller must not be involved", ns, hpas, err)
		}
	})
	t.Run("dry run: status says what it would do, replicas untouched", func(t *testing.T) {
		pusher.SetPodLoad("dry", 25)
		dyn := dynamicClient(t)
		testbed.Eventually(ctx, t, "dry-run Autoscaler desires 5", func() error {
			a, err := getAutoscaler(ctx, dyn, ns, "dry")
			if err != nil {
				return err
			}
			if a.Status.DesiredReplicas != 5 || a.Status.CurrentReplicas != 2 {
				return fmt.Errorf("autoscaler %s", autoscalerSummary(a))
			}
			return nil
		})
		stayReplicas(ctx, t, deploymentsGVR, ns, "dry", 2, 5*time.Second)
		a, err := getAutoscaler(ctx, dyn, ns, "dry")
		if err != nil {
			t.Fatal(err)
		}
		if a.Status.LastScaleTime != nil {
			t.Errorf("dry-run Autoscaler has lastScaleTime %v", a.Status.LastScaleTime)
		}
		t.Logf("dry run status: %s", autoscalerSummary(a))
	})
}

// TestAutoscalerOnStatefulSetAndCustomResource: Autoscalers scale a
// StatefulSet on its pods' metric and a custom resource with a scale
// subresource, which has no pods, on an External metric, up and down.
func TestAutoscalerOnStatefulSetAndCustomResource(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	installAutoscalerCRD(ctx, t)
	installWidgetCRD(ctx, t)
	ns := cp.CreateNamespace(ctx, t, "e2e-scaler-kinds")
	createStatefulSet(ctx, t, ns, "db", 2)
	createWidget(ctx, t, ns, "widget", 2)
	pusher := startPusher(t, ns)
	pusher.SetPodLoad("db", 10)
	queue := map[string]string{"__name__": "e2e_queue_length", "queue": "widgets"}
	pusher.Set(queue, 20)
	createAutoscaler(ctx, t, ns, "db", podLoadAutoscaler(autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "db"}, 1, 6, nil))
	createAutoscaler(ctx, t, ns, "widget", queueAutoscaler(autoscalingv2.CrossVersionObjectReference{APIVersion: widgetsGVR.GroupVersion().String(), Kind: "Widget", Name: "widget"}, "widgets", 1, 10))
	startScalerController(ctx, t, "hpa-engine-controller-kinds")

	t.Run("StatefulSet", func(t *testing.T) {
		for _, st := range []struct {
			name string
			load float64
			want int32
		}{
			{name: "on target", load: 10, want: 2},
			{name: "up to maxReplicas", load: 25, want: 6},
			{name: "down to minReplicas", load: 3, want: 1},
		} {
			sctx, cancel := context.WithTimeout(ctx, 45*time.Second)
			pusher.SetPodLoad("db", st.load)
			waitAutoscaled(sctx, t, statefulSetsGVR, ns, "db", st.want)
			cancel()
			t.Logf("%s: %d replicas", st.name, st.want)
		}
	})
	t.Run("custom resource", func(t *testing.T) {
		for _, st := range []struct {
			name  string
			queue float64
			want  int32
		}{
			{name: "on target", queue: 20, want: 2},
			{name: "up", queue: 70, want: 7},
			{name: "capped at maxReplicas", queue: 200, want: 10},
			{name: "down", queue: 30, want: 3},
		} {
			sctx, cancel := context.WithTimeout(ctx, 45*time.Second)
			pusher.Set(queue, st.queue)
			waitAutoscaled(sctx, t, widgetsGVR, ns, "widget", st.want)
			cancel()
			t.Logf("%s: %d replicas", st.name, st.want)
		}
	})
}
