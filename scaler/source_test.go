package scaler_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/hpa-engine/hpa-engine/recommender"
	"github.com/hpa-engine/hpa-engine/recommender/loop"
	"github.com/hpa-engine/hpa-engine/scaler"
	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

var srcT0 = time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)

func testAutoscaler(namespace, name string, mutate func(*v1alpha1.Autoscaler)) *v1alpha1.Autoscaler {
	a := &v1alpha1.Autoscaler{
		TypeMeta: metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: v1alpha1.Kind},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace, Name: name, UID: types.UID(namespace + "-" + name),
			Generation: 2, ResourceVersion: "1",
		},
		Spec: v1alpha1.AutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
			MinReplicas:    ptr.To[int32](1),
			MaxReplicas:    10,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.PodsMetricSourceType,
				Pods: &autoscalingv2.PodsMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "qps"},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("10"))},
				},
			}},
		},
	}
	if mutate != nil {
		mutate(a)
	}
	return a
}

func toUnstructured(tb testing.TB, a *v1alpha1.Autoscaler) *unstructured.Unstructured {
	tb.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(a)
	if err != nil {
		tb.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// startSource runs a dynamic informer over a fake dynamic client holding
// objs and returns the client and a source over the synced informer.
func startSource(t *testing.T, objs ...runtime.Object) (*dynamicfake.FakeDynamicClient, *scaler.AutoscalerSource) {
	t.Helper()
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{v1alpha1.GroupVersionResource: v1alpha1.ListKind}, objs...)
	inf := scaler.NewAutoscalerInformer(client, "", 0)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go inf.Informer().Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
		t.Fatal("informer did not sync")
	}
	return client, scaler.NewAutoscalerSource(inf.Lister())
}

func TestAutoscalerSourceTargets(t *testing.T) {
	history := &v1alpha1.AutoscalerHistory{
		Recommendations: []v1alpha1.TimestampedRecommendation{
			{Replicas: 5, Timestamp: metav1.NewMicroTime(srcT0.Add(30 * time.Second))},
			{Replicas: 3, Timestamp: metav1.NewMicroTime(srcT0.Add(15 * time.Second))},
		},
		ScaleDownEvents: []v1alpha1.ScaleEvent{{ReplicaChange: 2, Timestamp: metav1.NewMicroTime(srcT0), Outdated: true}},
	}
	withStatus := func(a *v1alpha1.Autoscaler) {
		a.Status = v1alpha1.AutoscalerStatus{
			ObservedGeneration: ptr.To[int64](2),
			CurrentReplicas:    5,
			DesiredReplicas:    3,
			Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{
				{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionTrue, Reason: "ValidMetricFound"},
			},
			History: history,
		}
	}
	tests := []struct {
		name string
		objs []*v1alpha1.Autoscaler
		// raw are objects added as they are, e.g. ones that do not convert.
		raw []*unstructured.Unstructured
		// want are the expected autoscalers, in the expected order.
		want []*v1alpha1.Autoscaler
	}{
		{name: "none"},
		{
			name: "history seeded from status",
			objs: []*v1alpha1.Autoscaler{testAutoscaler("shop", "web", withStatus)},
			want: []*v1alpha1.Autoscaler{testAutoscaler("shop", "web", withStatus)},
		},
		{
			name: "sorted by namespace and name, paused and dry-run listed",
			objs: []*v1alpha1.Autoscaler{
				testAutoscaler("b", "x", nil),
				testAutoscaler("a", "z", func(a *v1alpha1.Autoscaler) { a.Spec.Paused = true }),
				testAutoscaler("a", "y", func(a *v1alpha1.Autoscaler) { a.Spec.DryRun = true }),
			},
			want: []*v1alpha1.Autoscaler{
				testAutoscaler("a", "y", func(a *v1alpha1.Autoscaler) { a.Spec.DryRun = true }),
				testAutoscaler("a", "z", func(a *v1alpha1.Autoscaler) { a.Spec.Paused = true }),
				testAutoscaler("b", "x", nil),
			},
		},
		{
			name: "an object that does not convert is left out",
			objs: []*v1alpha1.Autoscaler{testAutoscaler("shop", "web", nil)},
			raw: []*unstructured.Unstructured{{Object: map[string]any{
				"apiVersion": v1alpha1.SchemeGroupVersion.String(), "kind": v1alpha1.Kind,
				"metadata": map[string]any{"namespace": "shop", "name": "broken", "uid": "broken", "resourceVersion": "1"},
				"spec":     map[string]any{"maxReplicas": "three"},
			}}},
			want: []*v1alpha1.Autoscaler{testAutoscaler("shop", "web", nil)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objs []runtime.Object
			for _, a := range tt.objs {
				objs = append(objs, toUnstructured(t, a))
			}
			for _, u := range tt.raw {
				objs = append(objs, u)
			}
			_, src := startSource(t, objs...)
			if src.Kind() != loop.KindAutoscaler {
				t.Fatalf("Kind() = %q, want %q", src.Kind(), loop.KindAutoscaler)
			}
			targets, err := src.Targets()
			if err != nil {
				t.Fatal(err)
			}
			if len(targets) != len(tt.want) {
				t.Fatalf("got %d targets, want %d: %+v", len(targets), len(tt.want), targets)
			}
			for i, want := range tt.want {
				h := v1alpha1.HistoryFromStatus(&want.Status)
				wantTarget := loop.Target{
					Kind: loop.KindAutoscaler, Namespace: want.Namespace, Name: want.Name, UID: want.UID,
					Generation: want.Generation, Spec: want.Spec.ToHPASpec(), Status: want.Status.ToHPAStatus(),
					History: &h,
				}
				if !reflect.DeepEqual(inUTCTarget(targets[i]), inUTCTarget(wantTarget)) {
					t.Errorf("target %d:\n got %+v\nwant %+v", i, targets[i], wantTarget)
				}
			}
			list, err := src.List()
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range tt.want {
				if list[i].Namespace != want.Namespace || list[i].Name != want.Name ||
					list[i].Spec.DryRun != want.Spec.DryRun || list[i].Spec.Paused != want.Spec.Paused {
					t.Errorf("List()[%d] = %s/%s %+v, want %s/%s", i, list[i].Namespace, list[i].Name, list[i].Spec, want.Namespace, want.Name)
				}
			}
		})
	}
}

// inUTCTarget puts the history's and status's times in UTC: objects read
// back through unstructured come in local time.
func inUTCTarget(tg loop.Target) loop.Target {
	if tg.History != nil {
		h := recommender.History{}
		for _, r := range tg.History.Recommendations {
			r.Timestamp = r.Timestamp.UTC()
			h.Recommendations = append(h.Recommendations, r)
		}
		for _, e := range tg.History.ScaleUpEvents {
			e.Timestamp = e.Timestamp.UTC()
			h.ScaleUpEvents = append(h.ScaleUpEvents, e)
		}
		for _, e := range tg.History.ScaleDownEvents {
			e.Timestamp = e.Timestamp.UTC()
			h.ScaleDownEvents = append(h.ScaleDownEvents, e)
		}
		tg.History = &h
	}
	return tg
}

func TestAutoscalerSourceFollowsTheInformer(t *testing.T) {
	web := testAutoscaler("shop", "web", nil)
	client, src := startSource(t, toUnstructured(t, web), toUnstructured(t, testAutoscaler("shop", "api", nil)))
	res := client.Resource(v1alpha1.GroupVersionResource).Namespace("shop")
	ctx := context.Background()

	first, err := src.List()
	if err != nil {
		t.Fatal(err)
	}
	again, err := src.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 || first[1] != again[1] {
		t.Fatal("an unchanged object was converted again instead of reused")
	}

	// A status write with a history: the next Targets carries it.
	updated := web.DeepCopy()
	updated.ResourceVersion = "2"
	updated.Status.History = v1alpha1.HistoryToStatus(recommender.History{
		Recommendations: []recommender.TimestampedRecommendation{{Replicas: 7, Timestamp: srcT0}},
	})
	if _, err := res.Update(ctx, toUnstructured(t, updated), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := res.Delete(ctx, "api", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var targets []loop.Target
	err = wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		targets, err = src.Targets()
		return err == nil && len(targets) == 1 && len(targets[0].History.Recommendations) == 1, err
	})
	if err != nil {
		t.Fatalf("the source did not follow the update and the delete: %v (targets %+v)", err, targets)
	}
	if got := targets[0].History.Recommendations[0]; got.Replicas != 7 || !got.Timestamp.Equal(srcT0) {
		t.Fatalf("history = %+v, want 7 replicas at %v", got, srcT0)
	}

	// Get returns a copy the caller owns.
	got, err := src.Get("shop", "web")
	if err != nil {
		t.Fatal(err)
	}
	got.Spec.MaxReplicas = 99
	list, err := src.List()
	if err != nil {
		t.Fatal(err)
	}
	if list[0].Spec.MaxReplicas != 10 {
		t.Fatal("modifying what Get returned changed the source's cache")
	}
	if _, err := src.Get("shop", "api"); err == nil {
		t.Fatal("Get of a deleted autoscaler succeeded")
	}
}

// BenchmarkAutoscalerSourceTargets lists 10,000 unchanged Autoscalers, the
// loop's per-cycle call at the scale DESIGN.md targets: conversions are
// reused, so a cycle costs a list, a map lookup per object and a sort.
func BenchmarkAutoscalerSourceTargets(b *testing.B) {
	objs := make([]runtime.Object, 10000)
	for i := range objs {
		objs[i] = toUnstructured(b, testAutoscaler(fmt.Sprintf("ns-%d", i%100), fmt.Sprintf("a-%d", i), nil))
	}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{v1alpha1.GroupVersionResource: v1alpha1.ListKind}, objs...)
	inf := scaler.NewAutoscalerInformer(client, "", 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go inf.Informer().Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
		b.Fatal("informer did not sync")
	}
	src := scaler.NewAutoscalerSource(inf.Lister())
	if targets, err := src.Targets(); err != nil || len(targets) != len(objs) {
		b.Fatalf("first Targets: %d targets, %v", len(targets), err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := src.Targets(); err != nil {
			b.Fatal(err)
		}
	}
}
