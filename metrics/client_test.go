package metrics_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
)

func newClient(t *testing.T, cfg hpametrics.ClientConfig) *hpametrics.Client {
	t.Helper()
	c, err := hpametrics.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// sameFloat is == except that NaN equals NaN: NaN samples must survive as NaN.
func sameFloat(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

func sameSamples(a, b []hpametrics.Sample) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !reflect.DeepEqual(a[i].Labels, b[i].Labels) || !sameFloat(a[i].Value, b[i].Value) || !a[i].Timestamp.Equal(b[i].Timestamp) {
			return false
		}
	}
	return true
}

func TestQueryConversion(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    []hpametrics.Sample
		wantErr error
		// wantPlain: an error that is neither a bad query nor unavailability.
		wantPlain bool
	}{
		{
			name: "vector keeps labels, values and each sample's own timestamp",
			data: `{"resultType":"vector","result":[
				{"metric":{"__name__":"http_requests","namespace":"ns","pod":"a"},"value":[1700000000.123,"1.5"]},
				{"metric":{"pod":"b"},"value":[1700000001,"0.001"]}]}`,
			want: []hpametrics.Sample{
				{Labels: map[string]string{"__name__": "http_requests", "namespace": "ns", "pod": "a"}, Value: 1.5, Timestamp: time.UnixMilli(1700000000123)},
				{Labels: map[string]string{"pod": "b"}, Value: 0.001, Timestamp: time.Unix(1700000001, 0)},
			},
		},
		{
			name: "NaN and infinities stay values for the caller to judge",
			data: `{"resultType":"vector","result":[
				{"metric":{"pod":"n"},"value":[1700000000,"NaN"]},
				{"metric":{"pod":"p"},"value":[1700000000,"+Inf"]},
				{"metric":{"pod":"m"},"value":[1700000000,"-Inf"]}]}`,
			want: []hpametrics.Sample{
				{Labels: map[string]string{"pod": "n"}, Value: math.NaN(), Timestamp: time.Unix(1700000000, 0)},
				{Labels: map[string]string{"pod": "p"}, Value: math.Inf(1), Timestamp: time.Unix(1700000000, 0)},
				{Labels: map[string]string{"pod": "m"}, Value: math.Inf(-1), Timestamp: time.Unix(1700000000, 0)},
			},
		},
		{
			name: "native histogram sample has no float value: NaN, not 0",
			data: `{"resultType":"vector","result":[
				{"metric":{"pod":"h"},"histogram":[1700000000,{"count":"2","sum":"3","buckets":[[0,"0","1","2"]]}]}]}`,
			want: []hpametrics.Sample{
				{Labels: map[string]string{"pod": "h"}, Value: math.NaN(), Timestamp: time.Unix(1700000000, 0)},
			},
		},
		{
			name: "empty vector is no samples, not an error",
			data: emptyVector,
			want: []hpametrics.Sample{},
		},
		{
			name: "scalar is one sample without labels",
			data: `{"resultType":"scalar","result":[1700000000.5,"42"]}`,
			want: []hpametrics.Sample{{Labels: map[string]string{}, Value: 42, Timestamp: time.UnixMilli(1700000000500)}},
		},
		{
			name:    "matrix is an error",
			data:    `{"resultType":"matrix","result":[{"metric":{},"values":[[1700000000,"1"]]}]}`,
			wantErr: hpametrics.ErrUnexpectedResult,
		},
		{
			// client_golang itself refuses to decode a string result.
			name:      "string is an error",
			data:      `{"resultType":"string","result":[1700000000,"hello"]}`,
			wantPlain: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, srv := newFakeProm(t, success(tt.data))
			c := newClient(t, hpametrics.ClientConfig{URL: srv.URL})
			at := time.UnixMilli(1700000000250)
			got, err := c.Query(context.Background(), "sum(x)", at)
			if tt.wantErr != nil || tt.wantPlain {
				if err == nil || hpametrics.Outcome(err) != hpametrics.OutcomeError {
					t.Fatalf("error = %v, want one with outcome %q", err, hpametrics.OutcomeError)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), `"sum(x)"`) {
					t.Errorf("error %q does not name the query", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !sameSamples(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			reqs := fake.Requests()
			if len(reqs) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Path != "/api/v1/query" || r.Form.Get("query") != "sum(x)" || r.Form.Get("time") != "1700000000.25" {
				t.Errorf("request path %q, form %v", r.Path, r.Form)
			}
			if r.Form.Get("timeout") != "10s" {
				t.Errorf("timeout parameter %q, want the default 10s sent to Prometheus", r.Form.Get("timeout"))
			}
		})
	}
}

func TestQueryRangeConversion(t *testing.T) {
	start, end := time.Unix(1700000000, 0), time.Unix(1700000060, 0)
	tests := []struct {
		name    string
		data    string
		step    time.Duration
		want    []hpametrics.Series
		wantErr error
	}{
		{
			name: "matrix becomes series of points",
			step: 30 * time.Second,
			data: `{"resultType":"matrix","result":[
				{"metric":{"pod":"a"},"values":[[1700000000,"1"],[1700000030,"NaN"],[1700000060,"+Inf"]]},
				{"metric":{"pod":"b"},"values":[[1700000060.5,"2"]]}]}`,
			want: []hpametrics.Series{
				{Labels: map[string]string{"pod": "a"}, Points: []hpametrics.Point{
					{Timestamp: time.Unix(1700000000, 0), Value: 1},
					{Timestamp: time.Unix(1700000030, 0), Value: math.NaN()},
					{Timestamp: time.Unix(1700000060, 0), Value: math.Inf(1)},
				}},
				{Labels: map[string]string{"pod": "b"}, Points: []hpametrics.Point{{Timestamp: time.UnixMilli(1700000060500), Value: 2}}},
			},
		},
		{
			name: "native histogram points are NaN, in time order with float points",
			step: 30 * time.Second,
			data: `{"resultType":"matrix","result":[
				{"metric":{"pod":"h"},"values":[[1700000000,"1"],[1700000060,"3"]],"histograms":[[1700000030,{"count":"2","sum":"3"}]]}]}`,
			want: []hpametrics.Series{
				{Labels: map[string]string{"pod": "h"}, Points: []hpametrics.Point{
					{Timestamp: time.Unix(1700000000, 0), Value: 1},
					{Timestamp: time.Unix(1700000030, 0), Value: math.NaN()},
					{Timestamp: time.Unix(1700000060, 0), Value: 3},
				}},
			},
		},
		{
			name:    "vector is an error",
			step:    30 * time.Second,
			data:    emptyVector,
			wantErr: hpametrics.ErrUnexpectedResult,
		},
		{
			name:    "zero step is a bad query, not sent",
			step:    0,
			data:    `{"resultType":"matrix","result":[]}`,
			wantErr: hpametrics.ErrBadQuery,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, srv := newFakeProm(t, success(tt.data))
			c := newClient(t, hpametrics.ClientConfig{URL: srv.URL})
			got, err := c.QueryRange(context.Background(), "rate(x[1m])", start, end, tt.step)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				if tt.step <= 0 && len(fake.Requests()) != 0 {
					t.Errorf("invalid step reached the server")
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d series, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i].Labels, tt.want[i].Labels) || len(got[i].Points) != len(tt.want[i].Points) {
					t.Fatalf("series %d = %+v, want %+v", i, got[i], tt.want[i])
				}
				for j, p := range got[i].Points {
					w := tt.want[i].Points[j]
					if !p.Timestamp.Equal(w.Timestamp) || !sameFloat(p.Value, w.Value) {
						t.Errorf("series %d point %d = %+v, want %+v", i, j, p, w)
					}
				}
			}
			r := fake.Requests()[0]
			if r.Path != "/api/v1/query_range" || r.Form.Get("start") != "1700000000" || r.Form.Get("end") != "1700000060" || r.Form.Get("step") != "30" {
				t.Errorf("request path %q, form %v", r.Path, r.Form)
			}
		})
	}
}

func TestSeries(t *testing.T) {
	fake, srv := newFakeProm(t, success(`[{"__name__":"up","job":"a"},{"__name__":"up","job":"b","pod":"p"}]`))
	c := newClient(t, hpametrics.ClientConfig{URL: srv.URL})
	start, end := time.Unix(1700000000, 0), time.Unix(1700000600, 0)
	got, err := c.Series(context.Background(), `{__name__=~"up|down"}`, start, end)
	if err != nil {
		t.Fatalf("Series: %v", err)
	}
	want := []map[string]string{{"__name__": "up", "job": "a"}, {"__name__": "up", "job": "b", "pod": "p"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	r := fake.Requests()[0]
	if r.Path != "/api/v1/series" || r.Form["match[]"][0] != `{__name__=~"up|down"}` || r.Form.Get("start") != "1700000000" || r.Form.Get("end") != "1700000600" {
		t.Errorf("request path %q, form %v", r.Path, r.Form)
	}
}

func TestVerb(t *testing.T) {
	// A long query, as a selection of many pods makes it: it must travel in
	// the body with POST, not in the URL.
	query := `sum(rate(x{pod=~"` + strings.Repeat("pod-abcdefgh|", 2000) + `z"}[1m]))`
	tests := []struct {
		name       string
		verb       string
		wantMethod string
	}{
		{name: "POST by default", verb: "", wantMethod: http.MethodPost},
		{name: "POST when asked", verb: hpametrics.VerbPOST, wantMethod: http.MethodPost},
		{name: "GET when asked", verb: hpametrics.VerbGET, wantMethod: http.MethodGet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, srv := newFakeProm(t, byPath)
			c := newClient(t, hpametrics.ClientConfig{URL: srv.URL, Verb: tt.verb})
			if _, err := c.Query(context.Background(), query, time.Unix(1700000000, 0)); err != nil {
				t.Fatalf("Query: %v", err)
			}
			if _, err := c.Series(context.Background(), "up", time.Time{}, time.Time{}); err != nil {
				t.Fatalf("Series: %v", err)
			}
			if _, err := c.QueryRange(context.Background(), "up", time.Unix(1, 0), time.Unix(2, 0), time.Second); err != nil {
				t.Fatalf("QueryRange: %v", err)
			}
			for _, r := range fake.Requests() {
				if r.Method != tt.wantMethod {
					t.Errorf("%s sent with %s, want %s", r.Path, r.Method, tt.wantMethod)
				}
				inURL := r.URLQuery.Get("query") != "" || len(r.URLQuery["match[]"]) > 0
				if r.Form.Get("query") == "" && len(r.Form["match[]"]) == 0 {
					t.Errorf("%s: parameters lost: %v", r.Path, r.Form)
				}
				if inURL != (tt.wantMethod == http.MethodGet) {
					t.Errorf("%s: parameters in URL = %v with %s", r.Path, inURL, r.Method)
				}
			}
			if got := fake.Requests()[0].Form.Get("query"); got != query {
				t.Errorf("query arrived as %d bytes, want %d", len(got), len(query))
			}
		})
	}
}

// byPath answers each endpoint with an empty result of its type.
func byPath(w http.ResponseWriter, r *request) {
	switch r.Path {
	case "/api/v1/series":
		success(`[]`)(w, r)
	case "/api/v1/query_range":
		success(`{"resultType":"matrix","result":[]}`)(w, r)
	default:
		success(emptyVector)(w, r)
	}
}

func TestPOSTFallsBackToGETOn405(t *testing.T) {
	fake, srv := newFakeProm(t, func(w http.ResponseWriter, r *request) {
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		success(emptyVector)(w, r)
	})
	c := newClient(t, hpametrics.ClientConfig{URL: srv.URL})
	if _, err := c.Query(context.Background(), "up", time.Time{}); err != nil {
		t.Fatalf("Query: %v", err)
	}
	var methods []string
	for _, r := range fake.Requests() {
		methods = append(methods, r.Method)
	}
	if !reflect.DeepEqual(methods, []string{http.MethodPost, http.MethodGet}) {
		t.Errorf("methods = %v, want POST then GET", methods)
	}
}

func TestClientConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     hpametrics.ClientConfig
		wantErr string
	}{
		{name: "minimal", cfg: hpametrics.ClientConfig{URL: "http://prometheus:9090"}},
		{name: "everything", cfg: hpametrics.ClientConfig{
			URL: "https://prometheus:9090/prefix", Timeout: time.Second, Verb: "GET",
			TLS:             hpametrics.TLSConfig{CAFile: "ca", CertFile: "c", KeyFile: "k", ServerName: "p"},
			BearerTokenFile: "token", Headers: map[string]string{"X-Scope-OrgID": "team"},
		}},
		{name: "basic auth", cfg: hpametrics.ClientConfig{URL: "http://p", BasicAuth: &hpametrics.BasicAuth{Username: "u", PasswordFile: "f"}}},
		{name: "no url", cfg: hpametrics.ClientConfig{}, wantErr: "url is required"},
		{name: "bad scheme", cfg: hpametrics.ClientConfig{URL: "ftp://p"}, wantErr: "scheme"},
		{name: "no host", cfg: hpametrics.ClientConfig{URL: "http://"}, wantErr: "host"},
		{name: "unparsable url", cfg: hpametrics.ClientConfig{URL: "http://[::1"}, wantErr: "prometheus url"},
		{name: "negative timeout", cfg: hpametrics.ClientConfig{URL: "http://p", Timeout: -time.Second}, wantErr: "negative"},
		{name: "bad verb", cfg: hpametrics.ClientConfig{URL: "http://p", Verb: "PUT"}, wantErr: "GET or POST"},
		{name: "cert without key", cfg: hpametrics.ClientConfig{URL: "http://p", TLS: hpametrics.TLSConfig{CertFile: "c"}}, wantErr: "key"},
		{name: "key without cert", cfg: hpametrics.ClientConfig{URL: "http://p", TLS: hpametrics.TLSConfig{KeyFile: "k"}}, wantErr: "cert"},
		{name: "token and basic auth", cfg: hpametrics.ClientConfig{URL: "http://p", BearerTokenFile: "t", BasicAuth: &hpametrics.BasicAuth{Username: "u"}}, wantErr: "at most one"},
		{name: "basic auth without username", cfg: hpametrics.ClientConfig{URL: "http://p", BasicAuth: &hpametrics.BasicAuth{PasswordFile: "f"}}, wantErr: "username"},
		{name: "reserved header", cfg: hpametrics.ClientConfig{URL: "http://p", Headers: map[string]string{"authorization": "x"}}, wantErr: "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.wantErr)
			}
			if _, err := hpametrics.NewClient(tt.cfg); err == nil {
				t.Errorf("NewClient accepted an invalid config")
			}
		})
	}
}
