package adapter

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	"k8s.io/metrics/pkg/apis/external_metrics"
)

// Values of the api label: which part of the server a request hit.
const (
	apiCustom    = "custom"
	apiExternal  = "external"
	apiDiscovery = "discovery"
	apiOther     = "other"
)

// instrument counts and times every request by api and code, outside
// authentication so that 401s and 403s are counted too. The labels stay
// low-cardinality: no path, metric or object names. A nil registerer yields
// working but unregistered metrics.
func instrument(reg prometheus.Registerer, h http.Handler) http.Handler {
	f := promauto.With(reg)
	requests := f.NewCounterVec(prometheus.CounterOpts{
		Name: "hpa_engine_adapter_requests_total",
		Help: "Requests to the adapter's HTTPS server by api (custom, external, discovery, other) and HTTP code.",
	}, []string{"api", "code"})
	duration := f.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hpa_engine_adapter_request_duration_seconds",
		Help:    "Latency of the adapter's HTTPS requests by api, including authentication, authorization and the provider.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"api"})
	byAPI := map[string]http.Handler{}
	for _, api := range []string{apiCustom, apiExternal, apiDiscovery, apiOther} {
		labels := prometheus.Labels{"api": api}
		byAPI[api] = promhttp.InstrumentHandlerDuration(duration.MustCurryWith(labels),
			promhttp.InstrumentHandlerCounter(requests.MustCurryWith(labels), h))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		byAPI[apiOf(r.URL.Path)].ServeHTTP(w, r)
	})
}

// apiOf classifies a path: below /apis/<group>/<version> it is a metrics
// request, at or above it a discovery document.
func apiOf(path string) string {
	segments := strings.Split(strings.Trim(path, "/"), "/")
	if segments[0] != "apis" {
		return apiOther
	}
	if len(segments) <= 3 {
		return apiDiscovery
	}
	switch segments[1] {
	case custom_metrics.GroupName:
		return apiCustom
	case external_metrics.GroupName:
		return apiExternal
	}
	return apiOther
}
