package metrics_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
)

// slowServer answers only after the client has given up.
func slowServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server notices a closed connection only once the body is read.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// refusedURL is an address where nothing listens any more.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("close listener: %v", err)
	}
	return "http://" + addr
}

// hangUpServer closes every connection without answering.
func hangUpServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			// Linger 0 makes Close send a reset, as a crashing backend does.
			_ = tc.SetLinger(0)
		}
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	return srv
}

func statusServer(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	_, srv := newFakeProm(t, reply(status, body))
	return srv
}

func TestErrorClassification(t *testing.T) {
	tests := []struct {
		name string
		// url builds the backend; timeout is the client's.
		url     func(t *testing.T) string
		timeout time.Duration
		// ctx derives the caller's context.
		ctx         func(context.Context) (context.Context, context.CancelFunc)
		wantErr     error
		wantOutcome string
		// wantText is part of the underlying error that must stay visible.
		wantText string
	}{
		{
			name: "connection refused", url: refusedURL,
			wantErr: hpametrics.ErrUnavailable, wantOutcome: hpametrics.OutcomeUnavailable, wantText: "connection refused",
		},
		{
			name: "connection reset", url: func(t *testing.T) string { return hangUpServer(t).URL },
			wantErr: hpametrics.ErrUnavailable, wantOutcome: hpametrics.OutcomeUnavailable,
		},
		{
			name: "client timeout against a slow server", url: func(t *testing.T) string { return slowServer(t).URL },
			timeout: 50 * time.Millisecond,
			wantErr: hpametrics.ErrUnavailable, wantOutcome: hpametrics.OutcomeUnavailable, wantText: "deadline exceeded",
		},
		{
			name: "caller deadline against a slow server", url: func(t *testing.T) string { return slowServer(t).URL },
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(ctx, 50*time.Millisecond)
			},
			wantErr: hpametrics.ErrUnavailable, wantOutcome: hpametrics.OutcomeUnavailable, wantText: "deadline exceeded",
		},
		{
			name: "caller cancels: not Prometheus' fault", url: func(t *testing.T) string { return slowServer(t).URL },
			ctx: func(ctx context.Context) (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(ctx)
				time.AfterFunc(50*time.Millisecond, cancel)
				return ctx, cancel
			},
			wantErr: context.Canceled, wantOutcome: hpametrics.OutcomeError,
		},
		{
			name: "500",
			url: func(t *testing.T) string {
				return statusServer(t, 500, `{"status":"error","errorType":"internal","error":"boom"}`).URL
			},
			wantErr: hpametrics.ErrUnavailable, wantOutcome: hpametrics.OutcomeUnavailable, wantText: "500",
		},
		{
			name: "503 query timeout in Prometheus",
			url: func(t *testing.T) string {
				return statusServer(t, 503, `{"status":"error","errorType":"timeout","error":"query timed out"}`).URL
			},
			wantErr: hpametrics.ErrUnavailable, wantOutcome: hpametrics.OutcomeUnavailable, wantText: "503",
		},
		{
			name:    "429 from a rate-limiting proxy",
			url:     func(t *testing.T) string { return statusServer(t, 429, "slow down").URL },
			wantErr: hpametrics.ErrUnavailable, wantOutcome: hpametrics.OutcomeUnavailable, wantText: "429",
		},
		{
			name: "400 parse error",
			url: func(t *testing.T) string {
				return statusServer(t, 400, `{"status":"error","errorType":"bad_data","error":"parse error at char 3: unexpected \"}\""}`).URL
			},
			wantErr: hpametrics.ErrBadQuery, wantOutcome: hpametrics.OutcomeBadQuery, wantText: "parse error at char 3",
		},
		{
			name: "422 execution error",
			url: func(t *testing.T) string {
				return statusServer(t, 422, `{"status":"error","errorType":"execution","error":"found duplicate series for the match group"}`).URL
			},
			wantErr: hpametrics.ErrBadQuery, wantOutcome: hpametrics.OutcomeBadQuery, wantText: "duplicate series",
		},
		{
			name:        "401 is neither",
			url:         func(t *testing.T) string { return statusServer(t, 401, "unauthorized").URL },
			wantOutcome: hpametrics.OutcomeError, wantText: "401",
		},
		{
			name:        "404 wrong path is neither",
			url:         func(t *testing.T) string { return statusServer(t, 404, "404 page not found").URL },
			wantOutcome: hpametrics.OutcomeError, wantText: "404",
		},
		{
			name:        "undecodable body is neither",
			url:         func(t *testing.T) string { return statusServer(t, 200, `{"status":"success","data":`).URL },
			wantOutcome: hpametrics.OutcomeError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, hpametrics.ClientConfig{URL: tt.url(t), Timeout: tt.timeout})
			ctx, cancel := context.WithCancel(context.Background())
			if tt.ctx != nil {
				ctx, cancel = tt.ctx(ctx)
			}
			defer cancel()
			started := time.Now()
			_, err := c.Query(ctx, "up", time.Unix(1700000000, 0))
			if err == nil {
				t.Fatal("Query succeeded, want an error")
			}
			if elapsed := time.Since(started); elapsed > 5*time.Second {
				t.Errorf("error took %s, want it promptly", elapsed)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want errors.Is %v", err, tt.wantErr)
			}
			for _, sentinel := range []error{hpametrics.ErrUnavailable, hpametrics.ErrBadQuery} {
				if sentinel != tt.wantErr && errors.Is(err, sentinel) {
					t.Errorf("error = %v, must not be %v", err, sentinel)
				}
			}
			if got := hpametrics.Outcome(err); got != tt.wantOutcome {
				t.Errorf("Outcome = %q, want %q", got, tt.wantOutcome)
			}
			if !strings.Contains(err.Error(), `query "up"`) {
				t.Errorf("error %q does not name the query", err)
			}
			if tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q hides the underlying %q", err, tt.wantText)
			}
		})
	}
}

func TestErrorClassificationOtherKinds(t *testing.T) {
	srv := statusServer(t, 503, "down")
	c := newClient(t, hpametrics.ClientConfig{URL: srv.URL})
	ctx := context.Background()
	if _, err := c.Series(ctx, "up", time.Time{}, time.Time{}); !errors.Is(err, hpametrics.ErrUnavailable) || !strings.Contains(err.Error(), `series "up"`) {
		t.Errorf("Series error = %v, want ErrUnavailable naming the matcher", err)
	}
	if _, err := c.QueryRange(ctx, "up", time.Unix(1, 0), time.Unix(2, 0), time.Second); !errors.Is(err, hpametrics.ErrUnavailable) || !strings.Contains(err.Error(), `query range "up"`) {
		t.Errorf("QueryRange error = %v, want ErrUnavailable naming the query", err)
	}
}
