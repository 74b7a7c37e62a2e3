package api

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	authenticationv1 "k8s.io/client-go/kubernetes/typed/authentication/v1"
	"k8s.io/klog/v2"

	"github.com/hpa-engine/hpa-engine/recommender/loop"
)

// Config is the REST API's plain configuration, produced by Options.Config
// or built directly by tests.
type Config struct {
	// Address is where the command mounting the handler listens; New does
	// not read it.
	Address string
	// Auth requires a bearer token on /api/v1/...
	Auth bool
	// AuthCacheTTL and AuthTimeout tune the TokenReview authenticator New
	// builds when Deps.Authenticator is nil.
	AuthCacheTTL time.Duration
	AuthTimeout  time.Duration
	// MaxBodyBytes bounds request bodies; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Deps are the REST API's collaborators.
type Deps struct {
	// Store holds the loop's latest recommendations. Required.
	Store loop.Store
	// Clock gives "now" for POST /api/v1/recommend inputs without one;
	// nil means time.Now.
	Clock func() time.Time
	// Authenticator authenticates /api/v1/... requests when Config.Auth is
	// set. When nil, New builds k8s.io/apiserver's delegating bearer-token
	// authenticator over TokenReview.
	Authenticator authenticator.Request
	// TokenReview is the client New's authenticator sends TokenReviews
	// with (clientset.AuthenticationV1()).
	TokenReview authenticationv1.AuthenticationV1Interface
	// Metrics, when set, is served at /metrics (the process's registry).
	Metrics http.Handler
	// Ready, when set, is asked by /readyz: an error answers 503 with its
	// message (before the loop's first cycle, for instance).
	Ready func() error
	// Logger receives request errors; the zero value means klog's.
	Logger klog.Logger
	// Simulator serves POST /api/v1/simulate; when nil the route answers
	// 501 Not Implemented.
	Simulator Simulator
}

// Route patterns, shared by the router, the OpenAPI test and the docs.
const (
	pathRecommendations = "/api/v1/recommendations"
	pathRecommendation  = "/api/v1/recommendations/{namespace}/{kind}/{name}"
	pathRecommend       = "/api/v1/recommend"
	pathSimulate        = "/api/v1/simulate"
	pathOpenAPI         = "/api/v1/openapi.json"
)

type server struct {
	store   loop.Store
	clock   func() time.Time
	maxBody int64
	log     klog.Logger
	sim     Simulator
}

// New returns the REST API's handler: the /api/v1 routes (behind bearer-token
// authentication when cfg.Auth is set) and the open /healthz, /readyz and
// /metrics. It fails without a store, or with authentication enabled but no
// way to authenticate.
func New(cfg Config, deps Deps) (http.Handler, error) {
	if deps.Store == nil {
		return nil, ErrNoStore
	}
	s := &server{store: deps.Store, clock: deps.Clock, maxBody: cfg.MaxBodyBytes, log: deps.Logger, sim: deps.Simulator}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.log.GetSink() == nil {
		s.log = klog.Background()
	}
	s.log = s.log.WithName("rest")

	var authn func(http.Handler) http.Handler
	if cfg.Auth {
		a := deps.Authenticator
		if a == nil {
			if deps.TokenReview == nil {
				return nil, ErrNoAuthenticator
			}
			var err error
			a, err = NewTokenReviewAuthenticator(deps.TokenReview, cfg.AuthCacheTTL, cfg.AuthTimeout)
			if err != nil {
				return nil, fmt.Errorf("rest authentication: %w", err)
			}
		}
		authn = withAuthentication(a)
	}
	return s.routes(authn, deps.Metrics, deps.Ready), nil
}

func (s *server) routes(authn func(http.Handler) http.Handler, metrics http.Handler, ready func() error) http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverer)
	r.NotFound(func(w http.ResponseWriter, req *http.Request) {
		writeError(w, notFound(fmt.Sprintf("no route for %s %s", req.Method, req.URL.Path)))
	})
	r.MethodNotAllowed(methodNotAllowed(r))

	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok") })
	r.Get("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if ready != nil {
			if err := ready(); err != nil {
				writeText(w, http.StatusServiceUnavailable, err.Error())
				return
			}
		}
		writeText(w, http.StatusOK, "ok")
	})
	if metrics != nil {
		r.Method(http.MethodGet, "/metrics", metrics)
	}

	r.Group(func(r chi.Router) {
		if authn != nil {
			r.Use(authn)
		}
		r.Get(pathOpenAPI, serveOpenAPI)
		r.Get(pathRecommendations, s.list)
		r.Get(pathRecommendation, s.get)
		r.Post(pathRecommend, s.recommend)
		r.Post(pathSimulate, s.simulate)
	})
	return r
}

// methodNotAllowed answers 405 with the Allow header chi's default handler
// would set: a custom handler is not told the allowed methods, so they are
// found by asking the router which methods match the path.
func methodNotAllowed(mux *chi.Mux) http.HandlerFunc {
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}
	return func(w http.ResponseWriter, req *http.Request) {
		path := req.URL.RawPath
		if path == "" {
			path = req.URL.Path
		}
		for _, m := range methods {
			if mux.Match(chi.NewRouteContext(), m, path) {
				w.Header().Add("Allow", m)
			}
		}
		writeError(w, &apiError{code: http.StatusMethodNotAllowed, reason: reasonMethodNotAllowed,
			msg: fmt.Sprintf("method %s is not allowed on %s", req.Method, req.URL.Path)})
	}
}

// recoverer turns a panic in a handler into a logged 500 in the API's error
// shape instead of a dropped connection. No input should get here: the fuzz
// test fails on any 500.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error(fmt.Errorf("panic: %v", v), "Handler panicked", "method", req.Method, "path", req.URL.Path, "stack", string(debug.Stack()))
			writeError(w, &apiError{code: http.StatusInternalServerError, reason: reasonInternalError, msg: "internal error"})
		}()
		next.ServeHTTP(w, req)
	})
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body + "\n"))
}
