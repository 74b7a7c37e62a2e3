package api

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/spf13/pflag"
)

// Defaults of the REST flags.
const (
	// DefaultAddress is where the REST API listens unless --rest-address
	// says otherwise.
	DefaultAddress = ":8080"
	// DefaultAuthCacheTTL and DefaultAuthTimeout are k8s.io/apiserver's
	// defaults for delegated token authentication
	// (--authentication-token-webhook-cache-ttl and the TokenReview timeout),
	// so the REST API behaves like every aggregated API server.
	DefaultAuthCacheTTL = 10 * time.Second
	DefaultAuthTimeout  = 10 * time.Second
	// DefaultMaxBodyBytes bounds a POST body: a recommend input for a target
	// with a few thousand pods fits comfortably; more is a mistake or an
	// attack and gets 413.
	DefaultMaxBodyBytes = 1 << 20
)

// Options are the REST API's flags.
type Options struct {
	// Address is the listen address of the REST API (--rest-address).
	Address string
	// Auth requires a bearer token on /api/v1/..., checked with a
	// TokenReview against the cluster (--rest-auth).
	Auth bool
	// AuthCacheTTL is how long a TokenReview answer is cached, for both
	// accepted and rejected tokens (--rest-auth-cache-ttl).
	AuthCacheTTL time.Duration
	// AuthTimeout bounds one TokenReview (--rest-auth-timeout).
	AuthTimeout time.Duration
	// MaxBodyBytes bounds request bodies (--rest-max-body-bytes).
	MaxBodyBytes int64
}

// NewOptions returns the defaults: listen on :8080, no authentication.
func NewOptions() *Options {
	return &Options{
		Address:      DefaultAddress,
		AuthCacheTTL: DefaultAuthCacheTTL,
		AuthTimeout:  DefaultAuthTimeout,
		MaxBodyBytes: DefaultMaxBodyBytes,
	}
}

// AddFlags registers the --rest-* flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Address, "rest-address", o.Address, "Address the recommender's REST API (/api/v1/recommendations, /api/v1/recommend, /api/v1/openapi.json) listens on, with /healthz, /readyz and /metrics.")
	fs.BoolVar(&o.Auth, "rest-auth", o.Auth, "Require a bearer token on /api/v1/..., authenticated with a TokenReview against the cluster. /healthz, /readyz and /metrics stay open.")
	fs.DurationVar(&o.AuthCacheTTL, "rest-auth-cache-ttl", o.AuthCacheTTL, "How long TokenReview answers (accepted and rejected tokens) are cached.")
	fs.DurationVar(&o.AuthTimeout, "rest-auth-timeout", o.AuthTimeout, "Timeout of one TokenReview request.")
	fs.Int64Var(&o.MaxBodyBytes, "rest-max-body-bytes", o.MaxBodyBytes, "Largest request body the REST API accepts; larger bodies get 413.")
}

// Validate reports every invalid flag at once.
func (o *Options) Validate() []error {
	var errs []error
	if err := validateAddress(o.Address); err != nil {
		errs = append(errs, fmt.Errorf("--rest-address %q: %w", o.Address, err))
	}
	if o.AuthCacheTTL < 0 {
		errs = append(errs, fmt.Errorf("--rest-auth-cache-ttl %s: must not be negative", o.AuthCacheTTL))
	}
	if o.AuthTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--rest-auth-timeout %s: must be positive", o.AuthTimeout))
	}
	if o.MaxBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("--rest-max-body-bytes %d: must be positive", o.MaxBodyBytes))
	}
	return errs
}

// Config validates the options and returns the plain configuration New
// takes.
func (o *Options) Config() (Config, error) {
	if errs := o.Validate(); len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return Config{
		Address:      o.Address,
		Auth:         o.Auth,
		AuthCacheTTL: o.AuthCacheTTL,
		AuthTimeout:  o.AuthTimeout,
		MaxBodyBytes: o.MaxBodyBytes,
	}, nil
}

func validateAddress(addr string) error {
	if addr == "" {
		return errors.New("must not be empty")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("port %q: must be a number from 0 to 65535", port)
	}
	return nil
}
