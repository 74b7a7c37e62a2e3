package scaler

import (
	"context"
	"encoding/json"
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"

	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

// StatusClient reads Autoscalers from the API server and writes their status
// subresource.
type StatusClient interface {
	// Get reads the Autoscaler from the API server (not a cache), to retry a
	// status update that conflicted.
	Get(ctx context.Context, namespace, name string) (*v1alpha1.Autoscaler, error)
	// UpdateStatus writes a's status through the status subresource.
	UpdateStatus(ctx context.Context, a *v1alpha1.Autoscaler) (*v1alpha1.Autoscaler, error)
}

// DynamicStatusClient is a StatusClient over a dynamic client, so that the
// engine needs no generated clientset for its one resource.
type DynamicStatusClient struct {
	client dynamic.Interface
}

var _ StatusClient = (*DynamicStatusClient)(nil)

// NewDynamicStatusClient returns a StatusClient over client.
func NewDynamicStatusClient(client dynamic.Interface) *DynamicStatusClient {
	return &DynamicStatusClient{client: client}
}

// Get implements StatusClient.
func (c *DynamicStatusClient) Get(ctx context.Context, namespace, name string) (*v1alpha1.Autoscaler, error) {
	u, err := c.client.Resource(v1alpha1.GroupVersionResource).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return fromUnstructured(u)
}

// UpdateStatus implements StatusClient.
func (c *DynamicStatusClient) UpdateStatus(ctx context.Context, a *v1alpha1.Autoscaler) (*v1alpha1.Autoscaler, error) {
	obj := a.DeepCopy()
	obj.APIVersion, obj.Kind = v1alpha1.SchemeGroupVersion.String(), v1alpha1.Kind
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("autoscaler %s/%s to unstructured: %w", a.Namespace, a.Name, err)
	}
	u, err := c.client.Resource(v1alpha1.GroupVersionResource).Namespace(a.Namespace).UpdateStatus(ctx, &unstructured.Unstructured{Object: m}, metav1.UpdateOptions{})
	if err != nil {
		return nil, err
	}
	return fromUnstructured(u)
}

// FromUnstructured converts an Autoscaler read through a dynamic client or
// informer to its Go type.
func FromUnstructured(u *unstructured.Unstructured) (*v1alpha1.Autoscaler, error) {
	return fromUnstructured(u)
}

func fromUnstructured(u *unstructured.Unstructured) (*v1alpha1.Autoscaler, error) {
	var a v1alpha1.Autoscaler
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &a); err != nil {
		return nil, fmt.Errorf("autoscaler %s/%s from unstructured: %w", u.GetNamespace(), u.GetName(), err)
	}
	return &a, nil
}

// sameStatus compares two statuses as the API server stores them: times at
// their wire precision (seconds for metav1.Time, microseconds for
// MicroTime), so that a status read back is not "changed" by nanoseconds it
// never had. Nothing else is ignored.
func sameStatus(stored, next *v1alpha1.AutoscalerStatus) (bool, error) {
	n, err := wireStatus(next)
	if err != nil {
		return false, err
	}
	s, err := wireStatus(stored)
	if err != nil {
		return false, err
	}
	return apiequality.Semantic.DeepEqual(s, n), nil
}

func wireStatus(st *v1alpha1.AutoscalerStatus) (*v1alpha1.AutoscalerStatus, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode status: %w", err)
	}
	var out v1alpha1.AutoscalerStatus
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("decode status: %w", err)
	}
	return &out, nil
}

// writeStatus writes st as a's status when it differs from what a has. On a
// conflict it reads the object again and retries while its generation is
// a's: the status is entirely the controller's, but one computed for an
// older spec must not land on a newer one. It returns whether it wrote.
func (s *Scaler) writeStatus(ctx context.Context, a *v1alpha1.Autoscaler, st *v1alpha1.AutoscalerStatus) (bool, error) {
	same, err := sameStatus(&a.Status, st)
	if err != nil || same {
		return false, err
	}
	obj := a.DeepCopy()
	obj.Status = *st.DeepCopy()
	for attempt := 0; ; attempt++ {
		_, err := s.deps.Status.UpdateStatus(ctx, obj)
		if err == nil {
			return true, nil
		}
		if !apierrors.IsConflict(err) || attempt >= maxStatusRetries {
			return false, fmt.Errorf("update status of autoscaler %s/%s: %w", a.Namespace, a.Name, err)
		}
		fresh, getErr := s.deps.Status.Get(ctx, a.Namespace, a.Name)
		if getErr != nil {
			return false, fmt.Errorf("read autoscaler %s/%s after a conflict: %w", a.Namespace, a.Name, getErr)
		}
		if fresh.UID != a.UID || fresh.Generation != a.Generation {
			return false, fmt.Errorf("autoscaler %s/%s changed (generation %d, now %d): %w", a.Namespace, a.Name, a.Generation, fresh.Generation, ErrObjectChanged)
		}
		if same, err := sameStatus(&fresh.Status, st); err != nil || same {
			return false, err
		}
		obj = fresh.DeepCopy()
		obj.Status = *st.DeepCopy()
	}
}

// maxStatusRetries bounds the retries of a conflicting status update, as
// retry.DefaultRetry bounds the scale's.
const maxStatusRetries = 4

// setCondition sets one condition as upstream's setCondition does: the
// transition time moves only when the status changes.
func setCondition(conds []autoscalingv2.HorizontalPodAutoscalerCondition, t autoscalingv2.HorizontalPodAutoscalerConditionType, status corev1.ConditionStatus, reason, message string, now metav1.Time) []autoscalingv2.HorizontalPodAutoscalerCondition {
	for i := range conds {
		if conds[i].Type != t {
			continue
		}
		if conds[i].Status != status {
			conds[i].LastTransitionTime = now
		}
		conds[i].Status, conds[i].Reason, conds[i].Message = status, reason, message
		return conds
	}
	return append(conds, autoscalingv2.HorizontalPodAutoscalerCondition{
		Type: t, Status: status, Reason: reason, Message: message, LastTransitionTime: now,
	})
}

// restoreCondition puts back the previous value of one condition (or removes
// it if there was none): the result assumed a rescale that did not happen.
func restoreCondition(conds, prev []autoscalingv2.HorizontalPodAutoscalerCondition, t autoscalingv2.HorizontalPodAutoscalerConditionType) []autoscalingv2.HorizontalPodAutoscalerCondition {
	var old *autoscalingv2.HorizontalPodAutoscalerCondition
	for i := range prev {
		if prev[i].Type == t {
			old = &prev[i]
		}
	}
	out := conds[:0:0]
	found := false
	for _, c := range conds {
		if c.Type == t {
			found = true
			if old == nil {
				continue
			}
			c = *old
		}
		out = append(out, c)
	}
	if !found && old != nil {
		out = append(out, *old)
	}
	return out
}

func conditionTrue(conds []autoscalingv2.HorizontalPodAutoscalerCondition, t autoscalingv2.HorizontalPodAutoscalerConditionType) bool {
	for _, c := range conds {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
