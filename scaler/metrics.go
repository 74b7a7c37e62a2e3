package scaler

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the scaler's own hpa_engine_scaler_* metrics.
type Metrics struct {
	rescales *prometheus.CounterVec
	actions  *prometheus.CounterVec
	errors   *prometheus.CounterVec
	leading  prometheus.Gauge
}

// NewMetrics creates the metrics on reg; a nil reg creates them
// unregistered. A nil *Metrics records nothing.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		rescales: f.NewCounterVec(prometheus.CounterOpts{
			Name: "hpa_engine_scaler_rescales_total",
			Help: "Scale updates the scaler applied to an Autoscaler's target, by direction (up, down).",
		}, []string{"namespace", "name", "direction"}),
		actions: f.NewCounterVec(prometheus.CounterOpts{
			Name: "hpa_engine_scaler_actions_total",
			Help: "Recommendations the scaler acted on, by what it did (Rescaled, DryRun, Hold, Failed; Paused when it became paused).",
		}, []string{"action"}),
		errors: f.NewCounterVec(prometheus.CounterOpts{
			Name: "hpa_engine_scaler_errors_total",
			Help: "Errors of the scaler, by upstream's event reason (FailedGetScale, FailedRescale, FailedUpdateStatus).",
		}, []string{"reason"}),
		leading: f.NewGauge(prometheus.GaugeOpts{
			Name: "hpa_engine_scaler_leader",
			Help: "1 while this process is the leader and runs the scaler, 0 otherwise.",
		}),
	}
}

func (m *Metrics) action(out Outcome, namespace, name string, from, to int32) {
	// A paused Autoscaler comes back every sync; count it when its status
	// changed (it was paused), not every second it stays so.
	if m == nil || out.Action == ActionNone || (out.Action == ActionPaused && !out.StatusWritten) {
		return
	}
	m.actions.WithLabelValues(string(out.Action)).Inc()
	if out.Action == ActionRescaled {
		dir := "up"
		if to < from {
			dir = "down"
		}
		m.rescales.WithLabelValues(namespace, name, dir).Inc()
	}
}

func (m *Metrics) error(reason string) {
	if m != nil {
		m.errors.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) setLeading(v bool) {
	if m == nil {
		return
	}
	if v {
		m.leading.Set(1)
	} else {
		m.leading.Set(0)
	}
}
