package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is the API group of the engine's own resources.
const GroupName = "autoscaling.hpa-engine.io"

// Kind and Resource name the Autoscaler in the API.
const (
	Kind     = "Autoscaler"
	ListKind = "AutoscalerList"
	Resource = "autoscalers"
)

// SchemeGroupVersion is the group and version of the types in this package.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1alpha1"}

// GroupVersionResource is what dynamic clients and informers ask for.
var GroupVersionResource = SchemeGroupVersion.WithResource(Resource)

// GroupVersionKind is the Autoscaler's apiVersion and kind.
var GroupVersionKind = SchemeGroupVersion.WithKind(Kind)

// AddToScheme registers the types of this package in a scheme. It is a plain
// function rather than a SchemeBuilder held in a package variable so that
// nothing here is mutable global state.
func AddToScheme(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion, &Autoscaler{}, &AutoscalerList{})
	metav1.AddToGroupVersion(scheme, SchemeGroupVersion)
	return nil
}
