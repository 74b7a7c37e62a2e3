//go:build integration

package v1alpha1_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/hpa-engine/hpa-engine/recommender"
	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
	"github.com/hpa-engine/hpa-engine/test/testbed"
)

// TestCRDOnAPIServer applies the generated CRD to a real kube-apiserver and
// creates Autoscalers through it: the converted HPA manifest is accepted,
// CEL refuses min > max, the status subresource keeps the history to the
// microsecond, and the printer columns are served.
func TestCRDOnAPIServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cp, err := testbed.New(t).StartControlPlane(ctx, testbed.ControlPlaneOptions{})
	if err != nil {
		t.Fatal(err)
	}

	crd, _ := loadCRD(t)
	crd.Status = apiextensionsv1.CustomResourceDefinitionStatus{}
	ext := apiextensionsclient.NewForConfigOrDie(cp.Admin)
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("apply the CRD: %v", err)
	}
	testbed.Eventually(ctx, t, "CRD established", func() error {
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

	const ns = "crd-test"
	if _, err := cp.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	res := dynamic.NewForConfigOrDie(cp.Admin).Resource(v1alpha1.GroupVersionResource).Namespace(ns)

	// The HPA manifest, with apiVersion and kind changed.
	b, err := os.ReadFile("testdata/hpa.yaml")
	if err != nil {
		t.Fatal(err)
	}
	valid := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(b, &valid.Object); err != nil {
		t.Fatal(err)
	}
	valid.SetAPIVersion(v1alpha1.SchemeGroupVersion.String())
	valid.SetKind(v1alpha1.Kind)
	valid.SetNamespace(ns)
	created, err := res.Create(ctx, valid, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create the converted HPA manifest: %v", err)
	}

	// min > max: CEL refuses it with the rule's message.
	invalid := valid.DeepCopy()
	invalid.SetName("min-above-max")
	if err := unstructured.SetNestedField(invalid.Object, int64(30), "spec", "minReplicas"); err != nil {
		t.Fatal(err)
	}
	_, err = res.Create(ctx, invalid, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "maxReplicas must be greater than or equal to minReplicas") {
		t.Fatalf("create with minReplicas > maxReplicas: %v, want Invalid with the CEL rule's message", err)
	}

	// The status subresource stores the history to the microsecond.
	var a v1alpha1.Autoscaler
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(created.Object, &a); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 27, 16, 0, 0, 123456000, time.UTC)
	h := recommender.History{
		Recommendations: []recommender.TimestampedRecommendation{{Replicas: 4, Timestamp: t0.Add(15 * time.Second)}, {Replicas: 3, Timestamp: t0}},
		ScaleDownEvents: []recommender.ScaleEvent{{ReplicaChange: 2, Timestamp: t0.Add(time.Microsecond), Outdated: true}},
	}
	a.Status.CurrentReplicas, a.Status.DesiredReplicas = 4, 3
	a.Status.History = v1alpha1.HistoryToStatus(h)
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&a)
	if err != nil {
		t.Fatal(err)
	}
	updated, err := res.UpdateStatus(ctx, &unstructured.Unstructured{Object: u}, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status: %v", err)
	}
	var back v1alpha1.Autoscaler
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(updated.Object, &back); err != nil {
		t.Fatal(err)
	}
	got := v1alpha1.HistoryFromStatus(&back.Status)
	if len(got.Recommendations) != 2 || !got.Recommendations[0].Timestamp.Equal(h.Recommendations[0].Timestamp) ||
		got.Recommendations[1].Replicas != 3 || len(got.ScaleDownEvents) != 1 ||
		!got.ScaleDownEvents[0].Timestamp.Equal(h.ScaleDownEvents[0].Timestamp) || !got.ScaleDownEvents[0].Outdated {
		t.Fatalf("history read back = %+v, want %+v", got, h)
	}

	// A history over the bound is refused.
	long := make([]recommender.TimestampedRecommendation, v1alpha1.MaxHistoryItems+1)
	for i := range long {
		long[i] = recommender.TimestampedRecommendation{Replicas: 1, Timestamp: t0.Add(time.Duration(i) * time.Second)}
	}
	back.Status.History = &v1alpha1.AutoscalerHistory{}
	for _, r := range long {
		back.Status.History.Recommendations = append(back.Status.History.Recommendations,
			v1alpha1.TimestampedRecommendation{Replicas: r.Replicas, Timestamp: metav1.NewMicroTime(r.Timestamp)})
	}
	if u, err = runtime.DefaultUnstructuredConverter.ToUnstructured(&back); err != nil {
		t.Fatal(err)
	}
	if _, err := res.UpdateStatus(ctx, &unstructured.Unstructured{Object: u}, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("status with %d recommendations: %v, want Invalid", len(long), err)
	}

	// The printer columns, as kubectl get asks for them.
	raw, err := cp.Client.CoreV1().RESTClient().Get().
		AbsPath("/apis", v1alpha1.GroupName, v1alpha1.SchemeGroupVersion.Version, "namespaces", ns, v1alpha1.Resource).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	if err != nil {
		t.Fatalf("list as a table: %v", err)
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range table.ColumnDefinitions {
		names = append(names, c.Name)
	}
	if got, want := strings.Join(names, " "), "Name Reference Kind Min Max Current Desired DryRun Paused Age"; got != want {
		t.Fatalf("table columns = %q, want %q", got, want)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("table rows = %d, want 1", len(table.Rows))
	}
	if got := fmt.Sprint(table.Rows[0].Cells[:7]); got != "[web web Deployment 2 20 4 3]" {
		t.Fatalf("row = %v, want web web Deployment 2 20 4 3 ...", table.Rows[0].Cells)
	}
}
