package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hpa-engine/hpa-engine/adapter/config"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
)

func TestBackendClientConfig(t *testing.T) {
	u, _ := url.Parse("https://mimir.example:8080/prometheus")
	tests := []struct {
		name    string
		backend config.Backend
		verb    string
		want    hpametrics.ClientConfig
	}{
		{
			name: "every setting carries over",
			backend: config.Backend{
				Name: "mimir", URL: u, Timeout: 30 * time.Second,
				Headers:   map[string]string{"X-Scope-OrgID": "team-a"},
				BasicAuth: &config.BasicAuth{Username: "adapter", PasswordFile: "/secrets/password"},
				TLS:       &config.TLS{CAFile: "/ca.crt", CertFile: "/tls.crt", KeyFile: "/tls.key", ServerName: "mimir", InsecureSkipVerify: true},
			},
			verb: "GET",
			want: hpametrics.ClientConfig{
				URL: "https://mimir.example:8080/prometheus", Timeout: 30 * time.Second, Verb: "GET",
				Headers:   map[string]string{"X-Scope-OrgID": "team-a"},
				BasicAuth: &hpametrics.BasicAuth{Username: "adapter", PasswordFile: "/secrets/password"},
				TLS:       hpametrics.TLSConfig{CAFile: "/ca.crt", CertFile: "/tls.crt", KeyFile: "/tls.key", ServerName: "mimir", InsecureSkipVerify: true},
			},
		},
		{
			name:    "bearer token, defaults elsewhere",
			backend: config.Backend{Name: "thanos", URL: u, BearerTokenFile: "/token"},
			verb:    "POST",
			want:    hpametrics.ClientConfig{URL: "https://mimir.example:8080/prometheus", Verb: "POST", BearerTokenFile: "/token"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BackendClientConfig(&tt.backend, tt.verb)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

// TestQuerierFactory builds a named backend's querier and queries a server
// that plays Prometheus: the backend's header reaches it and the request is
// counted under the backend's name.
func TestQuerierFactory(t *testing.T) {
	var gotOrg string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotOrg = r.Header.Get("X-Scope-OrgID")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"status": "success",
			"data": map[string]any{
				"resultType": "vector",
				"result":     []any{map[string]any{"metric": map[string]string{"pod": "web-0"}, "value": []any{1795780800, "1.5"}}},
			},
		})
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	reg := prometheus.NewPedanticRegistry()
	factory := QuerierFactory(hpametrics.VerbPOST, hpametrics.NewQueryMetrics(reg))
	q, err := factory(&config.Backend{Name: "tenant-a", URL: u, Headers: map[string]string{"X-Scope-OrgID": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	samples, err := q.Query(context.Background(), "up", t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) != 1 || samples[0].Value != 1.5 || samples[0].Labels["pod"] != "web-0" {
		t.Errorf("samples %+v", samples)
	}
	if gotOrg != "a" {
		t.Errorf("X-Scope-OrgID = %q, want a", gotOrg)
	}
	// Only the labels are checked: the help text is the metrics package's.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var counted []string
	for _, mf := range mfs {
		if mf.GetName() != "hpa_engine_prometheus_queries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, lp := range m.GetLabel() {
				ls = append(ls, lp.GetName()+"="+lp.GetValue())
			}
			counted = append(counted, fmt.Sprintf("%s %v", strings.Join(ls, ","), m.GetCounter().GetValue()))
		}
	}
	if want := []string{"backend=tenant-a,kind=query,outcome=success 1"}; !reflect.DeepEqual(counted, want) {
		t.Errorf("queries counted %q, want %q", counted, want)
	}
}
