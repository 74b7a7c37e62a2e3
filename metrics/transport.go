package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// statusKey is the context key of the *statusHolder of one Client call.
type statusKey struct{}

// statusHolder receives the HTTP status of the last response of one call.
// client_golang's API folds the status into an error type and message; the
// status itself is what tells a bad query (400/422) from an overloaded or
// broken backend (429/5xx), so it is captured on the way through.
type statusHolder struct {
	code int
}

// statusClient sits between client_golang's API and its HTTP client: it
// records each response's status and, in GET mode, turns the API's
// form-encoded POST into a GET with the same parameters in the URL.
type statusClient struct {
	next api.Client
	get  bool
}

var _ api.Client = (*statusClient)(nil)

func (c *statusClient) URL(ep string, args map[string]string) *url.URL {
	return c.next.URL(ep, args)
}

func (c *statusClient) Do(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	if c.get && req.Method == http.MethodPost && req.Body != nil {
		form, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, nil, fmt.Errorf("read request parameters: %w", err)
		}
		u := *req.URL
		u.RawQuery = string(form)
		getReq, err := http.NewRequestWithContext(req.Context(), http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, nil, fmt.Errorf("build GET request: %w", err)
		}
		req = getReq
	}
	resp, body, err := c.next.Do(ctx, req)
	if h, ok := ctx.Value(statusKey{}).(*statusHolder); ok && resp != nil {
		h.code = resp.StatusCode
	}
	return resp, body, err
}

// classify wraps err with ErrBadQuery or ErrUnavailable when the HTTP status
// or the transport error says which it is; other errors (a caller's
// cancellation, 401, 403, an undecodable body) are returned unchanged.
func classify(err error, code int) error {
	switch {
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		return fmt.Errorf("%w: HTTP %d: %w", ErrBadQuery, code, err)
	case code == http.StatusTooManyRequests || code >= 500:
		return fmt.Errorf("%w: HTTP %d: %w", ErrUnavailable, code, err)
	case code != 0 && code/100 != 2:
		return fmt.Errorf("HTTP %d: %w", code, err)
	}
	// The caller gave up: not Prometheus' fault, so not a 503.
	if errors.Is(err, context.Canceled) {
		return err
	}
	if isUnavailable(err) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	var apiErr *promv1.Error
	if errors.As(err, &apiErr) {
		switch apiErr.Type {
		case promv1.ErrBadData, promv1.ErrExec:
			return fmt.Errorf("%w: %w", ErrBadQuery, err)
		case promv1.ErrTimeout, promv1.ErrServer:
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
	}
	return err
}

// isUnavailable reports transport failures that mean "try again later".
func isUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	// Dial, read and write failures are the network's; a TLS alert ("remote
	// error", "local error") is a configuration problem that waiting will not
	// fix, so it stays a plain error.
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op != "remote error" && opErr.Op != "local error" {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}
