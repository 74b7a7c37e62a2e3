package testbed

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

var apiServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// APIServiceOptions describe an aggregated API served by a server of the test
// on the loopback.
type APIServiceOptions struct {
	Group, Version string
	// Port is where the server listens on 127.0.0.1.
	Port int
	// CABundle verifies the server's certificate; when empty the APIService
	// sets insecureSkipTLSVerify.
	CABundle []byte
	// Namespace and Service name the ExternalName Service (defaults
	// DefaultAPIServiceNamespace and "loopback-<port>"). With a CABundle the
	// server's certificate must name ServiceDNSName(Namespace, Service).
	Namespace, Service string
}

// DefaultAPIServiceNamespace holds the ExternalName Services of APIServices.
const DefaultAPIServiceNamespace = "hpa-engine-testbed"

// ServiceDNSName is the name the aggregator verifies a server's certificate
// against when its APIService has a caBundle.
func ServiceDNSName(namespace, service string) string {
	return service + "." + namespace + ".svc"
}

// RegisterAPIService routes an API group version from the aggregator to a
// server on 127.0.0.1: a Service of type ExternalName whose externalName is
// localhost (EndpointSlices may not hold loopback addresses) and an APIService
// pointing at it. It waits until the aggregator marks it Available.
func (cp *ControlPlane) RegisterAPIService(ctx context.Context, o APIServiceOptions) error {
	if o.Namespace == "" {
		o.Namespace = DefaultAPIServiceNamespace
	}
	if o.Service == "" {
		o.Service = fmt.Sprintf("loopback-%d", o.Port)
	}
	_, err := cp.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: o.Namespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("namespace %s: %w", o.Namespace, err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: o.Service, Namespace: o.Namespace},
		Spec: corev1.ServiceSpec{
			Type:         corev1.ServiceTypeExternalName,
			ExternalName: "localhost",
			Ports:        []corev1.ServicePort{{Name: "https", Port: int32(o.Port)}},
		},
	}
	_, err = cp.Client.CoreV1().Services(o.Namespace).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("service %s/%s: %w", o.Namespace, o.Service, err)
	}

	spec := map[string]any{
		"group":                o.Group,
		"version":              o.Version,
		"service":              map[string]any{"name": o.Service, "namespace": o.Namespace, "port": int64(o.Port)},
		"groupPriorityMinimum": int64(100),
		"versionPriority":      int64(100),
	}
	if len(o.CABundle) > 0 {
		spec["caBundle"] = base64.StdEncoding.EncodeToString(o.CABundle)
	} else {
		spec["insecureSkipTLSVerify"] = true
	}
	name := o.Version + "." + o.Group
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1",
		"kind":       "APIService",
		"metadata":   map[string]any{"name": name},
		"spec":       spec,
	}}
	dyn, err := dynamic.NewForConfig(cp.Admin)
	if err != nil {
		return err
	}
	apiServices := dyn.Resource(apiServiceGVR)
	if existing, err := apiServices.Get(ctx, name, metav1.GetOptions{}); err == nil {
		obj.SetResourceVersion(existing.GetResourceVersion())
		_, err = apiServices.Update(ctx, obj, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("apiservice %s: %w", name, err)
		}
	} else if _, err := apiServices.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("apiservice %s: %w", name, err)
	}
	return cp.WaitAPIServiceAvailable(ctx, name, 60*time.Second)
}

// WaitAPIServiceAvailable waits until the APIService's Available condition is
// True and returns the last condition seen otherwise.
func (cp *ControlPlane) WaitAPIServiceAvailable(ctx context.Context, name string, timeout time.Duration) error {
	dyn, err := dynamic.NewForConfig(cp.Admin)
	if err != nil {
		return err
	}
	return waitFor(ctx, "APIService "+name+" Available", timeout, cp.apiserver, func(ctx context.Context) error {
		obj, err := dyn.Resource(apiServiceGVR).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Available" {
				if m["status"] == "True" {
					return nil
				}
				return fmt.Errorf("Available=%v: %v: %v", m["status"], m["reason"], m["message"])
			}
		}
		return errNotReady
	})
}
