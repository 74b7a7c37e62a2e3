package api

import (
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	genericfilters "k8s.io/apiserver/pkg/endpoints/filters"
	authenticationv1 "k8s.io/client-go/kubernetes/typed/authentication/v1"
)

// tokenReviewBackoff is k8s.io/apiserver's DefaultAuthWebhookRetryBackoff
// (500 ms, x1.5, 20% jitter, 5 tries), repeated here rather than imported
// because its package pulls in the whole generic API server's options.
func tokenReviewBackoff() wait.Backoff {
	return wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}
}

// NewTokenReviewAuthenticator returns k8s.io/apiserver's delegating
// bearer-token authenticator: each token is checked with a TokenReview sent
// through client, and the answer (accepted or rejected) is cached for
// cacheTTL. Anonymous requests are not authenticated; client certificates and
// front-proxy headers are not accepted either, since the REST API is not an
// aggregated API server.
func NewTokenReviewAuthenticator(client authenticationv1.AuthenticationV1Interface, cacheTTL, timeout time.Duration) (authenticator.Request, error) {
	return newTokenReviewAuthenticator(client, cacheTTL, timeout, tokenReviewBackoff())
}

func newTokenReviewAuthenticator(client authenticationv1.AuthenticationV1Interface, cacheTTL, timeout time.Duration, backoff wait.Backoff) (authenticator.Request, error) {
	if timeout <= 0 {
		timeout = DefaultAuthTimeout
	}
	cfg := authenticatorfactory.DelegatingAuthenticatorConfig{
		TokenAccessReviewClient:  client,
		TokenAccessReviewTimeout: timeout,
		WebhookRetryBackoff:      &backoff,
		CacheTTL:                 cacheTTL,
	}
	a, _, err := cfg.New()
	return a, err
}

// withAuthentication wraps the API routes in k8s.io/apiserver's
// authentication filter: it puts the user into the request context, strips
// the Authorization header before the handler runs, and answers 401 in the
// API's error shape when the token is missing, rejected, or cannot be
// reviewed.
func withAuthentication(a authenticator.Request) func(http.Handler) http.Handler {
	failed := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hpa-engine"`)
		writeError(w, &apiError{code: http.StatusUnauthorized, reason: reasonUnauthorized,
			msg: "Unauthorized: a bearer token the cluster accepts (TokenReview) is required"})
	})
	return func(next http.Handler) http.Handler {
		return genericfilters.WithAuthentication(next, a, failed, nil, nil)
	}
}
