package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"

	"github.com/hpa-engine/hpa-engine/recommender"
	"github.com/hpa-engine/hpa-engine/recommender/api"
	"github.com/hpa-engine/hpa-engine/recommender/loop"
)

var updateExplain = flag.Bool("update", false, "rewrite the golden files under testdata/explain")

// explainStore holds one recommendation per testdata/explain/*.input.json
// (namespace team-a, kind by file) and a target whose scale is missing.
func explainStore(t *testing.T) *loop.MemoryStore {
	t.Helper()
	s := loop.NewMemoryStore()
	for _, c := range []struct{ file, kind, name string }{
		{"scale-up", loop.KindHPA, "web"},
		{"scale-down", loop.KindAutoscaler, "worker"},
		{"all-metrics-failed", loop.KindHPA, "broken-metrics"},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "explain", c.file+".input.json"))
		if err != nil {
			t.Fatal(err)
		}
		var in recommender.Input
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatal(err)
		}
		res, err := recommender.Recommend(in)
		if err != nil {
			t.Fatal(err)
		}
		s.Put(loop.Recommendation{
			Namespace: "team-a", Kind: c.kind, Name: c.name,
			ScaleTargetRef: in.Spec.ScaleTargetRef, ComputedAt: in.Now, Result: res,
		})
	}
	s.Put(loop.Recommendation{
		Namespace: "team-b", Kind: loop.KindHPA, Name: "api",
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "api"},
		ComputedAt:     time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Error:          `scale target Deployment team-b/api: deployments.apps "api" not found`,
	})
	return s
}

// explainServer serves the REST API over explainStore; with auth, only the
// token "s3cret" is accepted.
func explainServer(t *testing.T, auth bool) *httptest.Server {
	t.Helper()
	deps := api.Deps{Store: explainStore(t)}
	if auth {
		deps.Authenticator = authenticator.RequestFunc(func(req *http.Request) (*authenticator.Response, bool, error) {
			if req.Header.Get("Authorization") == "Bearer s3cret" {
				return &authenticator.Response{User: &user.DefaultInfo{Name: "ops"}}, true, nil
			}
			return nil, false, nil
		})
	}
	h, err := api.New(api.Config{Auth: auth}, deps)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestExplain(t *testing.T) {
	open := explainServer(t, false)
	guarded := explainServer(t, true)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		server  *httptest.Server
		args    []string
		golden  string // testdata/explain/<golden>
		wantErr string
	}{
		{name: "scale up table", server: open, args: []string{"team-a/HorizontalPodAutoscaler/web"}, golden: "scale-up.txt"},
		{name: "stabilized and limited table", server: open, args: []string{"team-a/Autoscaler/worker"}, golden: "scale-down.txt"},
		{name: "all metrics failed table", server: open, args: []string{"team-a/hpa/broken-metrics"}, golden: "all-metrics-failed.txt"},
		{name: "target with an error", server: open, args: []string{"team-b/hpa/api"}, golden: "error.txt"},
		{name: "json", server: open, args: []string{"team-a/HorizontalPodAutoscaler/web", "-o", "json"}, golden: "scale-up.json"},
		{name: "kind aliases", server: open, args: []string{"team-a/autoscalers/worker"}, golden: "scale-down.txt"},
		{name: "token file", server: guarded, args: []string{"team-a/Autoscaler/worker", "--token-file", tokenFile}, golden: "scale-down.txt"},
		{name: "no token", server: guarded, args: []string{"team-a/Autoscaler/worker"}, wantErr: "401 Unauthorized: Unauthorized: a bearer token"},
		{name: "missing token file", server: open, args: []string{"team-a/Autoscaler/worker", "--token-file", filepath.Join(t.TempDir(), "nope")}, wantErr: "--token-file"},
		{name: "unknown target", server: open, args: []string{"team-a/hpa/nope"}, wantErr: "explain team-a/HorizontalPodAutoscaler/nope: 404 Not Found: no recommendation for HorizontalPodAutoscaler team-a/nope"},
		{name: "unknown kind", server: open, args: []string{"team-a/Deployment/web"}, wantErr: `unknown kind "Deployment"`},
		{name: "not three parts", server: open, args: []string{"team-a/web"}, wantErr: "want NAMESPACE/KIND/NAME"},
		{name: "empty part", server: open, args: []string{"team-a//web"}, wantErr: "want NAMESPACE/KIND/NAME"},
		{name: "bad output", server: open, args: []string{"team-a/hpa/web", "-o", "yaml"}, wantErr: `--output "yaml"`},
		{name: "bad server", args: []string{"team-a/hpa/web", "--server", "127.0.0.1:8080"}, wantErr: `--server "127.0.0.1:8080"`},
		{name: "no argument", server: open, args: nil, wantErr: "accepts 1 arg(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"explain"}, tt.args...)
			if tt.server != nil {
				args = append(args, "--server", tt.server.URL)
			}
			cmd := newRootCommand()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs(args)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "explain", tt.golden)
			if *updateExplain {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if got := out.String(); got != string(want) {
				t.Errorf("output differs from %s (run with -update to accept):\n%s", path, got)
			}
		})
	}
}

// TestExplainServerGone checks the message when nothing listens at --server.
func TestExplainServerGone(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	cmd := newRootCommand()
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs([]string{"explain", "team-a/hpa/web", "--server", url, "--timeout", "5s"})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "explain team-a/HorizontalPodAutoscaler/web") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err %v, want a connection error naming the target", err)
	}
}

// TestExplainNotTheAPI checks the message when --server is some other
// HTTP server.
func TestExplainNotTheAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "<html>gateway</html>", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	cmd := newRootCommand()
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetArgs([]string{"explain", "team-a/hpa/web", "--server", srv.URL})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "502 Bad Gateway: <html>gateway</html>") {
		t.Fatalf("err %v, want the status and body", err)
	}
}
