package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/hpa-engine/hpa-engine/recommender"
	"github.com/hpa-engine/hpa-engine/recommender/loop"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testNow is the server's clock in tests.
var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return testNow }

// readInput returns a recommend input from testdata/inputs.
func readInput(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "inputs", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// editInput decodes a testdata input into a generic map, lets edit change
// it and encodes it again, so that error cases start from a valid input.
func editInput(t testing.TB, name string, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readInput(t, name), &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recommendFrom computes the result of a testdata input as the loop would.
func recommendFrom(t testing.TB, name string) (recommender.Result, time.Time) {
	t.Helper()
	var in recommender.Input
	if err := json.Unmarshal(readInput(t, name), &in); err != nil {
		t.Fatal(err)
	}
	res, err := recommender.Recommend(in)
	if err != nil {
		t.Fatal(err)
	}
	return res, in.Now
}

// fixtureStore holds three targets in two namespaces: an HPA scaling up, an
// Autoscaler held by its scale-down policy, and an HPA whose scale target is
// missing.
func fixtureStore(t testing.TB) *loop.MemoryStore {
	t.Helper()
	up, upAt := recommendFrom(t, "scale-up")
	down, downAt := recommendFrom(t, "scale-down")
	s := loop.NewMemoryStore()
	s.Replace([]loop.Recommendation{
		{
			Namespace: "team-a", Kind: loop.KindHPA, Name: "web",
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			ComputedAt:     upAt, Result: up,
		},
		{
			Namespace: "team-a", Kind: loop.KindAutoscaler, Name: "worker",
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "worker"},
			ComputedAt:     downAt, Result: down,
		},
		{
			Namespace: "team-b", Kind: loop.KindHPA, Name: "api",
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "api"},
			ComputedAt:     testNow, Error: `scale target Deployment team-b/api: deployments.apps "api" not found`,
		},
	})
	return s
}

// newTestHandler builds the API over the fixture store without
// authentication.
func newTestHandler(t testing.TB, cfg Config, deps Deps) http.Handler {
	t.Helper()
	if deps.Store == nil {
		deps.Store = fixtureStore(t)
	}
	if deps.Clock == nil {
		deps.Clock = fixedClock
	}
	h, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// do sends one request to h and returns the recorded response.
func do(h http.Handler, method, target, contentType string, body []byte, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// checkGolden compares got with testdata/responses/<name>.json, rewriting it
// with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "responses", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("response differs from %s (run with -update to accept):\n%s", path, got)
	}
}

// emptyStore is a Store without recommendations.
type emptyStore struct{}

func (emptyStore) List(string, string) []loop.Recommendation { return nil }

func (emptyStore) Get(string, string, string) (loop.Recommendation, bool) {
	return loop.Recommendation{}, false
}

// panicStore panics on every call, to exercise the recoverer.
type panicStore struct{}

func (panicStore) List(string, string) []loop.Recommendation { panic("store broken") }

func (panicStore) Get(string, string, string) (loop.Recommendation, bool) { panic("store broken") }
