package metrics

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// TestClassify covers errors the HTTP tests cannot produce without network,
// such as DNS failures, as client_golang and net/http wrap them.
func TestClassify(t *testing.T) {
	post := func(err error) error { return &url.Error{Op: "Post", URL: "http://prometheus/api/v1/query", Err: err} }
	tests := []struct {
		name string
		err  error
		code int
		want string
	}{
		{name: "DNS failure", err: post(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "prometheus", IsNotFound: true}}), want: OutcomeUnavailable},
		{name: "bare DNS error", err: &net.DNSError{Err: "server misbehaving", Name: "prometheus"}, want: OutcomeUnavailable},
		{name: "connection reset on read", err: post(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), want: OutcomeUnavailable},
		{name: "broken pipe", err: post(syscall.EPIPE), want: OutcomeUnavailable},
		{name: "server closed mid-body", err: io.ErrUnexpectedEOF, want: OutcomeUnavailable},
		{name: "deadline", err: post(context.DeadlineExceeded), want: OutcomeUnavailable},
		{name: "deadline wrapped with a cause", err: post(fmt.Errorf("%w: slow", context.DeadlineExceeded)), want: OutcomeUnavailable},
		{name: "canceled by the caller", err: post(context.Canceled), want: OutcomeError},
		{name: "TLS alert from the server", err: post(&net.OpError{Op: "remote error", Err: errors.New("tls: certificate required")}), want: OutcomeError},
		{name: "certificate verification", err: post(&tls.CertificateVerificationError{Err: errors.New("x509: unknown authority")}), want: OutcomeError},
		{name: "API bad_data without a status", err: &promv1.Error{Type: promv1.ErrBadData, Msg: "parse error"}, want: OutcomeBadQuery},
		{name: "API execution error in a 200", err: &promv1.Error{Type: promv1.ErrExec, Msg: "x"}, code: 200, want: OutcomeBadQuery},
		{name: "API timeout without a status", err: &promv1.Error{Type: promv1.ErrTimeout, Msg: "query timed out"}, want: OutcomeUnavailable},
		{name: "API bad_response", err: &promv1.Error{Type: promv1.ErrBadResponse, Msg: "invalid character"}, code: 200, want: OutcomeError},
		{name: "status decides over the error type", err: &promv1.Error{Type: promv1.ErrBadData, Msg: "x"}, code: 503, want: OutcomeUnavailable},
		{name: "504 from a gateway", err: &promv1.Error{Type: promv1.ErrServer, Msg: "server error: 504"}, code: 504, want: OutcomeUnavailable},
		{name: "403", err: &promv1.Error{Type: promv1.ErrClient, Msg: "client error: 403"}, code: 403, want: OutcomeError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.err, tt.code)
			if o := Outcome(got); o != tt.want {
				t.Errorf("classify(%v, %d) = %v, outcome %q, want %q", tt.err, tt.code, got, o, tt.want)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("classify lost the underlying error: %v", got)
			}
		})
	}
}
