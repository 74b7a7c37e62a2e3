package scaler

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

// TestEventRecorder checks that events land as core/v1 Events on the
// Autoscaler, with its kind and API version, from the scaler's component.
func TestEventRecorder(t *testing.T) {
	client := fake.NewClientset()
	rec, stop, err := NewEventRecorder(client.CoreV1())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	a := newAutoscaler("web", deployRef("web"))
	rec.Eventf(a, corev1.EventTypeNormal, ReasonSuccessfulRescale, "New size: %d; reason: %s", 5, "cpu resource utilization (percentage of request) above target")

	deadline := time.Now().Add(5 * time.Second)
	for {
		list, err := client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) > 0 {
			ev := list.Items[0]
			if ev.InvolvedObject.Kind != v1alpha1.Kind || ev.InvolvedObject.APIVersion != v1alpha1.SchemeGroupVersion.String() || ev.InvolvedObject.Name != "web" {
				t.Errorf("involvedObject = %+v, want the Autoscaler ns/web", ev.InvolvedObject)
			}
			if ev.Reason != ReasonSuccessfulRescale || ev.Message != "New size: 5; reason: cpu resource utilization (percentage of request) above target" || ev.Source.Component != EventComponent {
				t.Errorf("event = %s %q from %q", ev.Reason, ev.Message, ev.Source.Component)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no event recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
