package adapter_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/adapter"
)

// FuzzAPIRequest sends arbitrary paths and queries through the router and
// the path and selector parsing: it must never panic, and must always answer
// either a metrics list or discovery document, or a Status with the same code
// as the response. The seed corpus is in testdata/fuzz/FuzzAPIRequest.
func FuzzAPIRequest(f *testing.F) {
	p := newFixture()
	h := adapter.NewAPIHandler(p, p)
	f.Fuzz(func(t *testing.T, rawPath, rawQuery string) {
		u, err := url.Parse("https://adapter.test/" + strings.TrimPrefix(rawPath, "/"))
		if err != nil || u.Host != "adapter.test" {
			return // not a request line net/http would hand to a handler
		}
		u.RawQuery = rawQuery
		r := httptest.NewRequest(http.MethodGet, "https://adapter.test/", nil)
		r.URL = u
		r.RequestURI = u.RequestURI()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)

		switch rec.Code {
		case http.StatusOK:
			var obj metav1.TypeMeta
			if err := json.Unmarshal(rec.Body.Bytes(), &obj); err != nil {
				t.Fatalf("200 body is not JSON: %v: %s", err, rec.Body)
			}
			switch obj.Kind {
			case "MetricValueList", "ExternalMetricValueList", "APIGroupList", "APIGroup", "APIResourceList":
			default:
				t.Fatalf("200 with kind %q: %s", obj.Kind, rec.Body)
			}
		case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed:
			var status metav1.Status
			if err := json.Unmarshal(rec.Body.Bytes(), &status); err != nil {
				t.Fatalf("%d body is not JSON: %v: %s", rec.Code, err, rec.Body)
			}
			if status.Kind != "Status" || int(status.Code) != rec.Code || status.Status != metav1.StatusFailure {
				t.Fatalf("%d answered with %+v", rec.Code, status)
			}
		default:
			t.Fatalf("unexpected code %d for path %q query %q: %s", rec.Code, rawPath, rawQuery, rec.Body)
		}
	})
}
