package load

import (
	"context"
	"math"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/hpa-engine/hpa-engine/cmd/hpa-engine/internal/demo/promapi"
)

// pods is a settable PodLister.
type pods map[string][]string

func (p pods) ReadyPods(_ context.Context, _, name string) ([]string, error) { return p[name], nil }

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func TestWave(t *testing.T) {
	g, err := New(Config{Namespace: "demo", Services: []Service{{Name: "web", Kind: PerPod, Low: 10, High: 110}}},
		Deps{Storage: &promapi.Store{}, Pods: pods{}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	g.bursts = nil // the wave alone
	s := g.cfg.Services[0]
	tests := []struct {
		name string
		at   time.Duration
		want float64
	}{
		{name: "trough at 03:00", at: 3 * time.Hour, want: 10},
		{name: "peak at 15:00", at: 15 * time.Hour, want: 110},
		{name: "half way at 09:00", at: 9 * time.Hour, want: 60},
		{name: "the next day repeats", at: Day + 15*time.Hour, want: 110},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := g.Wave(s, tt.at); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Wave(%s) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
	g.bursts = map[string][]burst{"web": {{start: 14 * time.Hour, length: time.Hour, factor: 1.5}}}
	if got := g.Wave(s, 15*time.Hour-time.Minute); math.Abs(got-1.5*g.Wave(Service{Low: 10, High: 110}, 15*time.Hour-time.Minute)) > 1e-9 {
		t.Errorf("Wave in a burst = %v, want 1.5x the wave", got)
	}
}

func TestClock(t *testing.T) {
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	g, err := New(Config{Speed: 144}, Deps{Storage: &promapi.Store{}, Pods: pods{}, Now: c.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.now = c.now.Add(10 * time.Minute)
	if got, want := g.Clock(c.now), DefaultStart+Day; got != want {
		t.Errorf("Clock after 10 min at speed 144 = %s, want %s (one day on)", got, want)
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		deps Deps
	}{
		{name: "no storage", deps: Deps{Pods: pods{}}},
		{name: "negative speed", cfg: Config{Speed: -1}, deps: Deps{Storage: &promapi.Store{}, Pods: pods{}}},
		{name: "infinite speed", cfg: Config{Speed: math.Inf(1)}, deps: Deps{Storage: &promapi.Store{}, Pods: pods{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg, tt.deps); err == nil {
				t.Error("New succeeded")
			}
		})
	}
}

// TestTick writes through a real embedded Prometheus and reads back with
// client_golang: the per-pod series split the load over the ready pods, and
// a pod that goes away stops being seen at once.
func TestTick(t *testing.T) {
	store, err := promapi.Open(promapi.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	srv := httptest.NewServer(store.Handler())
	t.Cleanup(srv.Close)
	client, err := api.NewClient(api.Config{Address: srv.URL})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	prom := promv1.NewAPI(client)

	c := &clock{now: time.Now().Truncate(time.Second)}
	ready := pods{"web": {"web-a", "web-b"}}
	g, err := New(Config{Namespace: "demo", Services: []Service{
		{Name: "web", Kind: PerPod, Low: 10, High: 110},
		{Name: "api", Kind: PerService, Low: 10, High: 110},
		{Name: "worker", Kind: Queue, Queue: "jobs", Low: 10, High: 110},
	}}, Deps{Storage: store, Pods: ready, Now: c.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	query := func(q string) model.Vector {
		t.Helper()
		v, _, _, err := prom.Query(context.Background(), q, c.now)
		if err != nil {
			t.Fatalf("query %s: %v", q, err)
		}
		return v.(model.Vector)
	}

	if err := g.Tick(context.Background()); err != nil {
		t.Fatalf("Tick: %v", err)
	}
	load, _ := g.Load("web")
	perPod := query(PodRequestsSeries)
	if len(perPod) != 2 || math.Abs(float64(perPod[0].Value)-load/2) > 1e-9 {
		t.Errorf("per-pod series %v, want 2 of %v", perPod, load/2)
	}
	if v := query(ServiceRequestsSeries + `{service="api"}`); len(v) != 1 {
		t.Errorf("service series %v, want one", v)
	}
	if v := query(QueueSeries + `{queue="jobs"}`); len(v) != 1 || float64(v[0].Value) != math.Round(float64(v[0].Value)) {
		t.Errorf("queue series %v, want one whole number", v)
	}

	ready["web"] = []string{"web-a"}
	c.now = c.now.Add(time.Second)
	if err := g.Tick(context.Background()); err != nil {
		t.Fatalf("Tick: %v", err)
	}
	var got []string
	for _, s := range query(PodRequestsSeries) {
		got = append(got, string(s.Metric["pod"]))
	}
	if !slices.Equal(got, []string{"web-a"}) {
		t.Errorf("pods with a series after web-b went away: %v, want [web-a]", got)
	}
}
