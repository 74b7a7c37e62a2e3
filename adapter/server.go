package adapter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericfilters "k8s.io/apiserver/pkg/endpoints/filters"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/server"
	"k8s.io/klog/v2"
)

// Config is the adapter server's plain configuration, produced by
// Options.Config or built directly by tests.
type Config struct {
	// SecureServing is the HTTPS listener with its (reloading) serving
	// certificate and the client CAs the authenticator trusts. Only Run
	// needs it.
	SecureServing *server.SecureServingInfo
	// Authenticator authenticates every request (front-proxy certificates,
	// client certificates, bearer tokens through TokenReview, anonymous only
	// on the always-allowed paths). Required.
	Authenticator authenticator.Request
	// RequestHeaderConfig, when set, lets the authentication filter strip
	// the front proxy's X-Remote-* headers before the handlers run.
	RequestHeaderConfig *authenticatorfactory.RequestHeaderConfig
	// Authorizer decides every request (SubjectAccessReview with caching,
	// always-allowed paths and groups). Required.
	Authorizer authorizer.Authorizer
	// ShutdownTimeout bounds how long Run waits for in-flight requests once
	// its context is done.
	ShutdownTimeout time.Duration
	// RequestTimeout bounds each provider call, so a hung Prometheus answers
	// 503 rather than holding the HPA's request; zero means no bound beyond
	// the client's.
	RequestTimeout time.Duration
}

// Deps are the adapter server's collaborators.
type Deps struct {
	// Custom serves custom.metrics.k8s.io; nil leaves the group out.
	Custom CustomMetricsProvider
	// External serves external.metrics.k8s.io; nil leaves the group out.
	External ExternalMetricsProvider
	// Metrics, when set, is mounted at /metrics (the engine's registry).
	Metrics http.Handler
	// Ready, when set, is asked by /readyz: an error answers 503 with its
	// message (for instance before the first series discovery).
	Ready func() error
	// Registerer receives hpa_engine_adapter_requests_total and
	// hpa_engine_adapter_request_duration_seconds; nil leaves them
	// unregistered.
	Registerer prometheus.Registerer
}

// Server is the adapter's HTTPS server: the metrics APIs behind delegated
// authentication and authorization, plus /healthz, /readyz and /metrics.
type Server struct {
	cfg     Config
	handler http.Handler
}

// New builds the server. It refuses to build without an authenticator and an
// authorizer: the apiserver filters would otherwise let everything through.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.Authenticator == nil {
		return nil, errors.New("adapter server: no authenticator")
	}
	if cfg.Authorizer == nil {
		return nil, errors.New("adapter server: no authorizer")
	}
	if deps.Custom == nil && deps.External == nil {
		return nil, errors.New("adapter server: neither a custom nor an external metrics provider")
	}
	api := newAPIHandler(deps.Custom, deps.External)
	api.timeout = cfg.RequestTimeout
	r := chi.NewRouter()
	r.Get("/healthz", healthz)
	r.Get("/livez", healthz)
	r.Get("/readyz", readyz(deps.Ready))
	if deps.Metrics != nil {
		r.Handle("/metrics", deps.Metrics)
	}
	api.mount(r)

	// The filters run outside in: request info, authentication, then
	// authorization, which needs the user and the request info in the
	// context. These are k8s.io/apiserver's own filters, so 401 and 403 are
	// the same Status objects kube-apiserver sends.
	var h http.Handler = r
	h = genericfilters.WithAuthorization(h, cfg.Authorizer, api.codecs)
	h = genericfilters.WithAuthentication(h, cfg.Authenticator, genericfilters.Unauthorized(api.codecs), nil, cfg.RequestHeaderConfig)
	h = genericfilters.WithRequestInfo(h, newRequestInfoResolver())
	h = instrument(deps.Registerer, h)
	return &Server{cfg: cfg, handler: h}, nil
}

// Handler returns the full handler chain, for tests and for mounting the
// server elsewhere.
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves HTTPS until ctx is done, then drains in-flight requests for at
// most ShutdownTimeout. The serving certificate and client CAs are reloaded
// by k8s.io/apiserver's dynamic certificate controllers while it runs.
func (s *Server) Run(ctx context.Context) error {
	if s.cfg.SecureServing == nil {
		return errors.New("adapter server: no secure serving configuration")
	}
	stopped, _, err := s.cfg.SecureServing.Serve(s.handler, s.cfg.ShutdownTimeout, ctx.Done())
	if err != nil {
		return fmt.Errorf("serve on %s: %w", s.cfg.SecureServing.Listener.Addr(), err)
	}
	<-ctx.Done()
	<-stopped
	klog.InfoS("Adapter server stopped")
	return nil
}

// newRequestInfoResolver parses paths the way kube-apiserver does, so the
// authorizer sees "get" on resource <resource> (or the external metric's
// name), subresource <metric>, in the request's namespace and API group.
func newRequestInfoResolver() request.RequestInfoResolver {
	return &request.RequestInfoFactory{
		APIPrefixes:          sets.NewString("apis", "api"),
		GrouplessAPIPrefixes: sets.NewString("api"),
	}
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

func readyz(ready func() error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			if err := ready(); err != nil {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(err.Error()))
				return
			}
		}
		healthz(w, r)
	}
}
