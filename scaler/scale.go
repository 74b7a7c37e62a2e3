package scaler

import (
	"context"
	"errors"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/util/retry"
)

// RESTMapper is the part of a meta.RESTMapper the scaler needs: a scale
// target's kind to its resources. A client-go restmapper over cached
// discovery implements it; its caller resets it now and then so that kinds
// installed later (CRDs with /scale) resolve.
type RESTMapper interface {
	RESTMappings(gk schema.GroupKind, versions ...string) ([]*meta.RESTMapping, error)
}

var _ RESTMapper = meta.RESTMapper(nil)

// targetScale is a scale read from the API server and the resource it was
// read through, which the update must use too.
type targetScale struct {
	resource schema.GroupResource
	scale    *autoscalingv1.Scale
}

// getScale reads the scale subresource of ref in namespace, trying every
// mapping of its kind as upstream's scaleForResourceMappings does, and
// returns the first mapping's error when none works. It always reads from
// the API server, never a cache: the scale is about to be written.
func getScale(ctx context.Context, client scale.ScalesGetter, mapper RESTMapper, namespace string, ref autoscalingv2.CrossVersionObjectReference) (targetScale, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return targetScale{}, fmt.Errorf("invalid API version in scale target reference: %w", err)
	}
	mappings, err := mapper.RESTMappings(schema.GroupKind{Group: gv.Group, Kind: ref.Kind})
	if err != nil {
		return targetScale{}, fmt.Errorf("unable to determine resource for scale target reference: %w", err)
	}
	var firstErr error
	for i, m := range mappings {
		gr := m.Resource.GroupResource()
		sc, err := client.Scales(namespace).Get(ctx, gr, ref.Name, metav1.GetOptions{})
		if err == nil {
			return targetScale{resource: gr, scale: sc}, nil
		}
		if i == 0 {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("no mapping for kind %q in group %q", ref.Kind, gv.Group)
	}
	return targetScale{}, firstErr
}

// updateScale sets the scale's spec.replicas from `from` to `to`, retrying
// on conflicts with a fresh read as upstream does. Unlike upstream, a fresh
// read whose replicas are no longer `from` stops with ErrTargetChanged: the
// recommendation was computed for the old count, and applying it over
// somebody else's change (or a second time, after a leader change) would be
// wrong.
func updateScale(ctx context.Context, client scale.ScalesGetter, namespace string, ts targetScale, from, to int32) error {
	sc := ts.scale.DeepCopy()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if sc.Spec.Replicas != from {
			return fmt.Errorf("%s %s/%s has %d replicas, the recommendation was computed for %d: %w", ts.resource, namespace, sc.Name, sc.Spec.Replicas, from, ErrTargetChanged)
		}
		sc.Spec.Replicas = to
		_, err := client.Scales(namespace).Update(ctx, ts.resource, sc, metav1.UpdateOptions{})
		if err == nil || !apierrors.IsConflict(err) {
			return err
		}
		latest, getErr := client.Scales(namespace).Get(ctx, ts.resource, sc.Name, metav1.GetOptions{})
		if getErr != nil {
			// Keep the conflict as the error RetryOnConflict sees, so that
			// the next attempt reads again through the stale copy's conflict.
			return errors.Join(err, fmt.Errorf("read %s %s/%s again: %w", ts.resource, namespace, sc.Name, getErr))
		}
		sc = latest
		return err
	})
}
