package adapter_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	cminstall "k8s.io/metrics/pkg/apis/custom_metrics/install"
	eminstall "k8s.io/metrics/pkg/apis/external_metrics/install"

	"github.com/hpa-engine/hpa-engine/adapter"
)

const protobufType = "application/vnd.kubernetes.protobuf"

// TestProtobufNegotiation checks that a client asking for protobuf gets it
// (k8s.io/metrics v0.37.2 types have generated protobuf) and that it carries
// the same object as the JSON answer.
func TestProtobufNegotiation(t *testing.T) {
	scheme := runtime.NewScheme()
	cminstall.Install(scheme)
	eminstall.Install(scheme)
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	decoder := serializer.NewCodecFactory(scheme).UniversalDeserializer()

	tests := []struct {
		name     string
		path     string
		query    string
		wantCode int
	}{
		{name: "v1beta2 pods", path: customV1beta2 + "/namespaces/default/pods/*/http_requests", query: "labelSelector=app%3Dweb", wantCode: 200},
		{name: "v1beta1 object", path: customV1beta1 + "/namespaces/default/services/web/requests_per_second", query: "metricLabelSelector=verb%3DGET", wantCode: 200},
		{name: "external", path: externalV1beta1 + "/namespaces/default/queue_messages_ready", wantCode: 200},
		{name: "discovery", path: customV1beta2, wantCode: 200},
		{name: "status", path: customV1beta2 + "/namespaces/default/pods/*/nope", wantCode: 404},
	}
	h := adapter.NewAPIHandler(newFixture(), newFixture())
	get := func(t *testing.T, path, query, accept string) runtime.Object {
		t.Helper()
		r := newRequest(t, http.MethodGet, path, query)
		r.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if ct := rec.Header().Get("Content-Type"); ct != accept {
			t.Fatalf("Content-Type = %q, want %q", ct, accept)
		}
		obj, _, err := decoder.Decode(rec.Body.Bytes(), nil, nil)
		if err != nil {
			t.Fatalf("decode %s: %v", accept, err)
		}
		return obj
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pb := get(t, tt.path, tt.query, protobufType)
			js := get(t, tt.path, tt.query, "application/json")
			if !equality.Semantic.DeepEqual(pb, js) {
				t.Errorf("protobuf and JSON answers differ:\nprotobuf: %#v\njson:     %#v", pb, js)
			}
		})
	}
}
