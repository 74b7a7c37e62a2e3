package cluster

import (
	"context"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/scale"
)

var deploymentsGR = schema.GroupResource{Group: "apps", Resource: "deployments"}

var (
	_ scale.ScalesGetter   = (*Cluster)(nil)
	_ scale.ScaleInterface = scales{}
)

// Scales implements client-go's scale.ScalesGetter over the fake
// Deployments, as kube-apiserver's deployments/scale subresource does:
// reading and writing spec.replicas.
func (c *Cluster) Scales(namespace string) scale.ScaleInterface {
	return scales{c: c, namespace: namespace}
}

type scales struct {
	c         *Cluster
	namespace string
}

func (s scales) Get(ctx context.Context, resource schema.GroupResource, name string, _ metav1.GetOptions) (*autoscalingv1.Scale, error) {
	if resource != deploymentsGR {
		return nil, apierrors.NewNotFound(resource, name)
	}
	d, err := s.c.Kube.AppsV1().Deployments(s.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("selector of deployment %s: %w", name, err)
	}
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	return &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name, ResourceVersion: d.ResourceVersion, UID: d.UID},
		Spec:       autoscalingv1.ScaleSpec{Replicas: replicas},
		Status:     autoscalingv1.ScaleStatus{Replicas: d.Status.Replicas, Selector: sel.String()},
	}, nil
}

func (s scales) Update(ctx context.Context, resource schema.GroupResource, sc *autoscalingv1.Scale, _ metav1.UpdateOptions) (*autoscalingv1.Scale, error) {
	if resource != deploymentsGR {
		return nil, apierrors.NewNotFound(resource, sc.Name)
	}
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	d, err := s.c.Kube.AppsV1().Deployments(s.namespace).Get(ctx, sc.Name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	if sc.ResourceVersion != "" && d.ResourceVersion != "" && sc.ResourceVersion != d.ResourceVersion {
		return nil, apierrors.NewConflict(resource, sc.Name, fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
	}
	replicas := sc.Spec.Replicas
	d.Spec.Replicas = &replicas
	d.Generation++
	if _, err := s.c.Kube.AppsV1().Deployments(s.namespace).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		return nil, err
	}
	return s.Get(ctx, resource, sc.Name, metav1.GetOptions{})
}

func (s scales) Patch(_ context.Context, gvr schema.GroupVersionResource, name string, _ types.PatchType, _ []byte, _ metav1.PatchOptions) (*autoscalingv1.Scale, error) {
	return nil, fmt.Errorf("patch %s %s: %w", gvr.GroupResource(), name, ErrPatchUnsupported)
}
