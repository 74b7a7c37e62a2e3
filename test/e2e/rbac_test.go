//go:build integration

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/hpa-engine/hpa-engine/scaler"
)

// controllerRBAC is the controller's minimal RBAC, relative to this package.
const controllerRBAC = "../../test/rbac/controller.yaml"

var (
	controllerSAOnce       sync.Mutex
	controllerSAKubeconfig string
)

// controllerKubeconfig applies test/rbac/controller.yaml (its namespace
// first) once, and returns a kubeconfig authenticating as its
// ServiceAccount: a controller run with it can do only what those roles
// grant, so a missing rule fails the scaler tests.
func controllerKubeconfig(ctx context.Context, t *testing.T) string {
	t.Helper()
	controllerSAOnce.Lock()
	defer controllerSAOnce.Unlock()
	if controllerSAKubeconfig != "" {
		return controllerSAKubeconfig
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: scaler.DefaultLeaseNamespace}}
	if _, err := cp.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if err := applyManifests(ctx, controllerRBAC); err != nil {
		t.Fatal(err)
	}
	path, err := cp.ServiceAccountKubeconfig(ctx, scaler.DefaultLeaseNamespace, "hpa-engine-controller")
	if err != nil {
		t.Fatal(err)
	}
	// The kubeconfig must authenticate as the ServiceAccount, not fall
	// back to anything broader.
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	ssr, err := client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "system:serviceaccount:" + scaler.DefaultLeaseNamespace + ":hpa-engine-controller"; ssr.Status.UserInfo.Username != want {
		t.Fatalf("the controller's kubeconfig authenticates as %q, want %q", ssr.Status.UserInfo.Username, want)
	}
	controllerSAKubeconfig = path
	return path
}

// applyManifests creates every object of the multi-document YAML file at
// path as the admin, leaving objects that exist alone.
func applyManifests(ctx context.Context, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cp.Admin)
	if err != nil {
		return err
	}
	groups, err := restmapper.GetAPIGroupResources(disc)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDiscoveryRESTMapper(groups)
	dyn, err := dynamic.NewForConfig(cp.Admin)
	if err != nil {
		return err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		gvk := u.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", path, gvk, err)
		}
		if _, err := dyn.Resource(m.Resource).Namespace(u.GetNamespace()).Create(ctx, &u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("%s: create %s %s/%s: %w", path, gvk.Kind, u.GetNamespace(), u.GetName(), err)
		}
	}
}
