package scaler

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"k8s.io/apimachinery/pkg/types"

	"github.com/hpa-engine/hpa-engine/recommender/loop"
	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

// Values of the outcome label of hpa_engine_scaler_rescales_total.
const (
	rescaleSuccess = "success"
	rescaleFailure = "failure"
	rescaleDryRun  = "dry_run"
)

// Metrics are the scaler's own hpa_engine_scaler_* metrics.
type Metrics struct {
	rescales *prometheus.CounterVec
	actions  *prometheus.CounterVec
	errors   *prometheus.CounterVec
	leading  prometheus.Gauge

	mu sync.Mutex
	// targets are the Autoscalers with rescale series, so that the series of
	// one that was deleted can go.
	targets map[types.NamespacedName]bool
}

// NewMetrics creates the metrics on reg; a nil reg creates them
// unregistered. A nil *Metrics records nothing.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	m := &Metrics{
		rescales: f.NewCounterVec(prometheus.CounterOpts{
			Name: "hpa_engine_scaler_rescales_total",
			Help: "Scale operations the scaler attempted on an Autoscaler's target, by direction (up, down) and outcome (success, failure, dry_run).",
		}, []string{"namespace", "kind", "name", "direction", "outcome"}),
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
		targets: map[types.NamespacedName]bool{},
	}
	// Every action and reason starts at 0, so that a rate over them is 0
	// rather than no data until the first one.
	for _, a := range []Action{ActionRescaled, ActionDryRun, ActionHold, ActionFailed, ActionPaused} {
		m.actions.WithLabelValues(string(a))
	}
	for _, r := range []string{ReasonFailedGetScale, ReasonFailedRescale, ReasonFailedUpdateStatus} {
		m.errors.WithLabelValues(r)
	}
	return m
}

func (m *Metrics) action(out Outcome, namespace, name string, from, to int32) {
	// A paused Autoscaler comes back every sync; count it when its status
	// changed (it was paused), not every second it stays so.
	if m == nil || out.Action == ActionNone || (out.Action == ActionPaused && !out.StatusWritten) {
		return
	}
	m.actions.WithLabelValues(string(out.Action)).Inc()
	var outcome string
	switch out.Action {
	case ActionRescaled:
		outcome = rescaleSuccess
	case ActionDryRun:
		outcome = rescaleDryRun
	case ActionFailed:
		// Apply fails only once a rescale from the recommendation's
		// current to its desired count is due.
		outcome = rescaleFailure
	default:
		return
	}
	dir := "up"
	if to < from {
		dir = "down"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.targets[types.NamespacedName{Namespace: namespace, Name: name}] = true
	m.rescales.WithLabelValues(namespace, loop.KindAutoscaler, name, dir, outcome).Inc()
}

// retain deletes the rescale series of Autoscalers that are not in list,
// which is every Autoscaler there is: a deleted one's series would otherwise
// stay until the process restarts.
func (m *Metrics) retain(list []*v1alpha1.Autoscaler) {
	if m == nil {
		return
	}
	live := make(map[types.NamespacedName]bool, len(list))
	for _, a := range list {
		live[types.NamespacedName{Namespace: a.Namespace, Name: a.Name}] = true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.targets {
		if !live[k] {
			m.rescales.DeletePartialMatch(prometheus.Labels{"namespace": k.Namespace, "kind": loop.KindAutoscaler, "name": k.Name})
			delete(m.targets, k)
		}
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
