package adapter_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/request/anonymous"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"

	"github.com/hpa-engine/hpa-engine/adapter"
	"github.com/hpa-engine/hpa-engine/adapter/adaptertest"
)

// TestRequestMetrics checks the request counter by api, group, version and
// code, 401s included, that groups and versions the adapter does not serve
// add no series, and that the latency histogram is exported.
func TestRequestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	p := newFixture()
	srv, err := adapter.New(adapter.Config{
		// Anonymous only on /healthz, like the real configuration: the
		// other paths answer 401 without credentials.
		Authenticator: authenticator.RequestFunc(func(r *http.Request) (*authenticator.Response, bool, error) {
			if r.Header.Get("Authorization") == "" && r.URL.Path != "/healthz" {
				return nil, false, nil
			}
			return anonymous.NewAuthenticator(nil).AuthenticateRequest(r)
		}),
		Authorizer: authorizerfactory.NewAlwaysAllowAuthorizer(),
	}, adapter.Deps{Custom: p, External: p, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	requests := []struct {
		path  string
		token bool
	}{
		{path: "/healthz"},
		{path: "/apis", token: true},
		{path: customV1beta2, token: true},
		{path: customV1beta2 + "/namespaces/default/pods/*/http_requests", token: true},
		{path: customV1beta2 + "/namespaces/default/pods/*/http_requests", token: true},
		{path: customV1beta2 + "/namespaces/default/pods/*/nope", token: true},
		{path: customV1beta2 + "/namespaces/default/pods/*/http_requests"},
		{path: externalV1beta1 + "/namespaces/default/queue_messages_ready", token: true},
		{path: customV1beta1 + "/namespaces/default/pods/*/http_requests", token: true},
		{path: "/apis/custom.metrics.k8s.io/v9/namespaces/default/pods/*/x", token: true},
		{path: "/apis/made.up.group/v1/namespaces/default/pods/*/x", token: true},
		{path: "/apis/made.up.group", token: true},
	}
	for _, r := range requests {
		req := newRequest(t, http.MethodGet, r.path, "")
		if r.token {
			req.Header.Set("Authorization", "Bearer x")
		}
		srv.Handler().ServeHTTP(httptest.NewRecorder(), req)
	}
	want := `
# HELP hpa_engine_adapter_requests_total Requests to the adapter's HTTPS server by api (custom, external, discovery, other), API group, version and HTTP code.
# TYPE hpa_engine_adapter_requests_total counter
hpa_engine_adapter_requests_total{api="custom",code="200",group="custom.metrics.k8s.io",version="v1beta1"} 1
hpa_engine_adapter_requests_total{api="custom",code="200",group="custom.metrics.k8s.io",version="v1beta2"} 2
hpa_engine_adapter_requests_total{api="custom",code="401",group="custom.metrics.k8s.io",version="v1beta2"} 1
hpa_engine_adapter_requests_total{api="custom",code="404",group="custom.metrics.k8s.io",version=""} 1
hpa_engine_adapter_requests_total{api="custom",code="404",group="custom.metrics.k8s.io",version="v1beta2"} 1
hpa_engine_adapter_requests_total{api="discovery",code="200",group="",version=""} 1
hpa_engine_adapter_requests_total{api="discovery",code="200",group="custom.metrics.k8s.io",version="v1beta2"} 1
hpa_engine_adapter_requests_total{api="discovery",code="404",group="",version=""} 1
hpa_engine_adapter_requests_total{api="external",code="200",group="external.metrics.k8s.io",version="v1beta1"} 1
hpa_engine_adapter_requests_total{api="other",code="200",group="",version=""} 1
hpa_engine_adapter_requests_total{api="other",code="404",group="",version=""} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "hpa_engine_adapter_requests_total"); err != nil {
		t.Error(err)
	}
	// One histogram per class that saw a request.
	if n, err := testutil.GatherAndCount(reg, "hpa_engine_adapter_request_duration_seconds"); err != nil || n != 7 {
		t.Errorf("duration series = %d, %v; want 7 (one per api, group and version requested)", n, err)
	}
}

// TestRequestTimeout checks that a provider that never answers is cut off by
// RequestTimeout and answered with 503.
func TestRequestTimeout(t *testing.T) {
	p := &adaptertest.Provider{Hang: true}
	srv, err := adapter.New(adapter.Config{
		Authenticator:  anonymous.NewAuthenticator(nil),
		Authorizer:     authorizerfactory.NewAlwaysAllowAuthorizer(),
		RequestTimeout: 50 * time.Millisecond,
	}, adapter.Deps{Custom: p, External: p})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		customV1beta2 + "/namespaces/default/pods/*/http_requests",
		customV1beta1 + "/namespaces/default/services/web/requests_per_second",
		externalV1beta1 + "/namespaces/default/queue_messages_ready",
	} {
		t.Run(path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			start := time.Now()
			srv.Handler().ServeHTTP(rec, newRequest(t, http.MethodGet, path, ""))
			if rec.Code != http.StatusServiceUnavailable {
				t.Errorf("code = %d, want 503: %s", rec.Code, rec.Body)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("answered after %s", d)
			}
		})
	}
}
