package testbed

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// serviceAccountTokenTTL is how long the tokens ServiceAccountKubeconfig
// requests live: longer than any test.
const serviceAccountTokenTTL = 2 * time.Hour

// ServiceAccountKubeconfig writes a kubeconfig that authenticates as the
// ServiceAccount namespace/name with a token from the TokenRequest API, as a
// pod's projected token would, and returns its path. The ServiceAccount must
// exist; what it may do is what its RBAC grants, so a process run with this
// kubeconfig exercises those roles.
func (cp *ControlPlane) ServiceAccountKubeconfig(ctx context.Context, namespace, name string) (string, error) {
	ttl := int64(serviceAccountTokenTTL / time.Second)
	tr, err := cp.Client.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &ttl},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token for ServiceAccount %s/%s: %w", namespace, name, err)
	}
	path := filepath.Join(cp.dir, fmt.Sprintf("sa-%s-%s.kubeconfig", namespace, name))
	if err := writeKubeconfig(path, cp.URL, cp.PKI.CAFile, "system:serviceaccount:"+namespace+":"+name, tr.Status.Token); err != nil {
		return "", err
	}
	return path, nil
}
