package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
)

// documentedStatuses maps "method pattern" to the statuses openapi.json
// lists for the operation.
func documentedStatuses(t testing.TB) map[string]map[int]bool {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[int]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			codes := map[int]bool{}
			for c := range op.Responses {
				n, err := strconv.Atoi(c)
				if err != nil {
					t.Fatalf("%s %s: response %q is not a status code", method, path, c)
				}
				codes[n] = true
			}
			out[method+" "+path] = codes
		}
	}
	return out
}

func TestRoutes(t *testing.T) {
	scaleUp := readInput(t, "scale-up")
	tests := []struct {
		name        string
		cfg         Config
		deps        Deps
		method      string
		target      string
		contentType string
		body        []byte
		wantCode    int
		// golden names testdata/responses/<golden>.json; empty for
		// non-JSON answers, which wantBody checks instead.
		golden    string
		wantBody  string
		wantAllow string
	}{
		// GET /api/v1/recommendations
		{name: "list all", method: http.MethodGet, target: "/api/v1/recommendations", wantCode: 200, golden: "list-all"},
		{name: "list by namespace", method: http.MethodGet, target: "/api/v1/recommendations?namespace=team-b", wantCode: 200, golden: "list-namespace"},
		{name: "list by kind", method: http.MethodGet, target: "/api/v1/recommendations?kind=Autoscaler", wantCode: 200, golden: "list-kind"},
		{name: "list by namespace and kind", method: http.MethodGet, target: "/api/v1/recommendations?namespace=team-b&kind=Autoscaler", wantCode: 200, golden: "list-empty"},
		{name: "list unknown kind", method: http.MethodGet, target: "/api/v1/recommendations?kind=hpa", wantCode: 400, golden: "list-unknown-kind"},
		{name: "list kind is case-sensitive", method: http.MethodGet, target: "/api/v1/recommendations?kind=horizontalpodautoscaler", wantCode: 400, golden: "list-kind-case"},
		{name: "list invalid namespace", method: http.MethodGet, target: "/api/v1/recommendations?namespace=Team_A", wantCode: 400, golden: "list-invalid-namespace"},
		{name: "list unknown parameter", method: http.MethodGet, target: "/api/v1/recommendations?namespaces=team-a", wantCode: 400, golden: "list-unknown-parameter"},
		{name: "list repeated parameter", method: http.MethodGet, target: "/api/v1/recommendations?kind=Autoscaler&kind=HorizontalPodAutoscaler", wantCode: 400, golden: "list-repeated-parameter"},
		{name: "list bad query", method: http.MethodGet, target: "/api/v1/recommendations?kind=%zz", wantCode: 400, golden: "list-bad-query"},
		{name: "a panic is a 500 in the API's shape", deps: Deps{Store: panicStore{}}, method: http.MethodGet, target: "/api/v1/recommendations", wantCode: 500, golden: "internal-error"},
		{name: "list empty store", deps: Deps{Store: emptyStore{}}, method: http.MethodGet, target: "/api/v1/recommendations", wantCode: 200, golden: "list-empty"},

		// GET /api/v1/recommendations/{namespace}/{kind}/{name}
		{name: "get", method: http.MethodGet, target: "/api/v1/recommendations/team-a/HorizontalPodAutoscaler/web", wantCode: 200, golden: "get-hpa"},
		{name: "get autoscaler", method: http.MethodGet, target: "/api/v1/recommendations/team-a/Autoscaler/worker", wantCode: 200, golden: "get-autoscaler"},
		{name: "get target with an error", method: http.MethodGet, target: "/api/v1/recommendations/team-b/HorizontalPodAutoscaler/api", wantCode: 200, golden: "get-error"},
		{name: "get unknown target", method: http.MethodGet, target: "/api/v1/recommendations/team-a/HorizontalPodAutoscaler/nope", wantCode: 404, golden: "get-not-found"},
		{name: "get unknown kind", method: http.MethodGet, target: "/api/v1/recommendations/team-a/Deployment/web", wantCode: 400, golden: "get-unknown-kind"},
		{name: "get kind is case-sensitive", method: http.MethodGet, target: "/api/v1/recommendations/team-a/autoscaler/worker", wantCode: 400, golden: "get-kind-case"},
		{name: "get takes no query", method: http.MethodGet, target: "/api/v1/recommendations/team-a/Autoscaler/worker?watch=true", wantCode: 400, golden: "get-query"},
		{name: "get escaped name", method: http.MethodGet, target: "/api/v1/recommendations/team-a/Autoscaler/a%2Fb", wantCode: 404, golden: "get-escaped"},
		{name: "get too few segments", method: http.MethodGet, target: "/api/v1/recommendations/team-a/Autoscaler", wantCode: 404, golden: "get-short-path"},

		// POST /api/v1/recommend
		{name: "recommend", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json", body: scaleUp, wantCode: 200, golden: "recommend-scale-up"},
		{name: "recommend with charset", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json; charset=utf-8", body: readInput(t, "scale-down"), wantCode: 200, golden: "recommend-scale-down"},
		{name: "recommend now defaults to the clock", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json",
			body: editInput(t, "scale-up", func(m map[string]any) { delete(m, "now") }), wantCode: 200, golden: "recommend-default-now"},
		{name: "recommend unknown field", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json",
			body: editInput(t, "scale-up", func(m map[string]any) { m["nw"] = "2026-01-01T00:00:00Z" }), wantCode: 400, golden: "recommend-unknown-field"},
		{name: "recommend unknown nested fields", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json",
			body: editInput(t, "scale-up", func(m map[string]any) {
				spec := m["spec"].(map[string]any)
				spec["metrics"].([]any)[0].(map[string]any)["resource"].(map[string]any)["targetUtilization"] = 50
				m["target"].(map[string]any)["replicas"] = 3
			}), wantCode: 400, golden: "recommend-unknown-nested-fields"},
		{name: "recommend field names are case-sensitive", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json",
			body: editInput(t, "scale-up", func(m map[string]any) { m["Spec"] = m["spec"]; delete(m, "spec") }), wantCode: 400, golden: "recommend-case-sensitive"},
		{name: "recommend duplicate field", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json",
			body: append([]byte(`{"now":"2026-03-01T12:00:00Z",`), scaleUp[1:]...), wantCode: 400, golden: "recommend-duplicate-field"},
		{name: "recommend wrong type", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json",
			body: editInput(t, "scale-up", func(m map[string]any) { m["spec"].(map[string]any)["maxReplicas"] = "ten" }), wantCode: 400, golden: "recommend-wrong-type"},
		{name: "recommend bad quantity", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json",
			body: editInput(t, "scale-down", func(m map[string]any) {
				m["spec"].(map[string]any)["metrics"].([]any)[0].(map[string]any)["pods"].(map[string]any)["target"].(map[string]any)["averageValue"] = "ten"
			}), wantCode: 400, golden: "recommend-bad-quantity"},
		{name: "recommend not JSON", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json", body: []byte(`{"spec": {`), wantCode: 400, golden: "recommend-syntax"},
		{name: "recommend trailing data", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json", body: append(append([]byte{}, scaleUp...), []byte(" {}")...), wantCode: 400, golden: "recommend-trailing"},
		{name: "recommend array body", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json", body: []byte(`[]`), wantCode: 400, golden: "recommend-array"},
		{name: "recommend empty body", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json", wantCode: 400, golden: "recommend-empty"},
		{name: "recommend null body", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json", body: []byte(`null`), wantCode: 422, golden: "recommend-null"},
		{name: "recommend takes no query", method: http.MethodPost, target: "/api/v1/recommend?dryRun=true", contentType: "application/json", body: scaleUp, wantCode: 400, golden: "recommend-query"},
		{name: "recommend wrong content type", method: http.MethodPost, target: "/api/v1/recommend", contentType: "text/plain", body: scaleUp, wantCode: 415, golden: "recommend-text-plain"},
		{name: "recommend form content type", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/x-www-form-urlencoded", body: scaleUp, wantCode: 415, golden: "recommend-form"},
		{name: "recommend without content type", method: http.MethodPost, target: "/api/v1/recommend", body: scaleUp, wantCode: 415, golden: "recommend-no-content-type"},
		{name: "recommend body too large", cfg: Config{MaxBodyBytes: 1024}, method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json", body: scaleUp, wantCode: 413, golden: "recommend-too-large"},
		{name: "recommend default limit is 1 MiB", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json",
			body: append(append([]byte{}, scaleUp...), bytes.Repeat([]byte(" "), DefaultMaxBodyBytes)...), wantCode: 413, golden: "recommend-too-large-default"},
		{name: "recommend invalid spec", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json",
			body: editInput(t, "scale-down", func(m map[string]any) {
				spec := m["spec"].(map[string]any)
				spec["maxReplicas"] = 0
				spec["behavior"].(map[string]any)["scaleDown"].(map[string]any)["policies"] = []any{map[string]any{"type": "Replicas", "value": 0, "periodSeconds": 3600}}
				spec["behavior"].(map[string]any)["scaleDown"].(map[string]any)["stabilizationWindowSeconds"] = -1
				spec["metrics"].([]any)[1].(map[string]any)["external"].(map[string]any)["target"].(map[string]any)["value"] = "3"
			}), wantCode: 422, golden: "recommend-invalid-spec"},
		{name: "recommend invalid metric", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json",
			body: editInput(t, "scale-down", func(m map[string]any) {
				metrics := m["spec"].(map[string]any)["metrics"].([]any)
				metrics[0].(map[string]any)["type"] = "Object"
				metrics[1].(map[string]any)["external"].(map[string]any)["metric"].(map[string]any)["name"] = "a/b"
				metrics[1].(map[string]any)["external"].(map[string]any)["target"].(map[string]any)["averageValue"] = "-1"
			}), wantCode: 422, golden: "recommend-invalid-metric"},
		{name: "recommend scale to zero needs an object or external metric", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json",
			body: editInput(t, "scale-up", func(m map[string]any) { m["spec"].(map[string]any)["minReplicas"] = 0 }), wantCode: 422, golden: "recommend-min-zero"},
		{name: "recommend observations do not match metrics", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json",
			body: editInput(t, "scale-up", func(m map[string]any) { m["observations"] = m["observations"].([]any)[:1] }), wantCode: 422, golden: "recommend-observations"},
		{name: "recommend default metric needs one observation", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json",
			body: editInput(t, "scale-up", func(m map[string]any) { delete(m["spec"].(map[string]any), "metrics") }), wantCode: 422, golden: "recommend-default-metric"},
		{name: "recommend invalid settings, target and history", method: http.MethodPost, target: "/api/v1/recommend", contentType: "application/json",
			body: editInput(t, "scale-up", func(m map[string]any) {
				m["settings"] = map[string]any{"tolerance": -0.5, "cpuInitializationPeriod": "-1m", "downscaleStabilizationWindow": "48h"}
				m["target"].(map[string]any)["specReplicas"] = -1
				recs := make([]any, 1025)
				for i := range recs {
					recs[i] = map[string]any{"replicas": 1, "timestamp": "2026-03-01T11:59:00Z"}
				}
				m["history"] = map[string]any{"recommendations": recs}
			}), wantCode: 422, golden: "recommend-invalid-settings"},

		// Methods, unknown routes, the open endpoints and the document.
		{name: "GET on recommend", method: http.MethodGet, target: "/api/v1/recommend", wantCode: 405, golden: "method-recommend", wantAllow: "POST"},
		{name: "POST on recommendations", method: http.MethodPost, target: "/api/v1/recommendations", contentType: "application/json", body: []byte(`{}`), wantCode: 405, golden: "method-recommendations", wantAllow: "GET"},
		{name: "DELETE on a recommendation", method: http.MethodDelete, target: "/api/v1/recommendations/team-a/HorizontalPodAutoscaler/web", wantCode: 405, golden: "method-recommendation", wantAllow: "GET"},
		{name: "simulate without a simulator is 501", method: http.MethodPost, target: "/api/v1/simulate", contentType: "application/json", body: []byte(`{}`), wantCode: 501, golden: "simulate-not-implemented"},
		{name: "unknown route", method: http.MethodGet, target: "/api/v2/recommendations", wantCode: 404, golden: "not-found"},
		{name: "healthz", method: http.MethodGet, target: "/healthz", wantCode: 200, wantBody: "ok\n"},
		{name: "readyz", method: http.MethodGet, target: "/readyz", wantCode: 200, wantBody: "ok\n"},
		{name: "readyz not ready", deps: Deps{Ready: func() error { return errors.New("no cycle completed yet") }}, method: http.MethodGet, target: "/readyz", wantCode: 503, wantBody: "no cycle completed yet\n"},
		{name: "metrics not mounted", method: http.MethodGet, target: "/metrics", wantCode: 404, golden: "not-found-metrics"},
		{name: "metrics", deps: Deps{Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hpa_engine_up 1\n")) })},
			method: http.MethodGet, target: "/metrics", wantCode: 200, wantBody: "hpa_engine_up 1\n"},
		{name: "openapi", method: http.MethodGet, target: "/api/v1/openapi.json", wantCode: 200, wantBody: string(openAPIDocument)},
	}
	documented := documentedStatuses(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHandler(t, tt.cfg, tt.deps)
			rec := do(h, tt.method, tt.target, tt.contentType, tt.body, nil)
			if rec.Code != tt.wantCode {
				t.Errorf("status %d, want %d; body:\n%s", rec.Code, tt.wantCode, rec.Body)
			}
			// Every status a served route answers with is in its OpenAPI
			// responses (405 and unknown routes have no operation).
			path, _, _ := strings.Cut(tt.target, "?")
			if pattern := h.(chi.Routes).Find(chi.NewRouteContext(), tt.method, path); pattern != "" {
				op := strings.ToLower(tt.method) + " " + pattern
				if !documented[op][rec.Code] {
					t.Errorf("status %d of %s is not in openapi.json", rec.Code, op)
				}
			}
			if got := strings.Join(rec.Header().Values("Allow"), ", "); got != tt.wantAllow {
				t.Errorf("Allow %q, want %q", got, tt.wantAllow)
			}
			if tt.golden == "" {
				if got := rec.Body.String(); got != tt.wantBody {
					t.Errorf("body %q, want %q", got, tt.wantBody)
				}
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if rec.Code >= 400 {
				var e ErrorResponse
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
					t.Fatalf("error body is not an ErrorResponse: %v", err)
				}
				if e.Error.Code != rec.Code || e.Error.Reason == "" || e.Error.Message == "" {
					t.Errorf("error body %+v does not match status %d", e.Error, rec.Code)
				}
			}
			checkGolden(t, tt.golden, rec.Body.Bytes())
		})
	}
}

// TestRecommendMatchesCore checks that the API adds nothing to the
// algorithm: the result served for an input is Recommend's, and the
// explanation its Lines.
func TestRecommendMatchesCore(t *testing.T) {
	for _, name := range []string{"scale-up", "scale-down"} {
		t.Run(name, func(t *testing.T) {
			want, now := recommendFrom(t, name)
			rec := do(newTestHandler(t, Config{}, Deps{}), http.MethodPost, "/api/v1/recommend", "application/json", readInput(t, name), nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var got RecommendResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			wantJSON, _ := json.Marshal(want)
			gotJSON, _ := json.Marshal(got.Result)
			if !bytes.Equal(gotJSON, wantJSON) {
				t.Errorf("result differs from Recommend's:\n got %s\nwant %s", gotJSON, wantJSON)
			}
			if strings.Join(got.Explanation, "\n") != strings.Join(want.Lines(), "\n") {
				t.Errorf("explanation differs from Lines():\n%s", strings.Join(got.Explanation, "\n"))
			}
			if !got.Now.Equal(now) {
				t.Errorf("now %s, want the input's %s", got.Now, now)
			}
		})
	}
}

func TestDefaultNowUsesClock(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)
	h := newTestHandler(t, Config{}, Deps{Clock: func() time.Time { return at }})
	body := editInput(t, "scale-up", func(m map[string]any) { delete(m, "now") })
	rec := do(h, http.MethodPost, "/api/v1/recommend", "application/json", body, nil)
	var got RecommendResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("status %d: %v\n%s", rec.Code, err, rec.Body)
	}
	if !got.Now.Equal(at) {
		t.Errorf("now %s, want the clock's %s", got.Now, at)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		deps    Deps
		wantErr error
	}{
		{name: "no store", deps: Deps{}, wantErr: ErrNoStore},
		{name: "auth without authenticator or client", cfg: Config{Auth: true}, deps: Deps{Store: emptyStore{}}, wantErr: ErrNoAuthenticator},
		{name: "no auth", deps: Deps{Store: emptyStore{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(tt.cfg, tt.deps)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if (h == nil) != (tt.wantErr != nil) {
				t.Errorf("handler %v with err %v", h, err)
			}
		})
	}
}
