package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"k8s.io/klog/v2"
)

// DefaultTimeout bounds one request to Prometheus when ClientConfig.Timeout
// is zero. It is shorter than the HPA controller's 15 s sync period so that a
// hung Prometheus gives a 503 before the controller gives up on us.
const DefaultTimeout = 10 * time.Second

// HTTP verbs accepted by ClientConfig.Verb.
const (
	VerbGET  = http.MethodGet
	VerbPOST = http.MethodPost
)

// ClientConfig is one Prometheus-compatible backend (Prometheus, Thanos,
// Mimir, VictoriaMetrics).
type ClientConfig struct {
	// URL is the base URL of the query API, without /api/v1.
	URL string
	// Timeout bounds each request, and is also sent to Prometheus as the
	// query's own timeout so that it stops evaluating; DefaultTimeout when 0.
	Timeout time.Duration
	// Verb is VerbPOST (the default: queries must not be limited by the URL
	// length) or VerbGET (prometheus-adapter's --prometheus-verb=GET, for
	// proxies that only allow GET).
	Verb string
	// TLS configures the connection to an https URL.
	TLS TLSConfig
	// BearerTokenFile holds a token sent as "Authorization: Bearer"; the file
	// is read for each request, so a rotated token is picked up.
	BearerTokenFile string
	// BasicAuth, when set, sends basic authentication; at most one of
	// BearerTokenFile and BasicAuth.
	BasicAuth *BasicAuth
	// Headers are added to every request, e.g. X-Scope-OrgID for Mimir.
	Headers map[string]string
}

// TLSConfig holds the TLS settings of a backend. Files are re-read when they
// change, so rotated certificates are picked up without a restart.
type TLSConfig struct {
	// CAFile verifies the server; the system roots when empty.
	CAFile string
	// CertFile and KeyFile are the client certificate and its key, for
	// servers that require one; both or neither.
	CertFile string
	KeyFile  string
	// InsecureSkipVerify disables server verification (tests only).
	InsecureSkipVerify bool
	// ServerName overrides the name checked in the server certificate.
	ServerName string
}

// BasicAuth holds basic authentication credentials. The password lives in a
// file so that it never appears in flags or configuration dumps.
type BasicAuth struct {
	Username     string
	PasswordFile string
}

// Validate reports the first problem with the configuration.
func (c ClientConfig) Validate() error {
	if c.URL == "" {
		return errors.New("prometheus url is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("prometheus url %q: %w", c.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("prometheus url %q: scheme must be http or https", c.URL)
	}
	if u.Host == "" {
		return fmt.Errorf("prometheus url %q: host is required", c.URL)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("timeout %s: must not be negative", c.Timeout)
	}
	switch c.Verb {
	case "", VerbGET, VerbPOST:
	default:
		return fmt.Errorf("verb %q: must be GET or POST", c.Verb)
	}
	if c.BasicAuth != nil && c.BasicAuth.Username == "" {
		return errors.New("basic auth: username is required")
	}
	hc := c.httpClientConfig()
	if err := hc.Validate(); err != nil {
		return fmt.Errorf("http client: %w", err)
	}
	if err := hc.TLSConfig.Validate(); err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	return nil
}

// httpClientConfig maps our few settings onto prometheus/common's, which
// implements TLS file reloading, token files and header injection already.
func (c ClientConfig) httpClientConfig() promconfig.HTTPClientConfig {
	hc := promconfig.DefaultHTTPClientConfig
	hc.TLSConfig = promconfig.TLSConfig{
		CAFile:             c.TLS.CAFile,
		CertFile:           c.TLS.CertFile,
		KeyFile:            c.TLS.KeyFile,
		InsecureSkipVerify: c.TLS.InsecureSkipVerify,
		ServerName:         c.TLS.ServerName,
	}
	if c.BearerTokenFile != "" {
		hc.Authorization = &promconfig.Authorization{Type: "Bearer", CredentialsFile: c.BearerTokenFile}
	}
	if c.BasicAuth != nil {
		hc.BasicAuth = &promconfig.BasicAuth{Username: c.BasicAuth.Username, PasswordFile: c.BasicAuth.PasswordFile}
	}
	if len(c.Headers) > 0 {
		h := &promconfig.Headers{Headers: make(map[string]promconfig.Header, len(c.Headers))}
		for k, v := range c.Headers {
			h.Headers[k] = promconfig.Header{Values: []string{v}}
		}
		hc.HTTPHeaders = h
	}
	return hc
}

// Option changes how NewClient builds a Client.
type Option func(*clientOptions)

type clientOptions struct {
	userAgent string
	name      string
	logger    klog.Logger
}

// WithUserAgent sets the User-Agent of every request, so that Prometheus'
// logs say who sent a slow query.
func WithUserAgent(ua string) Option {
	return func(o *clientOptions) { o.userAgent = ua }
}

// WithName names the backend in logs and in prometheus/common's connection
// tracing; "default" otherwise.
func WithName(name string) Option {
	return func(o *clientOptions) { o.name = name }
}

// WithLogger sets the logger that reports Prometheus' warnings.
func WithLogger(l klog.Logger) Option {
	return func(o *clientOptions) { o.logger = l }
}

// Client is a Querier over one Prometheus-compatible backend, built on
// client_golang's api package: instant queries go through its HTTP client and
// are decoded by this package (decode.go), series and range queries through
// its api/prometheus/v1.
type Client struct {
	// http sends every request: TLS, authentication, headers, the user
	// agent, the GET mode and the status capture all live below it.
	http    api.Client
	api     promv1.API
	timeout time.Duration
	name    string
	logger  klog.Logger
}

var _ Querier = (*Client)(nil)

// NewClient builds a Client for cfg. It does not contact Prometheus.
func NewClient(cfg ClientConfig, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("prometheus client: %w", err)
	}
	o := clientOptions{userAgent: "hpa-engine", name: "default", logger: klog.Background()}
	for _, opt := range opts {
		opt(&o)
	}
	hc := cfg.httpClientConfig()
	rt, err := promconfig.NewRoundTripperFromConfig(hc, o.name, promconfig.WithUserAgent(o.userAgent))
	if err != nil {
		return nil, fmt.Errorf("prometheus client %q: %w", cfg.URL, err)
	}
	inner, err := api.NewClient(api.Config{Address: cfg.URL, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("prometheus client %q: %w", cfg.URL, err)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	sc := &statusClient{next: inner, get: cfg.Verb == VerbGET}
	return &Client{
		http:    sc,
		api:     promv1.NewAPI(sc),
		timeout: timeout,
		name:    o.name,
		logger:  o.logger,
	}, nil
}

// Query implements Querier.
func (c *Client) Query(ctx context.Context, query string, at time.Time) ([]Sample, error) {
	ctx, status, cancel := c.requestContext(ctx)
	defer cancel()
	resp, body, err := c.postWithGetFallback(ctx, c.queryArgs(query, at))
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", query, classify(err, status.code))
	}
	samples, warnings, err := decodeQueryResponse(resp.StatusCode, body)
	if err != nil {
		return nil, fmt.Errorf("query %q: %w", query, classify(err, status.code))
	}
	c.logWarnings(query, warnings)
	return samples, nil
}

// queryArgs are the parameters client_golang's API sends for an instant
// query with our timeout.
func (c *Client) queryArgs(query string, at time.Time) url.Values {
	args := c.http.URL(epQuery, nil).Query()
	args.Set("query", query)
	args.Set("timeout", c.timeout.String())
	if !at.IsZero() {
		args.Set("time", formatTime(at))
	}
	return args
}

// epQuery is the instant query endpoint.
const epQuery = "/api/v1/query"

// postWithGetFallback sends args to the instant query endpoint as
// client_golang's API does: a form POST, retried as a GET when a proxy
// answers 403, 405 or 501. The body is returned for any status; only a
// transport failure is an error.
func (c *Client) postWithGetFallback(ctx context.Context, args url.Values) (*http.Response, []byte, error) {
	u := c.http.URL(epQuery, nil)
	encoded := args.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(encoded))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// An empty Idempotency-Key marks the POST as safe to retry on a broken
	// keep-alive connection (net/http's rule) without being sent.
	req.Header["Idempotency-Key"] = nil
	resp, body, err := c.http.Do(ctx, req)
	if resp != nil && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented) {
		u.RawQuery = encoded
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, nil, err
		}
		resp, body, err = c.http.Do(ctx, req)
	}
	if err != nil {
		return nil, nil, err
	}
	return resp, body, nil
}

// formatTime writes t as client_golang's API does: seconds with a fraction.
func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.Unix())+float64(t.Nanosecond())/1e9, 'f', -1, 64)
}

// Series implements Querier.
func (c *Client) Series(ctx context.Context, match string, start, end time.Time) ([]map[string]string, error) {
	ctx, status, cancel := c.requestContext(ctx)
	defer cancel()
	sets, warnings, _, err := c.api.Series(ctx, []string{match}, start, end)
	if err != nil {
		return nil, fmt.Errorf("series %q: %w", match, classify(err, status.code))
	}
	c.logWarnings(match, warnings)
	out := make([]map[string]string, len(sets))
	for i, ls := range sets {
		out[i] = labelSetMap(ls)
	}
	return out, nil
}

// QueryRange implements Querier.
func (c *Client) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]Series, error) {
	if step <= 0 {
		return nil, fmt.Errorf("query range %q: step %s: %w", query, step, ErrBadQuery)
	}
	ctx, status, cancel := c.requestContext(ctx)
	defer cancel()
	r := promv1.Range{Start: start, End: end, Step: step}
	v, warnings, _, err := c.api.QueryRange(ctx, query, r, promv1.WithTimeout(c.timeout))
	if err != nil {
		return nil, fmt.Errorf("query range %q: %w", query, classify(err, status.code))
	}
	c.logWarnings(query, warnings)
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("query range %q: result type %s, want matrix: %w", query, valueType(v), ErrUnexpectedResult)
	}
	out := make([]Series, len(m))
	for i, ss := range m {
		s := Series{Labels: labelSetMap(model.LabelSet(ss.Metric)), Points: make([]Point, 0, len(ss.Values)+len(ss.Histograms))}
		for _, p := range ss.Values {
			s.Points = append(s.Points, Point{Timestamp: p.Timestamp.Time(), Value: float64(p.Value)})
		}
		// A native histogram has no single float value; NaN keeps its
		// timestamp visible while callers treat it as missing, never as 0.
		for _, p := range ss.Histograms {
			s.Points = append(s.Points, Point{Timestamp: p.Timestamp.Time(), Value: math.NaN()})
		}
		if len(ss.Values) > 0 && len(ss.Histograms) > 0 {
			// A series that changed type has both lists; keep time order.
			slices.SortStableFunc(s.Points, func(a, b Point) int { return a.Timestamp.Compare(b.Timestamp) })
		}
		out[i] = s
	}
	return out, nil
}

// requestContext bounds the request by the client's timeout and attaches the
// holder in which statusClient records Prometheus' HTTP status, which
// client_golang's API does not return.
func (c *Client) requestContext(ctx context.Context) (context.Context, *statusHolder, context.CancelFunc) {
	h := &statusHolder{}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	return context.WithValue(ctx, statusKey{}, h), h, cancel
}

func (c *Client) logWarnings(query string, warnings promv1.Warnings) {
	if len(warnings) > 0 {
		c.logger.V(2).Info("Prometheus returned warnings", "backend", c.name, "query", query, "warnings", []string(warnings))
	}
}

func valueType(v model.Value) string {
	if v == nil {
		return "none"
	}
	return v.Type().String()
}

func labelSetMap(ls model.LabelSet) map[string]string {
	m := make(map[string]string, len(ls))
	for k, v := range ls {
		m[string(k)] = string(v)
	}
	return m
}
