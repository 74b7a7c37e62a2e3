package adapter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/adapter"
	"github.com/hpa-engine/hpa-engine/adapter/adaptertest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const (
	customV1beta2   = "/apis/custom.metrics.k8s.io/v1beta2"
	customV1beta1   = "/apis/custom.metrics.k8s.io/v1beta1"
	externalV1beta1 = "/apis/external.metrics.k8s.io/v1beta1"
)

// newRequest builds a GET from a raw path (kept percent-encoded, as clients
// send it) and query.
func newRequest(t testing.TB, method, rawPath, rawQuery string) *http.Request {
	t.Helper()
	u, err := url.Parse("https://adapter.test" + rawPath)
	if err != nil {
		t.Fatalf("parse %q: %v", rawPath, err)
	}
	u.RawQuery = rawQuery
	r := httptest.NewRequest(method, "https://adapter.test/", nil)
	r.URL = u
	r.RequestURI = u.RequestURI()
	return r
}

func TestAPIHandler(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		path     string
		query    string
		provider *adaptertest.Provider
		wantCode int
	}{
		// Discovery.
		{name: "discovery_apis", path: "/apis", wantCode: 200},
		{name: "discovery_custom_group", path: "/apis/custom.metrics.k8s.io", wantCode: 200},
		{name: "discovery_custom_v1beta2", path: customV1beta2, wantCode: 200},
		{name: "discovery_custom_v1beta1", path: customV1beta1, wantCode: 200},
		{name: "discovery_external_group", path: "/apis/external.metrics.k8s.io", wantCode: 200},
		{name: "discovery_external_v1beta1", path: externalV1beta1, wantCode: 200},

		// Namespaced objects, by selector and by name, both versions.
		{name: "v1beta2_pods_selector", path: customV1beta2 + "/namespaces/default/pods/*/http_requests", query: "labelSelector=app%3Dweb", wantCode: 200},
		{name: "v1beta1_pods_selector", path: customV1beta1 + "/namespaces/default/pods/*/http_requests", query: "labelSelector=app%3Dweb", wantCode: 200},
		{name: "v1beta2_pods_selector_encoded_star", path: customV1beta2 + "/namespaces/default/pods/%2A/http_requests", query: "labelSelector=app+in+%28web%29", wantCode: 200},
		{name: "v1beta2_pods_all", path: customV1beta2 + "/namespaces/default/pods/*/http_requests", wantCode: 200},
		{name: "v1beta2_pods_by_name_metric_selector", path: customV1beta2 + "/namespaces/default/pods/pod-a/http_requests", query: "metricLabelSelector=verb%3DGET%2Ccode%21%3D500", wantCode: 200},
		{name: "v1beta1_pods_by_name_metric_selector", path: customV1beta1 + "/namespaces/default/pods/pod-a/http_requests", query: "metricLabelSelector=verb%3DGET%2Ccode%21%3D500", wantCode: 200},
		{name: "v1beta2_service", path: customV1beta2 + "/namespaces/default/services/web/requests_per_second", wantCode: 200},
		{name: "v1beta1_service", path: customV1beta1 + "/namespaces/default/services/web/requests_per_second", wantCode: 200},
		{name: "v1beta2_deployment_group_qualified", path: customV1beta2 + "/namespaces/default/deployments.apps/web/replicas_wanted", wantCode: 200},
		{name: "v1beta2_ingress_group_qualified", path: customV1beta2 + "/namespaces/default/ingresses.networking.k8s.io/ing/hits", wantCode: 200},

		// Root-scoped objects and the namespace object.
		{name: "v1beta2_node", path: customV1beta2 + "/nodes/node-1/node_load", wantCode: 200},
		{name: "v1beta1_node", path: customV1beta1 + "/nodes/node-1/node_load", wantCode: 200},
		{name: "v1beta2_namespace_metric", path: customV1beta2 + "/namespaces/default/metrics/queue_depth", wantCode: 200},
		{name: "v1beta1_namespace_metric", path: customV1beta1 + "/namespaces/default/metrics/queue_depth", wantCode: 200},
		{name: "v1beta2_namespace_root_scoped", path: customV1beta2 + "/namespaces/default/queue_depth", wantCode: 200},

		// External.
		{name: "external_selector", path: externalV1beta1 + "/namespaces/default/queue_messages_ready", query: "labelSelector=queue%3Dorders", wantCode: 200},
		{name: "external_all", path: externalV1beta1 + "/namespaces/default/queue_messages_ready", wantCode: 200},

		// 400: selectors and paths.
		{name: "err_bad_label_selector", path: customV1beta2 + "/namespaces/default/pods/*/http_requests", query: "labelSelector=app+in+%28web", wantCode: 400},
		{name: "err_bad_metric_label_selector", path: customV1beta2 + "/namespaces/default/pods/pod-a/http_requests", query: "metricLabelSelector=%3D%3Dx", wantCode: 400},
		{name: "err_bad_external_selector", path: externalV1beta1 + "/namespaces/default/queue_messages_ready", query: "labelSelector=queue+notin", wantCode: 400},
		{name: "err_metric_with_slash", path: customV1beta2 + "/namespaces/default/pods/pod-a/a%2Fb", wantCode: 400},
		{name: "err_metric_with_percent", path: customV1beta2 + "/namespaces/default/pods/pod-a/a%25b", wantCode: 400},
		{name: "err_metric_with_question_mark", path: externalV1beta1 + "/namespaces/default/a%3Fb", wantCode: 400},
		{name: "err_name_dotdot", path: customV1beta2 + "/namespaces/default/pods/%2E%2E/http_requests", wantCode: 400},
		{name: "err_empty_namespace", path: customV1beta2 + "/namespaces//pods/pod-a/http_requests", wantCode: 400},
		{name: "err_empty_metric", path: externalV1beta1 + "/namespaces/default/", wantCode: 404},

		// 404: unknown metric, object, no data, unknown paths.
		{name: "err_unknown_metric", path: customV1beta2 + "/namespaces/default/pods/*/nope", wantCode: 404},
		{name: "err_unknown_object", path: customV1beta2 + "/namespaces/default/services/nope/requests_per_second", wantCode: 404},
		{name: "err_no_data_nan", path: customV1beta2 + "/namespaces/default/pods/pod-a/nan_only", wantCode: 404},
		{name: "err_unknown_external", path: externalV1beta1 + "/namespaces/default/nope", wantCode: 404},
		{name: "err_external_no_series", path: externalV1beta1 + "/namespaces/default/empty_metric", wantCode: 404},
		{name: "err_external_only_nan", path: externalV1beta1 + "/namespaces/default/queue_messages_ready", query: "labelSelector=queue%3Dbroken", wantCode: 404},
		{name: "err_unknown_version", path: "/apis/custom.metrics.k8s.io/v1", wantCode: 404},
		{name: "err_unknown_path", path: "/api/v1/pods", wantCode: 404},

		// 405, 503, 500.
		{name: "err_post", method: http.MethodPost, path: customV1beta2 + "/namespaces/default/pods/*/http_requests", wantCode: 405},
		{name: "err_backend_unavailable", path: customV1beta2 + "/namespaces/default/pods/*/http_requests",
			provider: &adaptertest.Provider{Err: fmt.Errorf("query %q: %w", "up", adapter.ErrBackendUnavailable)}, wantCode: 503},
		{name: "err_backend_timeout", path: customV1beta2 + "/namespaces/default/services/web/requests_per_second",
			provider: &adaptertest.Provider{Err: fmt.Errorf("query %q: %w", "up", context.DeadlineExceeded)}, wantCode: 503},
		{name: "err_external_backend_unavailable", path: externalV1beta1 + "/namespaces/default/queue_messages_ready",
			provider: &adaptertest.Provider{Err: fmt.Errorf("query %q: %w", "up", adapter.ErrBackendUnavailable)}, wantCode: 503},
		{name: "err_provider_bug", path: customV1beta2 + "/namespaces/default/services/web/requests_per_second",
			provider: &adaptertest.Provider{Err: errors.New("unexpected result type matrix")}, wantCode: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.provider
			if p == nil {
				p = newFixture()
			}
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			rec := httptest.NewRecorder()
			adapter.NewAPIHandler(p, p).ServeHTTP(rec, newRequest(t, method, tt.path, tt.query))
			if rec.Code != tt.wantCode {
				t.Fatalf("code = %d, want %d; body: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if tt.wantCode != http.StatusOK {
				var status metav1.Status
				if err := json.Unmarshal(rec.Body.Bytes(), &status); err != nil {
					t.Fatalf("error body is not a Status: %v: %s", err, rec.Body)
				}
				if status.Kind != "Status" || status.Code != int32(tt.wantCode) || status.Status != metav1.StatusFailure {
					t.Errorf("Status = kind %q code %d status %q, want kind Status code %d status Failure", status.Kind, status.Code, status.Status, tt.wantCode)
				}
			}
			compareGolden(t, tt.name, rec.Body.Bytes())
		})
	}
}

// compareGolden compares a JSON body with testdata/<name>.json, indented so
// that diffs in review are readable.
func compareGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	var got bytes.Buffer
	if err := json.Indent(&got, body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, body)
	}
	got.WriteByte('\n')
	file := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(file, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("body differs from %s (run with -update if intended):\ngot:\n%s\nwant:\n%s", file, got.String(), strings.TrimSpace(string(want)))
	}
}
