package loop

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	appsv1listers "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/scale"
)

// Scale is what the loop reads of a scale target: its scale subresource.
type Scale struct {
	// SpecReplicas is scale.spec.replicas.
	SpecReplicas int32
	// StatusReplicas is scale.status.replicas.
	StatusReplicas int32
	// Selector is scale.status.selector in string form.
	Selector string
}

// ScaleReader reads the scale of a target's scale target.
type ScaleReader interface {
	// GetScale returns the scale of the object ref names in namespace.
	GetScale(ctx context.Context, namespace string, ref autoscalingv2.CrossVersionObjectReference) (Scale, error)
}

// RESTMapper is the part of a meta.RESTMapper the loop needs: kinds to
// resources, for scale targets of other kinds and for Object metrics.
type RESTMapper interface {
	RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error)
	RESTMappings(gk schema.GroupKind, versions ...string) ([]*meta.RESTMapping, error)
}

// WorkloadListers are the typed listers the built-in workloads are read
// from, so that the common case costs no API call. Nil listers fall back to
// the scale subresource.
type WorkloadListers struct {
	Deployments  appsv1listers.DeploymentLister
	StatefulSets appsv1listers.StatefulSetLister
	ReplicaSets  appsv1listers.ReplicaSetLister
}

// Scales reads scales from informer caches for Deployments, StatefulSets and
// ReplicaSets and through the scale subresource for every other kind, as
// upstream's controller does for all of them.
type Scales struct {
	listers WorkloadListers
	client  scale.ScalesGetter
	mapper  RESTMapper
}

var _ ScaleReader = (*Scales)(nil)

// NewScales returns a ScaleReader. client and mapper serve the kinds the
// listers do not; either may be nil, which makes those kinds an error.
func NewScales(listers WorkloadListers, client scale.ScalesGetter, mapper RESTMapper) *Scales {
	return &Scales{listers: listers, client: client, mapper: mapper}
}

var appsGroup = appsv1.SchemeGroupVersion.Group

// GetScale implements ScaleReader. Its errors read like upstream's: the
// message of the scale subresource's GET.
func (s *Scales) GetScale(ctx context.Context, namespace string, ref autoscalingv2.CrossVersionObjectReference) (Scale, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return Scale{}, fmt.Errorf("invalid API version in scale target reference: %w", err)
	}
	if gv.Group == appsGroup {
		if sc, ok, err := s.fromLister(namespace, ref); ok {
			return sc, err
		}
	}
	return s.fromSubresource(ctx, namespace, schema.GroupKind{Group: gv.Group, Kind: ref.Kind}, ref.Name)
}

// fromLister answers for the apps kinds it has a lister for; ok is false
// when it has none.
func (s *Scales) fromLister(namespace string, ref autoscalingv2.CrossVersionObjectReference) (sc Scale, ok bool, err error) {
	var (
		spec     *int32
		status   int32
		selector *metav1.LabelSelector
		getErr   error
		resource string
	)
	switch {
	case ref.Kind == "Deployment" && s.listers.Deployments != nil:
		resource = "deployments"
		var d *appsv1.Deployment
		if d, getErr = s.listers.Deployments.Deployments(namespace).Get(ref.Name); getErr == nil {
			spec, status, selector = d.Spec.Replicas, d.Status.Replicas, d.Spec.Selector
		}
	case ref.Kind == "StatefulSet" && s.listers.StatefulSets != nil:
		resource = "statefulsets"
		var d *appsv1.StatefulSet
		if d, getErr = s.listers.StatefulSets.StatefulSets(namespace).Get(ref.Name); getErr == nil {
			spec, status, selector = d.Spec.Replicas, d.Status.Replicas, d.Spec.Selector
		}
	case ref.Kind == "ReplicaSet" && s.listers.ReplicaSets != nil:
		resource = "replicasets"
		var d *appsv1.ReplicaSet
		if d, getErr = s.listers.ReplicaSets.ReplicaSets(namespace).Get(ref.Name); getErr == nil {
			spec, status, selector = d.Spec.Replicas, d.Status.Replicas, d.Spec.Selector
		}
	default:
		return Scale{}, false, nil
	}
	if apierrors.IsNotFound(getErr) {
		// Listers name the resource in the singular; the scale subresource
		// upstream reads says "deployments.apps \"web\" not found".
		return Scale{}, true, notFound(resource, ref.Name)
	}
	if getErr != nil {
		return Scale{}, true, getErr
	}
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return Scale{}, true, fmt.Errorf("selector of %s %s/%s: %w", ref.Kind, namespace, ref.Name, err)
	}
	// The API server defaults spec.replicas to 1; a nil here only comes
	// from an object that never went through it.
	replicas := int32(1)
	if spec != nil {
		replicas = *spec
	}
	return Scale{SpecReplicas: replicas, StatusReplicas: status, Selector: sel.String()}, true, nil
}

// fromSubresource tries every mapping of the kind, as upstream's
// scaleForResourceMappings does, and returns the first error if none works.
func (s *Scales) fromSubresource(ctx context.Context, namespace string, gk schema.GroupKind, name string) (Scale, error) {
	if s.client == nil || s.mapper == nil {
		return Scale{}, fmt.Errorf("no scale client for %s", gk)
	}
	mappings, err := s.mapper.RESTMappings(gk)
	if err != nil {
		return Scale{}, err
	}
	var firstErr error
	for i, m := range mappings {
		sc, err := s.client.Scales(namespace).Get(ctx, m.Resource.GroupResource(), name, metav1.GetOptions{})
		if err == nil {
			return Scale{SpecReplicas: sc.Spec.Replicas, StatusReplicas: sc.Status.Replicas, Selector: sc.Status.Selector}, nil
		}
		if i == 0 {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = errors.New("unrecognized resource")
	}
	return Scale{}, firstErr
}

// notFound is how a missing object of an apps kind reads through the scale
// subresource.
func notFound(resource, name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Group: appsGroup, Resource: resource}, name)
}
