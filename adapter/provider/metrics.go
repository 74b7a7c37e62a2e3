package provider

import (
	"math"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Label values of the provider's metrics.
const (
	outcomeSuccess = "success"
	outcomePartial = "partial"
	outcomeFailure = "failure"

	// modeNames queries a selection by its objects' names, modeNamespace by
	// namespace with the selection kept in-process.
	modeNames     = "names"
	modeNamespace = "namespace"
)

// providerMetrics are the provider's hpa_engine_adapter_* metrics.
type providerMetrics struct {
	discovered       *prometheus.GaugeVec
	lastSuccessGauge prometheus.Gauge
	relists          *prometheus.CounterVec
	relistDuration   prometheus.Histogram
	objectQueries    *prometheus.CounterVec
	// lastSuccess is the last successful discovery in Unix nanoseconds, 0
	// before the first, read by the age gauge.
	lastSuccess atomic.Int64
}

// newProviderMetrics registers the metrics on reg; a nil reg gives working
// metrics that nobody collects.
func newProviderMetrics(reg prometheus.Registerer, age func() float64) *providerMetrics {
	f := promauto.With(reg)
	m := &providerMetrics{
		discovered: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hpa_engine_adapter_discovery_metrics",
			Help: "Metrics the adapter's last series discovery exposes, by API (custom or external).",
		}, []string{"api"}),
		lastSuccessGauge: f.NewGauge(prometheus.GaugeOpts{
			Name: "hpa_engine_adapter_discovery_last_success_timestamp_seconds",
			Help: "When the last series discovery that listed at least one series query started, in Unix seconds.",
		}),
		relists: f.NewCounterVec(prometheus.CounterOpts{
			Name: "hpa_engine_adapter_discovery_relists_total",
			Help: "Series discoveries by outcome: success, partial (some series queries failed and kept their previous series) or failure.",
		}, []string{"outcome"}),
		relistDuration: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "hpa_engine_adapter_discovery_duration_seconds",
			Help:    "How long one series discovery took.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 8),
		}),
		objectQueries: f.NewCounterVec(prometheus.CounterOpts{
			Name: "hpa_engine_adapter_object_queries_total",
			Help: "Custom metric queries by how objects were matched: names (a name matcher) or namespace (the whole namespace, filtered in-process).",
		}, []string{"mode"}),
	}
	f.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hpa_engine_adapter_discovery_age_seconds",
		Help: "Time since the last successful series discovery (since start when none has succeeded).",
	}, func() float64 {
		a := age()
		if math.IsNaN(a) || a < 0 {
			return 0
		}
		return a
	})
	for _, mode := range []string{modeNames, modeNamespace} {
		m.objectQueries.WithLabelValues(mode)
	}
	for _, o := range []string{outcomeSuccess, outcomePartial, outcomeFailure} {
		m.relists.WithLabelValues(o)
	}
	return m
}

// reloadMetrics are the configuration reloader's metrics.
type reloadMetrics struct {
	reloads     *prometheus.CounterVec
	lastSuccess prometheus.Gauge
}

func newReloadMetrics(reg prometheus.Registerer) *reloadMetrics {
	f := promauto.With(reg)
	m := &reloadMetrics{
		reloads: f.NewCounterVec(prometheus.CounterOpts{
			Name: "hpa_engine_adapter_config_reloads_total",
			Help: "Reloads of the adapter's configuration file by outcome: success, or failure (the previous configuration keeps serving).",
		}, []string{"outcome"}),
		lastSuccess: f.NewGauge(prometheus.GaugeOpts{
			Name: "hpa_engine_adapter_config_last_reload_success_timestamp_seconds",
			Help: "When the configuration file was last loaded successfully, in Unix seconds.",
		}),
	}
	m.reloads.WithLabelValues(outcomeSuccess)
	m.reloads.WithLabelValues(outcomeFailure)
	return m
}
