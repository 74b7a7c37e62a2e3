// Package api is the recommender's REST API (chi, JSON everywhere):
//
//   - GET  /api/v1/recommendations (?namespace=, ?kind=): the loop's latest
//     recommendation for every target, sorted;
//   - GET  /api/v1/recommendations/{namespace}/{kind}/{name}: one target's,
//     with its explanation;
//   - POST /api/v1/recommend: stateless, an autoscaling/v2 spec, the target's
//     state and the metric observations in (recommender.Input's JSON), the
//     result and its explanation out;
//   - POST /api/v1/simulate: a spec replayed over Prometheus history by the
//     Simulator in Deps (501 without one), at most 11,000 steps;
//   - GET  /api/v1/openapi.json: the OpenAPI 3 document describing all of the
//     above, kept by hand next to the handlers and checked against the routes
//     by a test;
//   - /healthz, /readyz and /metrics, which stay open when bearer-token
//     authentication (TokenReview through k8s.io/apiserver's delegating
//     authenticator, --rest-auth) guards the rest.
//
// Errors are JSON objects {"error": {"code", "reason", "message", "causes"}}
// with the matching HTTP status.
//
// The package owns the HTTP edge only: it reads recommendations through the
// Store interface it declares (recommender/loop implements it) and computes
// nothing itself beyond calling recommender.Recommend. It must not import
// adapter, scaler, metrics or cmd, opens no listener (the command that mounts
// New's handler serves it, `hpa-engine controller`) and reads the time only
// through the clock it is given.
package api
