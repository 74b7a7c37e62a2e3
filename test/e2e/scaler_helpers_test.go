//go:build integration

package e2e

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/hpa-engine/hpa-engine/scaler"
	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
	"github.com/hpa-engine/hpa-engine/test/testbed"
)

// autoscalerCRD is the generated CRD of the Autoscaler, relative to this
// package.
const autoscalerCRD = "../../scaler/apis/v1alpha1/crd/autoscaling.hpa-engine.io_autoscalers.yaml"

var crdOnce sync.Mutex

// installCRD creates crd unless it exists and waits until it is
// Established.
func installCRD(ctx context.Context, t *testing.T, crd *apiextensionsv1.CustomResourceDefinition) {
	t.Helper()
	crdOnce.Lock()
	defer crdOnce.Unlock()
	ext, err := apiextensionsclient.NewForConfig(cp.Admin)
	if err != nil {
		t.Fatal(err)
	}
	crd.Status = apiextensionsv1.CustomResourceDefinitionStatus{}
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create CRD %s: %v", crd.Name, err)
	}
	testbed.Eventually(ctx, t, "CRD "+crd.Name+" established", func() error {
		got, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range got.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", got.Status.Conditions)
	})
}

// installAutoscalerCRD applies the committed Autoscaler CRD.
func installAutoscalerCRD(ctx context.Context, t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(autoscalerCRD)
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(b, &crd); err != nil {
		t.Fatalf("decode %s: %v", autoscalerCRD, err)
	}
	installCRD(ctx, t, &crd)
}

func dynamicClient(t *testing.T) dynamic.Interface {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cp.Admin)
	if err != nil {
		t.Fatal(err)
	}
	return dyn
}

// startScalerController runs `hpa-engine controller` as startController
// does, named name (its log is labelled so), with extra flags, but as the
// ServiceAccount of test/rbac/controller.yaml rather than the admin: the
// scaler tests run under the minimal RBAC a cluster would grant. The caller
// stops, kills and restarts it through the returned Process.
func startScalerController(ctx context.Context, t *testing.T, name string, extra ...string) *testbed.Process {
	t.Helper()
	// startController passes the admin's --kubeconfig first; the last value
	// of a flag wins.
	p, _ := startController(ctx, t, name, append([]string{"--kubeconfig=" + controllerKubeconfig(ctx, t)}, extra...)...)
	return p
}

// podLoadAutoscaler is an Autoscaler spec on target, scaling on the average
// e2e_pod_load of its pods with a target of 10, with behavior (fastBehavior
// when nil).
func podLoadAutoscaler(target autoscalingv2.CrossVersionObjectReference, minR, maxR int32, behavior *autoscalingv2.HorizontalPodAutoscalerBehavior) v1alpha1.AutoscalerSpec {
	if behavior == nil {
		behavior = fastBehavior()
	}
	return v1alpha1.AutoscalerSpec{
		ScaleTargetRef: target,
		MinReplicas:    &minR,
		MaxReplicas:    maxR,
		Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: "e2e_pod_load"}, Target: averageValue("10"),
		}}},
		Behavior: behavior,
	}
}

func createAutoscaler(ctx context.Context, t *testing.T, ns, name string, spec v1alpha1.AutoscalerSpec) {
	t.Helper()
	a := &v1alpha1.Autoscaler{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	a.SetGroupVersionKind(v1alpha1.SchemeGroupVersion.WithKind("Autoscaler"))
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dynamicClient(t).Resource(v1alpha1.GroupVersionResource).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Autoscaler %s/%s: %v", ns, name, err)
	}
}

func getAutoscaler(ctx context.Context, dyn dynamic.Interface, ns, name string) (*v1alpha1.Autoscaler, error) {
	u, err := dyn.Resource(v1alpha1.GroupVersionResource).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return scaler.FromUnstructured(u)
}

// autoscalerSummary is the status of an Autoscaler in one line, for errors
// and logs.
func autoscalerSummary(a *v1alpha1.Autoscaler) string {
	st := a.Status
	s := fmt.Sprintf("current=%d desired=%d", st.CurrentReplicas, st.DesiredReplicas)
	for _, c := range st.Conditions {
		s += fmt.Sprintf(" [%s=%s %s: %s]", c.Type, c.Status, c.Reason, c.Message)
	}
	if e := st.LastExplanation; e != nil {
		s += fmt.Sprintf(" explanation: metricDesired=%d rescale=%v steps=%+v message=%q", e.MetricDesiredReplicas, e.Rescale, e.Steps, e.Message)
	}
	return s
}

// specReplicas reads spec.replicas of any object.
func specReplicas(ctx context.Context, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, name string) (int32, error) {
	u, err := dyn.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return 0, err
	}
	r, found, err := unstructured.NestedInt64(u.Object, "spec", "replicas")
	if err != nil || !found {
		return 0, fmt.Errorf("%s %s/%s: no spec.replicas (%v)", gvr.Resource, ns, name, err)
	}
	return int32(r), nil
}

// waitAutoscaled waits until the target's spec.replicas is want and the
// Autoscaler's status says current and desired are want too.
func waitAutoscaled(ctx context.Context, t *testing.T, gvr schema.GroupVersionResource, ns, name string, want int32) {
	t.Helper()
	dyn := dynamicClient(t)
	testbed.Eventually(ctx, t, fmt.Sprintf("%s %s/%s autoscaled to %d", gvr.Resource, ns, name, want), func() error {
		r, err := specReplicas(ctx, dyn, gvr, ns, name)
		if err != nil {
			return err
		}
		a, err := getAutoscaler(ctx, dyn, ns, name)
		if err != nil {
			return err
		}
		if r != want || a.Status.CurrentReplicas != want || a.Status.DesiredReplicas != want {
			return fmt.Errorf("spec.replicas=%d; autoscaler %s", r, autoscalerSummary(a))
		}
		return nil
	})
}

// stayReplicas fails the test if the target's spec.replicas leaves want
// during d.
func stayReplicas(ctx context.Context, t *testing.T, gvr schema.GroupVersionResource, ns, name string, want int32, d time.Duration) {
	t.Helper()
	dyn := dynamicClient(t)
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		r, err := specReplicas(ctx, dyn, gvr, ns, name)
		if err != nil {
			t.Fatal(err)
		}
		if r != want {
			t.Fatalf("%s %s/%s: spec.replicas=%d, want it to stay %d", gvr.Resource, ns, name, r, want)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

var deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}

var statefulSetsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}

// createStatefulSet creates a StatefulSet whose pods carry app=<name>,
// started in parallel so that scaling does not wait pod by pod.
func createStatefulSet(ctx context.Context, t *testing.T, ns, name string, replicas int32) {
	t.Helper()
	labels := map[string]string{"app": name}
	_, err := cp.Client.AppsV1().StatefulSets(ns).Create(ctx, &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &replicas,
			PodManagementPolicy: appsv1.ParallelPodManagement,
			Selector:            &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// widgets is a custom resource with a scale subresource and no pods: the
// Autoscalers on it use External metrics.
var widgetsGVR = schema.GroupVersionResource{Group: "e2e.hpa-engine.io", Version: "v1", Resource: "widgets"}

// installWidgetCRD installs the Widget CRD: spec.replicas, status.replicas
// and status.selector behind /scale.
func installWidgetCRD(ctx context.Context, t *testing.T) {
	t.Helper()
	selectorPath := ".status.selector"
	obj := func(props map[string]apiextensionsv1.JSONSchemaProps) apiextensionsv1.JSONSchemaProps {
		return apiextensionsv1.JSONSchemaProps{Type: "object", Properties: props}
	}
	installCRD(ctx, t, &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: widgetsGVR.Resource + "." + widgetsGVR.Group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: widgetsGVR.Group,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: widgetsGVR.Version, Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: ptr(obj(map[string]apiextensionsv1.JSONSchemaProps{
					"spec":   obj(map[string]apiextensionsv1.JSONSchemaProps{"replicas": {Type: "integer", Format: "int32"}}),
					"status": obj(map[string]apiextensionsv1.JSONSchemaProps{"replicas": {Type: "integer", Format: "int32"}, "selector": {Type: "string"}}),
				}))},
				Subresources: &apiextensionsv1.CustomResourceSubresources{
					Status: &apiextensionsv1.CustomResourceSubresourceStatus{},
					Scale: &apiextensionsv1.CustomResourceSubresourceScale{
						SpecReplicasPath: ".spec.replicas", StatusReplicasPath: ".status.replicas", LabelSelectorPath: &selectorPath,
					},
				},
			}},
		},
	})
}

func ptr[T any](v T) *T { return &v }

// createWidget creates a Widget with replicas and a status selector (the
// scale subresource needs one, as upstream's HPA does).
func createWidget(ctx context.Context, t *testing.T, ns, name string, replicas int32) {
	t.Helper()
	res := dynamicClient(t).Resource(widgetsGVR).Namespace(ns)
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": widgetsGVR.GroupVersion().String(), "kind": "Widget",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"replicas": int64(replicas)},
	}}
	created, err := res.Create(ctx, w, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create widget: %v", err)
	}
	created.Object["status"] = map[string]any{"replicas": int64(replicas), "selector": "app=" + name}
	if _, err := res.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("widget status: %v", err)
	}
}

// queueAutoscaler is an Autoscaler spec on target scaling on the External
// metric e2e_queue_length{queue=<queue>} with an average value of 10 per
// replica: the desired count is the queue length / 10, with no pods.
func queueAutoscaler(target autoscalingv2.CrossVersionObjectReference, queue string, minR, maxR int32) v1alpha1.AutoscalerSpec {
	return v1alpha1.AutoscalerSpec{
		ScaleTargetRef: target,
		MinReplicas:    &minR,
		MaxReplicas:    maxR,
		Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: "e2e_queue_length", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"queue": queue}}},
			Target: averageValue("10"),
		}}},
		Behavior: fastBehavior(),
	}
}
