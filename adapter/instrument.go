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

// requestClass is what the request metrics know of a request: the api, and
// the API group and version when they are ones the adapter serves. Anything
// else is "" so that a client cannot create series by inventing groups or
// versions.
type requestClass struct {
	api, group, version string
}

func (c requestClass) labels() prometheus.Labels {
	return prometheus.Labels{"api": c.api, "group": c.group, "version": c.version}
}

// servedVersions are the versions of group the adapter serves, none for a
// group it does not serve; a request for another version is counted with
// version "".
func servedVersions(group string) []string {
	switch group {
	case custom_metrics.GroupName:
		return []string{"v1beta1", "v1beta2"}
	case external_metrics.GroupName:
		return []string{"v1beta1"}
	}
	return nil
}

// requestClasses lists every class apiOf can return, so the handlers are
// curried once, up front.
func requestClasses() []requestClass {
	out := []requestClass{{api: apiDiscovery}, {api: apiOther}}
	for group, api := range map[string]string{custom_metrics.GroupName: apiCustom, external_metrics.GroupName: apiExternal} {
		out = append(out, requestClass{api: apiDiscovery, group: group}, requestClass{api: api, group: group})
		for _, v := range servedVersions(group) {
			out = append(out, requestClass{api: apiDiscovery, group: group, version: v}, requestClass{api: api, group: group, version: v})
		}
	}
	return out
}

// instrument counts and times every request by api, API group, version and
// code, outside authentication so that 401s and 403s are counted too. The
// labels stay low-cardinality: no path, metric or object names, and only the
// groups and versions the adapter serves. A nil registerer yields working but
// unregistered metrics.
func instrument(reg prometheus.Registerer, h http.Handler) http.Handler {
	f := promauto.With(reg)
	requests := f.NewCounterVec(prometheus.CounterOpts{
		Name: "hpa_engine_adapter_requests_total",
		Help: "Requests to the adapter's HTTPS server by api (custom, external, discovery, other), API group, version and HTTP code.",
	}, []string{"api", "group", "version", "code"})
	duration := f.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "hpa_engine_adapter_request_duration_seconds",
		Help:    "Latency of the adapter's HTTPS requests by api, API group and version, including authentication, authorization and the provider.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"api", "group", "version"})
	byClass := map[requestClass]http.Handler{}
	for _, c := range requestClasses() {
		byClass[c] = promhttp.InstrumentHandlerDuration(duration.MustCurryWith(c.labels()),
			promhttp.InstrumentHandlerCounter(requests.MustCurryWith(c.labels()), h))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next, ok := byClass[apiOf(r.URL.Path)]
		if !ok {
			// requestClasses covers every class; this keeps a future
			// class from becoming a nil handler.
			next = byClass[requestClass{api: apiOther}]
		}
		next.ServeHTTP(w, r)
	})
}

// apiOf classifies a path: below /apis/<group>/<version> it is a metrics
// request, at or above it a discovery document.
func apiOf(path string) requestClass {
	segments := strings.Split(strings.Trim(path, "/"), "/")
	if segments[0] != "apis" {
		return requestClass{api: apiOther}
	}
	var c requestClass
	if len(segments) > 1 && servedVersions(segments[1]) != nil {
		c.group = segments[1]
	}
	if c.group != "" && len(segments) > 2 {
		for _, v := range servedVersions(c.group) {
			if segments[2] == v {
				c.version = v
			}
		}
	}
	switch {
	case len(segments) <= 3:
		c.api = apiDiscovery
	case c.group == custom_metrics.GroupName:
		c.api = apiCustom
	case c.group == external_metrics.GroupName:
		c.api = apiExternal
	default:
		c.api = apiOther
	}
	return c
}
