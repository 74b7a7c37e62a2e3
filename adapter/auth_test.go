package adapter

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/authorization/path"
	"k8s.io/apiserver/pkg/authorization/union"
	"k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	authenticationv1client "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationv1client "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// clientCert issues a client certificate for commonName.
func (ca *testCA) clientCert(t *testing.T, commonName string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func jsonList(t *testing.T, v ...string) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sarRecorder answers SubjectAccessReviews like the RBAC rules the HPA
// controller has ("get" on custom metrics, "list" on external metrics, whose
// paths have no object name) for the allowed users, and records what it was
// asked.
type sarRecorder struct {
	allowed map[string]bool
	mu      sync.Mutex
	seen    []authorizationv1.SubjectAccessReviewSpec
}

func (s *sarRecorder) review(sar *authorizationv1.SubjectAccessReview) {
	s.mu.Lock()
	s.seen = append(s.seen, sar.Spec)
	s.mu.Unlock()
	ra := sar.Spec.ResourceAttributes
	sar.Status.Allowed = s.allowed[sar.Spec.User] && ra != nil && (ra.Verb == "get" || ra.Verb == "list")
}

// reviewingClientset is the fake clientset (ConfigMaps) with real
// TokenReview and SubjectAccessReview clients.
type reviewingClientset struct {
	*fake.Clientset
	reviews *kubernetes.Clientset
}

func (c *reviewingClientset) AuthenticationV1() authenticationv1client.AuthenticationV1Interface {
	return c.reviews.AuthenticationV1()
}

func (c *reviewingClientset) AuthorizationV1() authorizationv1client.AuthorizationV1Interface {
	return c.reviews.AuthorizationV1()
}

func (s *sarRecorder) last() authorizationv1.SubjectAccessReviewSpec {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) == 0 {
		return authorizationv1.SubjectAccessReviewSpec{}
	}
	return s.seen[len(s.seen)-1]
}

// TestDelegatedAuth runs the real authenticator and authorizer chain against
// a fake kube-apiserver client: the request-header settings and front-proxy CA
// come from the extension-apiserver-authentication ConfigMap, bearer tokens go
// through TokenReview and decisions through SubjectAccessReview.
func TestDelegatedAuth(t *testing.T) {
	frontProxyCA := newTestCA(t, "front-proxy-ca")
	rogueCA := newTestCA(t, "rogue-ca")

	configMaps := fake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: authConfigMapNamespace, Name: authConfigMapName},
		Data: map[string]string{
			"requestheader-client-ca-file":       string(frontProxyCA.pem),
			"requestheader-allowed-names":        jsonList(t, "front-proxy-client"),
			"requestheader-username-headers":     jsonList(t, "X-Remote-User"),
			"requestheader-group-headers":        jsonList(t, "X-Remote-Group"),
			"requestheader-extra-headers-prefix": jsonList(t, "X-Remote-Extra-"),
		},
	})
	// TokenReview and SubjectAccessReview clients post through their REST
	// client, which the fake clientset lacks: they go to a small fake
	// kube-apiserver instead.
	sars := &sarRecorder{allowed: map[string]bool{"alice": true}}
	kube := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/apis/authentication.k8s.io/v1/tokenreviews":
			var tr authenticationv1.TokenReview
			if err := json.NewDecoder(r.Body).Decode(&tr); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			users := map[string]string{"alice-token": "alice", "bob-token": "bob"}
			if u, ok := users[tr.Spec.Token]; ok {
				tr.Status = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: u}}
			}
			_ = json.NewEncoder(w).Encode(&tr)
		case "/apis/authorization.k8s.io/v1/subjectaccessreviews":
			var sar authorizationv1.SubjectAccessReview
			if err := json.NewDecoder(r.Body).Decode(&sar); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			sars.review(&sar)
			_ = json.NewEncoder(w).Encode(&sar)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(kube.Close)
	reviews, err := kubernetes.NewForConfig(&rest.Config{Host: kube.URL})
	if err != nil {
		t.Fatal(err)
	}
	client := &reviewingClientset{Clientset: configMaps, reviews: reviews}

	authnOpts := genericoptions.NewDelegatingAuthenticationOptions()
	authnOpts.CacheTTL = 0
	authzOpts := NewOptions().Authorization
	serving := &server.SecureServingInfo{}
	authn, requestHeader, err := newDelegatingAuthenticator(authnOpts, client, authzOpts.AlwaysAllowPaths, serving)
	if err != nil {
		t.Fatal(err)
	}
	if requestHeader == nil || serving.ClientCA == nil {
		t.Fatal("request header config not read from the ConfigMap")
	}
	// Serve runs the CA controllers; without it the test runs them, and waits
	// for the front-proxy CA to be loaded from the ConfigMap.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go serving.ClientCA.(dynamiccertificates.ControllerRunner).Run(ctx, 1)
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		_, ok := requestHeader.CAContentProvider.VerifyOptions()
		return ok, nil
	}); err != nil {
		t.Fatalf("front-proxy CA not loaded: %v", err)
	}
	// The same authorizer union DelegatingAuthorizationOptions builds, on the
	// fake client: always-allowed paths, then SubjectAccessReview.
	paths, err := path.NewAuthorizer(authzOpts.AlwaysAllowPaths)
	if err != nil {
		t.Fatal(err)
	}
	sar, err := authorizerfactory.DelegatingAuthorizerConfig{
		SubjectAccessReviewClient: client.AuthorizationV1(),
		WebhookRetryBackoff:       genericoptions.DefaultAuthWebhookRetryBackoff(),
	}.New()
	if err != nil {
		t.Fatal(err)
	}
	authz, err := union.New(union.NamedAuthorizer{AuthorizerName: "paths", Authorizer: paths}, union.NamedAuthorizer{AuthorizerName: "sar", Authorizer: sar})
	if err != nil {
		t.Fatal(err)
	}
	p := &staticProvider{}
	srv, err := New(Config{
		Authenticator:       authn,
		RequestHeaderConfig: requestHeader,
		Authorizer:          authz,
	}, Deps{Custom: p, External: p, Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("# metrics")) })})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	ts.StartTLS()
	t.Cleanup(ts.Close)

	const podsPath = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests"
	const externalPath = "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth"
	tests := []struct {
		name     string
		path     string
		token    string
		cert     *tls.Certificate
		headers  map[string]string
		wantCode int
		wantSAR  *authorizationv1.ResourceAttributes
		wantUser string
	}{
		{name: "no credentials", path: podsPath, wantCode: 401},
		{name: "healthz without credentials", path: "/healthz", wantCode: 200},
		{name: "readyz without credentials", path: "/readyz", wantCode: 200},
		{name: "metrics without credentials", path: "/metrics", wantCode: 200},
		{name: "unknown token", path: podsPath, token: "nope", wantCode: 401},
		{name: "token with rights", path: podsPath, token: "alice-token", wantCode: 200, wantUser: "alice",
			wantSAR: &authorizationv1.ResourceAttributes{Namespace: "default", Verb: "get", Group: "custom.metrics.k8s.io", Version: "v1beta2", Resource: "pods", Subresource: "http_requests", Name: "*"}},
		{name: "token with rights, external", path: externalPath, token: "alice-token", wantCode: 200, wantUser: "alice",
			wantSAR: &authorizationv1.ResourceAttributes{Namespace: "default", Verb: "list", Group: "external.metrics.k8s.io", Version: "v1beta1", Resource: "queue_depth"}},
		{name: "token without rights", path: podsPath, token: "bob-token", wantCode: 403, wantUser: "bob"},
		{name: "front proxy with rights", path: podsPath, cert: ptr(frontProxyCA.clientCert(t, "front-proxy-client")),
			headers: map[string]string{"X-Remote-User": "alice", "X-Remote-Group": "devs"}, wantCode: 200, wantUser: "alice"},
		{name: "front proxy without rights", path: podsPath, cert: ptr(frontProxyCA.clientCert(t, "front-proxy-client")),
			headers: map[string]string{"X-Remote-User": "bob"}, wantCode: 403, wantUser: "bob"},
		{name: "headers without a front-proxy certificate", path: podsPath, headers: map[string]string{"X-Remote-User": "alice"}, wantCode: 401},
		{name: "front proxy certificate from another CA", path: podsPath, cert: ptr(rogueCA.clientCert(t, "front-proxy-client")),
			headers: map[string]string{"X-Remote-User": "alice"}, wantCode: 401},
		{name: "front proxy certificate with a name not allowed", path: podsPath, cert: ptr(frontProxyCA.clientCert(t, "someone-else")),
			headers: map[string]string{"X-Remote-User": "alice"}, wantCode: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			transport := ts.Client().Transport.(*http.Transport).Clone()
			if tt.cert != nil {
				transport.TLSClientConfig.Certificates = []tls.Certificate{*tt.cert}
			}
			req, err := http.NewRequest(http.MethodGet, ts.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, err := (&http.Client{Transport: transport}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("code = %d, want %d", resp.StatusCode, tt.wantCode)
			}
			if tt.wantCode >= 400 {
				var status metav1.Status
				if err := json.NewDecoder(resp.Body).Decode(&status); err != nil || status.Kind != "Status" || status.Code != int32(tt.wantCode) {
					t.Errorf("body is not a %d Status: %+v, %v", tt.wantCode, status, err)
				}
			}
			if tt.wantUser != "" {
				got := sars.last()
				if got.User != tt.wantUser {
					t.Errorf("SubjectAccessReview user = %q, want %q", got.User, tt.wantUser)
				}
				if tt.wantSAR != nil && (got.ResourceAttributes == nil || *got.ResourceAttributes != *tt.wantSAR) {
					t.Errorf("SubjectAccessReview attributes = %+v, want %+v", got.ResourceAttributes, tt.wantSAR)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// staticProvider serves one sample of anything, for tests about the edge
// around the provider.
type staticProvider struct{}

func (staticProvider) GetMetricByName(_ context.Context, o types.NamespacedName, info CustomMetricInfo, _ labels.Selector) (CustomMetricValue, error) {
	return CustomMetricValue{DescribedObject: corev1.ObjectReference{Namespace: o.Namespace, Name: o.Name}, Timestamp: time.Unix(0, 0), Value: 1}, nil
}

func (staticProvider) GetMetricBySelector(_ context.Context, ns string, _ labels.Selector, _ CustomMetricInfo, _ labels.Selector) ([]CustomMetricValue, error) {
	return []CustomMetricValue{{DescribedObject: corev1.ObjectReference{Namespace: ns, Name: "a"}, Timestamp: time.Unix(0, 0), Value: 1}}, nil
}

func (staticProvider) ListAllMetrics() []CustomMetricInfo {
	return []CustomMetricInfo{{GroupResource: schema.GroupResource{Resource: "pods"}, Namespaced: true, Metric: "http_requests"}}
}

func (staticProvider) GetExternalMetric(context.Context, string, labels.Selector, ExternalMetricInfo) ([]ExternalMetricValue, error) {
	return []ExternalMetricValue{{Timestamp: time.Unix(0, 0), Value: 1}}, nil
}

func (staticProvider) ListAllExternalMetrics() []ExternalMetricInfo {
	return []ExternalMetricInfo{{Metric: "queue_depth"}}
}
