package scaler

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stypes "k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	scalefake "k8s.io/client-go/scale/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/hpa-engine/hpa-engine/recommender"
	"github.com/hpa-engine/hpa-engine/recommender/loop"
	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

const ns = "ns"

// fakeScales is a scale subresource over a map, behind client-go's fake
// scale client: gets and updates keep a resourceVersion, conflicts and
// errors can be injected.
type fakeScales struct {
	*scalefake.FakeScaleClient

	mu       sync.Mutex
	replicas map[string]int32 // "group/resource/name"
	version  map[string]int
	// conflicts is how many updates answer 409 before one succeeds;
	// bumpOnConflict makes each conflict also change the replicas (someone
	// else scaled).
	conflicts     int
	bumpTo        int32
	getErr        error
	updateErr     error
	updates       int
	gets          int
	lastUpdatedTo int32
}

func newFakeScales() *fakeScales {
	f := &fakeScales{FakeScaleClient: &scalefake.FakeScaleClient{}, replicas: map[string]int32{}, version: map[string]int{}}
	f.AddReactor("get", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		g := a.(clienttesting.GetAction)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.gets++
		if f.getErr != nil {
			return true, nil, f.getErr
		}
		key := g.GetResource().GroupResource().String() + "/" + g.GetName()
		r, ok := f.replicas[key]
		if !ok {
			return true, nil, apierrors.NewNotFound(g.GetResource().GroupResource(), g.GetName())
		}
		return true, &autoscalingv1.Scale{
			ObjectMeta: metav1.ObjectMeta{Name: g.GetName(), Namespace: g.GetNamespace(), ResourceVersion: strconv.Itoa(f.version[key])},
			Spec:       autoscalingv1.ScaleSpec{Replicas: r},
			Status:     autoscalingv1.ScaleStatus{Replicas: r, Selector: "app=web"},
		}, nil
	})
	f.AddReactor("update", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		u := a.(clienttesting.UpdateAction)
		sc := u.GetObject().(*autoscalingv1.Scale)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.updates++
		key := u.GetResource().GroupResource().String() + "/" + sc.Name
		if f.updateErr != nil {
			return true, nil, f.updateErr
		}
		if f.conflicts > 0 {
			f.conflicts--
			f.version[key]++
			if f.bumpTo != 0 {
				f.replicas[key] = f.bumpTo
			}
			return true, nil, apierrors.NewConflict(u.GetResource().GroupResource(), sc.Name, fmt.Errorf("the object has been modified"))
		}
		if sc.ResourceVersion != strconv.Itoa(f.version[key]) {
			return true, nil, apierrors.NewConflict(u.GetResource().GroupResource(), sc.Name, fmt.Errorf("stale resourceVersion"))
		}
		f.version[key]++
		f.replicas[key] = sc.Spec.Replicas
		f.lastUpdatedTo = sc.Spec.Replicas
		return true, sc, nil
	})
	return f
}

func (f *fakeScales) set(gr, name string, r int32) {
	f.mu.Lock()
	f.replicas[gr+"/"+name] = r
	f.mu.Unlock()
}

func (f *fakeScales) get(gr, name string) int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.replicas[gr+"/"+name]
}

// testMapper knows Deployments, StatefulSets and a custom resource with
// /scale.
func testMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper([]schema.GroupVersion{{Group: "apps", Version: "v1"}, {Group: "example.com", Version: "v1"}})
	m.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}, meta.RESTScopeNamespace)
	m.Add(schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}, meta.RESTScopeNamespace)
	return m
}

type listerFunc func() ([]*v1alpha1.Autoscaler, error)

func (f listerFunc) List() ([]*v1alpha1.Autoscaler, error) { return f() }

// env is one scaler over fakes.
type env struct {
	t        *testing.T
	scales   *fakeScales
	dyn      *dynamicfake.FakeDynamicClient
	status   *DynamicStatusClient
	recorder *record.FakeRecorder
	store    *loop.MemoryStore
	now      time.Time
	s        *Scaler
	// indexer is the informer cache of tests that run the loop.
	indexer cache.Indexer
}

func newEnv(t *testing.T, objs ...*v1alpha1.Autoscaler) *env {
	t.Helper()
	e := &env{t: t, scales: newFakeScales(), recorder: record.NewFakeRecorder(100), store: loop.NewMemoryStore(), now: t0}
	var uobjs []runtime.Object
	for _, a := range objs {
		uobjs = append(uobjs, toUnstructured(t, a))
	}
	e.dyn = dynamicfake.NewSimpleDynamicClient(runtime.NewScheme(), uobjs...)
	e.status = NewDynamicStatusClient(e.dyn)
	s, err := New(Config{StaleAfter: 30 * time.Second}, Deps{
		Autoscalers: listerFunc(func() ([]*v1alpha1.Autoscaler, error) {
			var out []*v1alpha1.Autoscaler
			for _, a := range objs {
				cur, err := e.status.Get(context.Background(), a.Namespace, a.Name)
				if err != nil {
					return nil, err
				}
				out = append(out, cur)
			}
			return out, nil
		}),
		Recommendations: e.store,
		Scales:          e.scales,
		Mapper:          testMapper(),
		Status:          e.status,
		Recorder:        e.recorder,
		Now:             func() time.Time { return e.now },
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.s = s
	return e
}

func toUnstructured(t *testing.T, a *v1alpha1.Autoscaler) *unstructured.Unstructured {
	t.Helper()
	obj := a.DeepCopy()
	obj.APIVersion, obj.Kind = v1alpha1.SchemeGroupVersion.String(), v1alpha1.Kind
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatalf("to unstructured: %v", err)
	}
	return &unstructured.Unstructured{Object: m}
}

// read returns the Autoscaler as the API server has it now.
func (e *env) read(name string) *v1alpha1.Autoscaler {
	e.t.Helper()
	a, err := e.status.Get(context.Background(), ns, name)
	if err != nil {
		e.t.Fatalf("get %s: %v", name, err)
	}
	return a
}

// statusUpdates counts the status subresource updates the API server saw.
func (e *env) statusUpdates() int {
	n := 0
	for _, a := range e.dyn.Actions() {
		if a.GetVerb() == "update" && a.GetSubresource() == "status" {
			n++
		}
	}
	return n
}

// events drains the recorder.
func (e *env) events() []string {
	var out []string
	for {
		select {
		case ev := <-e.recorder.Events:
			out = append(out, ev)
		default:
			return out
		}
	}
}

func deployRef(name string) autoscalingv2.CrossVersionObjectReference {
	return autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name}
}

func newAutoscaler(name string, ref autoscalingv2.CrossVersionObjectReference) *v1alpha1.Autoscaler {
	minR := int32(1)
	return &v1alpha1.Autoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: k8stypes.UID("uid-" + name), Generation: 1, ResourceVersion: "1"},
		Spec: v1alpha1.AutoscalerSpec{
			ScaleTargetRef: ref,
			MinReplicas:    &minR,
			MaxReplicas:    20,
		},
	}
}

// result builds a recommendation by hand: current to desired with the
// conditions upstream sets on a rescale, or a hold.
func result(gen int64, current, desired int32, active bool, at time.Time) recommender.Result {
	g := gen
	rescale := desired != current
	conds := []autoscalingv2.HorizontalPodAutoscalerCondition{
		{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "ReadyForNewScale", Message: "recommended size matches current size"},
		{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionTrue, Reason: "ValidMetricFound", Message: "the HPA was able to successfully calculate a replica count from external metric qps"},
		{Type: autoscalingv2.ScalingLimited, Status: corev1.ConditionFalse, Reason: "DesiredWithinRange", Message: "the desired count is within the acceptable range"},
	}
	var lst *metav1.Time
	if rescale {
		conds[0].Reason, conds[0].Message = "SucceededRescale", fmt.Sprintf("the HPA controller was able to update the target scale to %d", desired)
		mt := metav1.NewTime(at)
		lst = &mt
	}
	var errMsg string
	proposal := recommender.Proposal{Type: autoscalingv2.ExternalMetricSourceType, Name: "qps", Replicas: desired, Rule: recommender.RuleTotalOverAverage}
	if !active {
		conds[1] = autoscalingv2.HorizontalPodAutoscalerCondition{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionFalse, Reason: "FailedGetExternalMetric", Message: "the HPA was unable to compute the replica count: unable to get external metric ns/qps"}
		errMsg = "failed to compute desired number of replicas based on listed metrics for Deployment/ns/web: invalid metrics (1 invalid out of 1), first error is: unable to get external metric ns/qps"
		proposal = recommender.Proposal{Type: autoscalingv2.ExternalMetricSourceType, Name: "qps", Rule: recommender.RuleFailed, Reason: "FailedGetExternalMetric", Error: "unable to get external metric ns/qps"}
	}
	return recommender.Result{
		CurrentReplicas:       current,
		DesiredReplicas:       desired,
		Rescale:               rescale && active,
		RescaleReason:         "external metric qps above target",
		MetricDesiredReplicas: desired,
		Metric:                "external metric qps",
		Proposals:             []recommender.Proposal{proposal},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			ObservedGeneration: &g,
			LastScaleTime:      lst,
			CurrentReplicas:    current,
			DesiredReplicas:    desired,
			Conditions:         conds,
		},
		History: recommender.History{Recommendations: []recommender.TimestampedRecommendation{{Replicas: desired, Timestamp: at}}},
		Error:   errMsg,
	}
}

func recFor(a *v1alpha1.Autoscaler, res recommender.Result, at time.Time) loop.Recommendation {
	return loop.Recommendation{Namespace: a.Namespace, Kind: loop.KindAutoscaler, Name: a.Name, ScaleTargetRef: a.Spec.ScaleTargetRef, ComputedAt: at, Result: res}
}

func condition(st v1alpha1.AutoscalerStatus, t autoscalingv2.HorizontalPodAutoscalerConditionType) autoscalingv2.HorizontalPodAutoscalerCondition {
	for _, c := range st.Conditions {
		if c.Type == t {
			return c
		}
	}
	return autoscalingv2.HorizontalPodAutoscalerCondition{}
}
