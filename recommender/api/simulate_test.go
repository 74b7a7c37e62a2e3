package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/recommender/simulate"
)

// fakeSimulator records the simulations it is asked for and answers with a
// one-step timeline, or err.
type fakeSimulator struct {
	err error

	mu  sync.Mutex
	got []Simulation
}

func (f *fakeSimulator) Simulate(_ context.Context, s Simulation) (*simulate.Timeline, error) {
	f.mu.Lock()
	f.got = append(f.got, s)
	f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	load := 150.0
	return &simulate.Timeline{
		Kind: simulate.KindHPA, Namespace: "sim", Name: "web", From: s.Range.From, To: s.Range.From, Step: metav1.Duration{Duration: s.Range.Step},
		InitialReplicas: 2, MinReplicas: 1, MaxReplicas: 10,
		Metrics: []simulate.Metric{{Type: "Pods", Name: "rps", Model: simulate.ModelTotal, Query: "sum(rps) by (pod)"}},
		Steps:   []simulate.Step{{Time: s.Range.From, Load: []*float64{&load}, Proposals: []simulate.Proposal{{Replicas: 2, Rule: "Ratio"}}, Current: 2, Desired: 2, Reason: "ReadyForNewScale", Explanation: []string{"desired replicas: 2 (current 2): no change"}}},
	}, nil
}

const simManifest = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: sim}\nspec: {maxReplicas: 10, scaleTargetRef: {kind: Deployment, name: web}}\n"

func simBody(t testing.TB, edit func(m map[string]any)) []byte {
	t.Helper()
	m := map[string]any{"manifest": simManifest, "from": "2026-11-27T11:00:00Z", "to": "2026-11-27T11:30:00Z"}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSimulate(t *testing.T) {
	tooMany := func(m map[string]any) { m["from"], m["to"], m["step"] = "-48h", "now", "15s" }
	tests := []struct {
		name        string
		noSimulator bool
		simErr      error
		contentType string
		target      string
		body        []byte
		wantCode    int
		// golden names an error body under testdata/responses.
		golden string
		// want is the simulation the simulator must receive.
		want *Simulation
	}{
		{name: "yaml manifest, default step", body: simBody(t, nil), wantCode: 200,
			want: &Simulation{Manifest: []byte(simManifest), Range: simulate.Range{From: testNow.Add(-time.Hour), To: testNow.Add(-30 * time.Minute), Step: 15 * time.Second}}},
		{name: "object manifest, relative times, options", body: simBody(t, func(m map[string]any) {
			m["manifest"] = map[string]any{"kind": "Autoscaler"}
			m["from"], m["to"], m["step"] = "-24h", "now", "1m"
			m["initialReplicas"], m["podName"], m["seriesSelector"] = 3, "web-[a-z0-9]+", "app=web"
		}), wantCode: 200, want: &Simulation{Manifest: []byte(`{"kind":"Autoscaler"}`), Range: simulate.Range{From: testNow.Add(-24 * time.Hour), To: testNow, Step: time.Minute},
			InitialReplicas: int32p(3), PodName: "web-[a-z0-9]+", SeriesSelector: "app=web"}},
		{name: "step in seconds", body: simBody(t, func(m map[string]any) { m["step"] = "30" }), wantCode: 200,
			want: &Simulation{Manifest: []byte(simManifest), Range: simulate.Range{From: testNow.Add(-time.Hour), To: testNow.Add(-30 * time.Minute), Step: 30 * time.Second}}},
		{name: "no simulator", noSimulator: true, body: simBody(t, nil), wantCode: 501, golden: "simulate-not-implemented"},
		{name: "no manifest", body: simBody(t, func(m map[string]any) { delete(m, "manifest") }), wantCode: 400, golden: "simulate-no-manifest"},
		{name: "empty manifest", body: simBody(t, func(m map[string]any) { m["manifest"] = "  " }), wantCode: 400},
		{name: "manifest of the wrong type", body: simBody(t, func(m map[string]any) { m["manifest"] = 3 }), wantCode: 400},
		{name: "unknown field", body: simBody(t, func(m map[string]any) { m["until"] = "now" }), wantCode: 400, golden: "simulate-unknown-field"},
		{name: "bad from", body: simBody(t, func(m map[string]any) { m["from"] = "yesterday" }), wantCode: 400, golden: "simulate-bad-from"},
		{name: "bad step", body: simBody(t, func(m map[string]any) { m["step"] = "0s" }), wantCode: 400},
		{name: "backwards", body: simBody(t, func(m map[string]any) { m["from"], m["to"] = m["to"], m["from"] }), wantCode: 400},
		{name: "more than 11,000 steps", body: simBody(t, tooMany), wantCode: 400, golden: "simulate-too-many-steps"},
		{name: "negative initial replicas", body: simBody(t, func(m map[string]any) { m["initialReplicas"] = -1 }), wantCode: 422},
		{name: "simulator: invalid", simErr: fmt.Errorf("metric 1: Resource metrics cannot be replayed: %w", simulate.ErrInvalid), body: simBody(t, nil), wantCode: 422, golden: "simulate-invalid"},
		{name: "simulator: prometheus down", simErr: fmt.Errorf("history of metric 1: %w: connection refused", simulate.ErrUnavailable), body: simBody(t, nil), wantCode: 503, golden: "simulate-unavailable"},
		{name: "simulator: timeout", simErr: fmt.Errorf("query: %w", context.DeadlineExceeded), body: simBody(t, nil), wantCode: 503},
		{name: "simulator: other", simErr: errors.New("bad_data: parse error"), body: simBody(t, nil), wantCode: 500},
		{name: "wrong content type", contentType: "text/yaml", body: simBody(t, nil), wantCode: 415},
		{name: "no query parameters", target: "/api/v1/simulate?dryRun=1", body: simBody(t, nil), wantCode: 400},
		{name: "empty body", body: nil, wantCode: 400},
		{name: "not JSON", body: []byte(`{"manifest":`), wantCode: 400},
	}
	documented := documentedStatuses(t)["post "+pathSimulate]
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := &fakeSimulator{err: tt.simErr}
			deps := Deps{Simulator: sim}
			if tt.noSimulator {
				deps.Simulator = nil
			}
			h := newTestHandler(t, Config{}, deps)
			ct, target := tt.contentType, tt.target
			if ct == "" {
				ct = "application/json"
			}
			if target == "" {
				target = pathSimulate
			}
			rec := do(h, http.MethodPost, target, ct, tt.body, nil)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if !documented[rec.Code] {
				t.Errorf("status %d is not in openapi.json for POST %s", rec.Code, pathSimulate)
			}
			if rec.Code != http.StatusOK {
				var e ErrorResponse
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code != rec.Code || e.Error.Message == "" {
					t.Errorf("error body %s is not the API's error shape (%v)", rec.Body, err)
				}
				if tt.golden != "" {
					checkGolden(t, tt.golden, rec.Body.Bytes())
				}
			}
			if tt.want == nil {
				return
			}
			var tl simulate.Timeline
			if err := json.Unmarshal(rec.Body.Bytes(), &tl); err != nil || len(tl.Steps) != 1 || tl.Steps[0].Desired != 2 {
				t.Errorf("body is not the simulator's timeline (%v): %s", err, rec.Body)
			}
			if len(sim.got) != 1 {
				t.Fatalf("%d simulations, want 1", len(sim.got))
			}
			if got := sim.got[0]; !reflect.DeepEqual(got, *tt.want) {
				t.Errorf("simulation\n%+v\nwant\n%+v", got, *tt.want)
			}
		})
	}
}

// TestSimulateAuthentication: the route is behind the same bearer-token
// check as every /api/v1 route.
func TestSimulateAuthentication(t *testing.T) {
	tests := []struct {
		name        string
		token       string
		wantCode    int
		wantReviews int32
	}{
		{name: "no token", wantCode: 401},
		{name: "rejected token", token: "stolen-token", wantCode: 401, wantReviews: 1},
		{name: "accepted token", token: "good-token", wantCode: 200, wantReviews: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reviews atomic.Int32
			sim := &fakeSimulator{}
			h := newTestHandler(t, Config{Auth: true}, Deps{Authenticator: fastAuthenticator(t, fakeTokenReviews(&reviews)), Simulator: sim})
			header := http.Header{}
			if tt.token != "" {
				header.Set("Authorization", "Bearer "+tt.token)
			}
			rec := do(h, http.MethodPost, pathSimulate, "application/json", simBody(t, nil), header)
			if rec.Code != tt.wantCode {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if got := reviews.Load(); got != tt.wantReviews {
				t.Errorf("%d TokenReviews, want %d", got, tt.wantReviews)
			}
			if tt.wantCode != 200 && len(sim.got) != 0 {
				t.Error("an unauthenticated request reached the simulator")
			}
		})
	}
}

func FuzzSimulateHandler(f *testing.F) {
	f.Add(simBody(f, nil))
	f.Add(simBody(f, func(m map[string]any) { m["manifest"] = map[string]any{"kind": "Autoscaler"}; m["step"] = "1" }))
	f.Add([]byte(`{"manifest":"x","from":"now-1d","to":"now+1h","step":"1ms"}`))
	f.Add([]byte(`{}`))
	sim := &fakeSimulator{}
	h := newTestHandler(f, Config{MaxBodyBytes: 64 << 10}, Deps{Simulator: sim})
	documented := documentedStatuses(f)["post "+pathSimulate]
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := do(h, http.MethodPost, pathSimulate, "application/json", body, nil)
		if !documented[rec.Code] {
			t.Fatalf("status %d is not in openapi.json for POST %s", rec.Code, pathSimulate)
		}
		switch rec.Code {
		case http.StatusOK:
			var got simulate.Timeline
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("200 with a body that is not a Timeline: %v", err)
			}
		case http.StatusInternalServerError:
			t.Fatalf("500 for %q: %s", body, rec.Body)
		default:
			if !strings.Contains(rec.Body.String(), `"error"`) {
				t.Fatalf("%d without the API's error shape: %s", rec.Code, rec.Body)
			}
		}
	})
}

func int32p(v int32) *int32 { return &v }
