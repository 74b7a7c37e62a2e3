package testbed

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Eventually polls check every 250ms until it returns nil, and fails the test
// with the last error when ctx ends first.
func Eventually(ctx context.Context, tb testing.TB, what string, check func() error) {
	tb.Helper()
	var last error
	for {
		if last = check(); last == nil {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("%s: %v (last: %v)", what, ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// CreateNamespace creates a namespace named prefix-<random> and waits until
// pods can be created in it.
func (cp *ControlPlane) CreateNamespace(ctx context.Context, tb testing.TB, prefix string) string {
	tb.Helper()
	ns, err := cp.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}, metav1.CreateOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := cp.WaitForServiceAccount(ctx, ns.Name); err != nil {
		tb.Fatal(err)
	}
	return ns.Name
}
