package load

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/storage"
	"k8s.io/klog/v2"
)

// Series names the generator writes.
const (
	// PodRequestsSeries is a gauge per ready pod: its share of the
	// service's request rate (labels namespace, pod, service).
	PodRequestsSeries = "demo_http_requests_per_second"
	// ServiceRequestsSeries is a gauge per Service: the request rate it
	// receives (labels namespace, service).
	ServiceRequestsSeries = "demo_service_requests_per_second"
	// QueueSeries is a gauge per queue: the messages waiting (labels
	// namespace, queue).
	QueueSeries = "demo_queue_messages_ready"
)

// Day is the period of the wave in demo time.
const Day = 24 * time.Hour

// DefaultSpeed runs one demo day in ten minutes of wall time.
const DefaultSpeed = float64(Day / (10 * time.Minute))

// DefaultStart is the demo time of day the clock starts at: early morning,
// when the load climbs, so that the first scale-up comes at once.
const DefaultStart = 7 * time.Hour

// Kind says how a service's load is exposed.
type Kind string

// Kinds of demo services.
const (
	// PerPod splits the load over the ready pods (PodRequestsSeries).
	PerPod Kind = "Pods"
	// PerService writes the load as the Service's rate (ServiceRequestsSeries).
	PerService Kind = "Object"
	// Queue writes the load as a queue length (QueueSeries).
	Queue Kind = "External"
)

// Service is one demo service's load profile: Low at the night's trough,
// High at the afternoon's peak, times bursts.
type Service struct {
	// Name is the Deployment's (and Service's) name; Queue names the
	// queue for the Queue kind.
	Name  string
	Kind  Kind
	Queue string
	Low   float64
	High  float64
}

// Config is the generator's plain configuration.
type Config struct {
	Namespace string
	Services  []Service
	// Speed is how many demo seconds pass per wall second; DefaultSpeed
	// when zero.
	Speed float64
	// Start is the demo time of day at start; DefaultStart when zero.
	Start time.Duration
	// Interval is how often samples are written (wall time); 1s when zero.
	Interval time.Duration
	// Seed makes the bursts and the noise reproducible.
	Seed uint64
}

// Appendable is where samples go (the embedded TSDB).
type Appendable interface {
	Appender(ctx context.Context) storage.Appender
}

// PodLister reports the ready pods of a service, among which its load is
// split.
type PodLister interface {
	ReadyPods(ctx context.Context, namespace, name string) ([]string, error)
}

// Deps are the generator's collaborators.
type Deps struct {
	Storage Appendable
	Pods    PodLister
	// Now is the wall clock; time.Now when nil.
	Now func() time.Time
}

// burst multiplies the load by Factor over [Start, Start+Length) of each
// demo day.
type burst struct {
	start, length time.Duration
	factor        float64
}

// Generator writes the demo's series.
type Generator struct {
	cfg    Config
	deps   Deps
	begin  time.Time
	bursts map[string][]burst
	noise  *rand.Rand

	mu      sync.Mutex
	loads   map[string]float64
	written map[string]labels.Labels // per-pod series of the last tick
}

// New builds a generator whose demo clock starts at cfg.Start when New is
// called.
func New(cfg Config, deps Deps) (*Generator, error) {
	if deps.Storage == nil || deps.Pods == nil {
		return nil, fmt.Errorf("load generator: %w", ErrMissingDeps)
	}
	if cfg.Speed == 0 {
		cfg.Speed = DefaultSpeed
	}
	if cfg.Speed < 0 || math.IsNaN(cfg.Speed) || math.IsInf(cfg.Speed, 0) {
		return nil, fmt.Errorf("load generator speed %v: %w", cfg.Speed, ErrInvalidSpeed)
	}
	if cfg.Start == 0 {
		cfg.Start = DefaultStart
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	bursts := map[string][]burst{}
	for _, s := range cfg.Services {
		bursts[s.Name] = randomBursts(rng)
	}
	return &Generator{
		cfg:     cfg,
		deps:    deps,
		begin:   deps.Now(),
		bursts:  bursts,
		noise:   rand.New(rand.NewPCG(cfg.Seed+1, 0x2545f4914f6cdd1d)),
		loads:   map[string]float64{},
		written: map[string]labels.Labels{},
	}, nil
}

// randomBursts are three bursts a day during working hours, 20 to 60 demo
// minutes long, 1.3x to 1.8x the wave.
func randomBursts(rng *rand.Rand) []burst {
	out := make([]burst, 3)
	for i := range out {
		out[i] = burst{
			start:  8*time.Hour + time.Duration(rng.Int64N(int64(12*time.Hour))),
			length: 20*time.Minute + time.Duration(rng.Int64N(int64(40*time.Minute))),
			factor: 1.3 + 0.5*rng.Float64(),
		}
	}
	return out
}

// Clock is the demo time (since demo midnight of the first day) at wall
// time now.
func (g *Generator) Clock(now time.Time) time.Duration {
	return g.cfg.Start + time.Duration(float64(now.Sub(g.begin))*g.cfg.Speed)
}

// Wave is service s's load at demo time t, without noise: a cosine with its
// trough at 03:00 and its peak at 15:00, times any burst under way.
func (g *Generator) Wave(s Service, t time.Duration) float64 {
	tod := t % Day
	phase := 2 * math.Pi * float64(tod-3*time.Hour) / float64(Day)
	v := s.Low + (s.High-s.Low)*(1-math.Cos(phase))/2
	for _, b := range g.bursts[s.Name] {
		if tod >= b.start && tod < b.start+b.length {
			v *= b.factor
		}
	}
	return v
}

// Load returns the last load written for service name and whether one was.
func (g *Generator) Load(name string) (float64, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.loads[name]
	return v, ok
}

// Run writes samples every Interval until ctx is done.
func (g *Generator) Run(ctx context.Context) error {
	t := time.NewTicker(g.cfg.Interval)
	defer t.Stop()
	for {
		if err := g.Tick(ctx); err != nil && ctx.Err() == nil {
			klog.ErrorS(err, "Demo load generator")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick writes one sample of every series at the wall clock's now, and a
// staleness marker for the series of pods that are gone, so that queries
// stop seeing them at once rather than five minutes later.
func (g *Generator) Tick(ctx context.Context) error {
	now := g.deps.Now()
	ts := now.UnixMilli()
	demo := g.Clock(now)
	app := g.deps.Storage.Appender(ctx)
	g.mu.Lock()
	defer g.mu.Unlock()
	current := map[string]labels.Labels{}
	for _, s := range g.cfg.Services {
		v := g.Wave(s, demo) * (1 + 0.03*(2*g.noise.Float64()-1))
		g.loads[s.Name] = v
		var err error
		switch s.Kind {
		case PerPod:
			err = g.appendPods(ctx, app, s, v, ts, current)
		case PerService:
			_, err = app.Append(0, labels.FromStrings(labels.MetricName, ServiceRequestsSeries,
				"namespace", g.cfg.Namespace, "service", s.Name), ts, v)
		case Queue:
			_, err = app.Append(0, labels.FromStrings(labels.MetricName, QueueSeries,
				"namespace", g.cfg.Namespace, "queue", s.Queue), ts, math.Round(v))
		default:
			err = fmt.Errorf("service %s kind %q: %w", s.Name, s.Kind, ErrUnknownKind)
		}
		if err != nil {
			return rollback(app, err)
		}
	}
	for key, l := range g.written {
		if _, ok := current[key]; !ok {
			if _, err := app.Append(0, l, ts, math.Float64frombits(value.StaleNaN)); err != nil {
				return rollback(app, fmt.Errorf("staleness marker of %s: %w", l, err))
			}
		}
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("commit samples: %w", err)
	}
	g.written = current
	return nil
}

func (g *Generator) appendPods(ctx context.Context, app storage.Appender, s Service, v float64, ts int64, current map[string]labels.Labels) error {
	pods, err := g.deps.Pods.ReadyPods(ctx, g.cfg.Namespace, s.Name)
	if err != nil {
		return err
	}
	for _, p := range pods {
		l := labels.FromStrings(labels.MetricName, PodRequestsSeries, "namespace", g.cfg.Namespace, "pod", p, "service", s.Name)
		if _, err := app.Append(0, l, ts, v/float64(len(pods))); err != nil {
			return fmt.Errorf("sample of %s: %w", l, err)
		}
		current[l.String()] = l
	}
	return nil
}

// rollback rolls the transaction back and returns err with any rollback
// error joined.
func rollback(app storage.Appender, err error) error {
	if rerr := app.Rollback(); rerr != nil {
		return fmt.Errorf("%w (rollback: %v)", err, rerr)
	}
	return err
}
