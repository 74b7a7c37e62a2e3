package promapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// base is the timestamp of the fixture's first sample, on a whole second.
var base = time.Unix(1_800_000_000, 0)

// newFixture opens a store holding two pods' series over one minute, one
// sample every 10 s, and serves its handler.
func newFixture(t *testing.T) (*Store, *httptest.Server) {
	t.Helper()
	s, err := Open(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	app := s.Appender(context.Background())
	for i := range 7 {
		ts := base.Add(time.Duration(i) * 10 * time.Second).UnixMilli()
		for pod, v := range map[string]float64{"web-a": 1, "web-b": 2} {
			l := labels.FromStrings(labels.MetricName, "rps", "namespace", "demo", "pod", pod)
			if _, err := app.Append(0, l, ts, v*float64(i+1)); err != nil {
				t.Fatalf("Append: %v", err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv
}

func newAPI(t *testing.T, addr string) promv1.API {
	t.Helper()
	c, err := api.NewClient(api.Config{Address: addr})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return promv1.NewAPI(c)
}

// TestClientGolangParses checks every endpoint through client_golang's own
// API client, which the adapter's metrics package uses.
func TestClientGolangParses(t *testing.T) {
	_, srv := newFixture(t)
	p := newAPI(t, srv.URL)
	ctx := context.Background()
	end := base.Add(time.Minute)
	tests := []struct {
		name string
		call func() (string, error)
		want string
	}{
		{
			name: "instant vector",
			call: func() (string, error) {
				v, _, _, err := p.Query(ctx, `sum by (namespace) (rps)`, end)
				return fmtValue(v), err
			},
			want: `{namespace="demo"} => 21 @[1800000060]`,
		},
		{
			name: "instant scalar",
			call: func() (string, error) {
				v, _, _, err := p.Query(ctx, `1.5`, end)
				return fmtValue(v), err
			},
			want: `scalar: 1.5 @[1800000060]`,
		},
		{
			name: "range matrix",
			call: func() (string, error) {
				v, _, _, err := p.QueryRange(ctx, `rps{pod="web-a"}`, promv1.Range{Start: base, End: base.Add(20 * time.Second), Step: 10 * time.Second})
				return fmtValue(v), err
			},
			want: "rps{namespace=\"demo\", pod=\"web-a\"} =>\n1 @[1800000000]\n2 @[1800000010]\n3 @[1800000020]",
		},
		{
			name: "series",
			call: func() (string, error) {
				v, _, _, err := p.Series(ctx, []string{`rps{pod=~"web-.*"}`}, base, end)
				return fmtJSON(v), err
			},
			want: `[{"__name__":"rps","namespace":"demo","pod":"web-a"},{"__name__":"rps","namespace":"demo","pod":"web-b"}]`,
		},
		{
			name: "label names",
			call: func() (string, error) {
				v, _, _, err := p.LabelNames(ctx, nil, time.Time{}, time.Time{})
				return fmtJSON(v), err
			},
			want: `["__name__","namespace","pod"]`,
		},
		{
			name: "label values with a matcher",
			call: func() (string, error) {
				v, _, _, err := p.LabelValues(ctx, "pod", []string{`rps{pod!="web-b"}`}, base, end)
				return fmtJSON(v), err
			},
			want: `["web-a"]`,
		},
		{
			name: "a sample past the lookback is absent",
			call: func() (string, error) {
				v, _, _, err := p.Query(ctx, `rps`, end.Add(DefaultLookbackDelta+time.Second))
				return fmtValue(v), err
			},
			want: ``,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func fmtValue(v model.Value) string {
	if v == nil {
		return "<nil>"
	}
	return v.String()
}

func fmtJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// TestErrors checks that errors reach client_golang as Prometheus' error
// types, with Prometheus' status codes.
func TestErrors(t *testing.T) {
	_, srv := newFixture(t)
	p := newAPI(t, srv.URL)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want promv1.ErrorType
	}{
		{name: "unparsable query", call: func() error { _, _, _, err := p.Query(ctx, `sum(`, base); return err }, want: promv1.ErrBadData},
		{name: "range with end before start", call: func() error {
			_, _, _, err := p.QueryRange(ctx, `rps`, promv1.Range{Start: base, End: base.Add(-time.Second), Step: time.Second})
			return err
		}, want: promv1.ErrBadData},
		{name: "range with too many points", call: func() error {
			_, _, _, err := p.QueryRange(ctx, `rps`, promv1.Range{Start: base, End: base.Add(24 * time.Hour), Step: time.Second})
			return err
		}, want: promv1.ErrBadData},
		{name: "series without a matcher", call: func() error { _, _, _, err := p.Series(ctx, nil, base, base); return err }, want: promv1.ErrBadData},
		{name: "series with a bad matcher", call: func() error { _, _, _, err := p.Series(ctx, []string{`{`}, base, base); return err }, want: promv1.ErrBadData},
		{name: "execution error", call: func() error {
			// Two series on each side of a one-to-one match.
			_, _, _, err := p.Query(ctx, `rps + on(namespace) rps`, base.Add(time.Minute))
			return err
		}, want: promv1.ErrExec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var perr *promv1.Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %v (%T), want a *v1.Error", err, err)
			}
			if perr.Type != tt.want {
				t.Errorf("error type %q (%v), want %q", perr.Type, perr, tt.want)
			}
		})
	}
}

// TestGETAndPOST checks that both verbs answer alike, as the adapter may be
// configured with either.
func TestGETAndPOST(t *testing.T) {
	_, srv := newFixture(t)
	form := url.Values{"query": {`sum(rps)`}, "time": {"1800000060"}}
	tests := []struct {
		name string
		do   func() (*http.Response, error)
	}{
		{name: "GET", do: func() (*http.Response, error) { return http.Get(srv.URL + "/api/v1/query?" + form.Encode()) }},
		{name: "POST form", do: func() (*http.Response, error) {
			return http.Post(srv.URL+"/api/v1/query", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		}},
	}
	want := `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1800000060,"21"]}]}}` + "\n"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.do()
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("body: %v", err)
			}
			if resp.StatusCode != http.StatusOK || string(body) != want {
				t.Errorf("got %d %s, want 200 %s", resp.StatusCode, body, want)
			}
		})
	}
}

func TestParseTimeAndDuration(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		time    time.Time
		dur     time.Duration
		timeErr bool
		durErr  bool
	}{
		{name: "seconds", in: "1800000000", time: base, dur: 1_800_000_000 * time.Second},
		{name: "fraction", in: "1800000000.25", time: base.Add(250 * time.Millisecond), dur: 1_800_000_000*time.Second + 250*time.Millisecond},
		{name: "RFC 3339", in: "2027-01-15T08:00:00Z", time: base, durErr: true},
		{name: "duration", in: "1m30s", timeErr: true, dur: 90 * time.Second},
		{name: "NaN", in: "NaN", timeErr: true, durErr: true},
		{name: "infinite", in: "+Inf", timeErr: true, durErr: true},
		{name: "garbage", in: "soon", timeErr: true, durErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTime(tt.in)
			if (err != nil) != tt.timeErr || (err == nil && !got.Equal(tt.time)) {
				t.Errorf("parseTime(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.time, tt.timeErr)
			}
			d, err := parseDuration(tt.in)
			if (err != nil) != tt.durErr || (err == nil && d != tt.dur) {
				t.Errorf("parseDuration(%q) = %v, %v; want %v, error %v", tt.in, d, err, tt.dur, tt.durErr)
			}
		})
	}
}

// FuzzHandler sends arbitrary parameters to every endpoint: the answer is
// always JSON with a status, never a panic or a 5xx other than a timeout.
// PromQL itself is Prometheus' engine's to fuzz (some expressions legally
// run for the whole query timeout): the query endpoints get a fixed
// expression and arbitrary times, ranges and steps; the series and label
// endpoints get arbitrary selectors.
func FuzzHandler(f *testing.F) {
	f.Add("/api/v1/query", "sum(rps)", "1800000060", "", "", "")
	f.Add("/api/v1/query_range", "rate(rps[1m])", "", "1800000000", "1800000060", "10")
	f.Add("/api/v1/series", `rps{pod=~"web-.*"}`, "", "0", "2e9", "")
	f.Add("/api/v1/label/pod/values", `{__name__="rps"}`, "", "", "", "")
	s, err := Open(Config{Dir: f.TempDir(), QueryTimeout: time.Second})
	if err != nil {
		f.Fatalf("Open: %v", err)
	}
	f.Cleanup(func() { _ = s.Close() })
	h := s.Handler()
	f.Fuzz(func(t *testing.T, path, query, ts, start, end, step string) {
		form := url.Values{"query": {"sum by (pod) (rate(rps[1m]))"}, "match[]": {query}, "time": {ts}, "start": {start}, "end": {end}, "step": {step}}
		req, err := http.NewRequest(http.MethodPost, "http://demo"+path, strings.NewReader(form.Encode()))
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusMovedPermanently,
			http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			return // the mux's own answers for unknown or unclean paths
		}
		var resp struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.Status == "" {
			t.Fatalf("%s %v: %d %q is not a Prometheus response", path, form, rec.Code, rec.Body.String())
		}
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %v: %d %s", path, form, rec.Code, rec.Body.String())
		}
	})
}
