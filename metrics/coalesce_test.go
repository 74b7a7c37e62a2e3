package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
	"github.com/hpa-engine/hpa-engine/metrics/metricstest"
)

// joinDelay is how long the tests give goroutines that have started a call
// to join the request in flight before it is answered.
const joinDelay = 100 * time.Millisecond

func TestCoalesceSharesOneRequest(t *testing.T) {
	const callers = 20
	release := make(chan struct{})
	firstHit := make(chan struct{})
	var once sync.Once
	fake, srv := newFakeProm(t, func(w http.ResponseWriter, r *request) {
		once.Do(func() { close(firstHit) })
		<-release
		success(`{"resultType":"vector","result":[{"metric":{"pod":"a"},"value":[1700000000,"7"]}]}`)(w, r)
	})
	q := hpametrics.Coalesce(newClient(t, hpametrics.ClientConfig{URL: srv.URL}))

	at := time.Unix(1700000000, 0)
	var started atomic.Int32
	results := make([][]hpametrics.Sample, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			started.Add(1)
			results[i], errs[i] = q.Query(context.Background(), `sum(x{pod=~"a|b"})`, at)
		})
	}
	<-firstHit
	for started.Load() < callers {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(joinDelay)
	close(release)
	wg.Wait()

	if hits := len(fake.Requests()); hits != 1 {
		t.Errorf("Prometheus saw %d requests for %d identical concurrent queries, want 1", hits, callers)
	}
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if len(results[i]) != 1 || results[i][0].Value != 7 || results[i][0].Labels["pod"] != "a" {
			t.Fatalf("caller %d got %+v", i, results[i])
		}
	}
	// Each caller owns what it received.
	results[0][0].Labels["pod"] = "changed"
	results[0][0].Value = -1
	for i := 1; i < callers; i++ {
		if results[i][0].Labels["pod"] != "a" || results[i][0].Value != 7 {
			t.Fatalf("caller %d sees caller 0's change: %+v", i, results[i][0])
		}
	}
}

func TestCoalesceKeys(t *testing.T) {
	at := time.Unix(1700000000, 0)
	tests := []struct {
		name     string
		query    string
		at       time.Time
		wantHits int
	}{
		{name: "same query and time, one after the other", query: "a", at: at, wantHits: 2},
		{name: "different time", query: "a", at: at.Add(time.Millisecond), wantHits: 2},
		{name: "different query", query: "b", at: at, wantHits: 2},
		{name: "zero time is a key too", query: "a", at: time.Time{}, wantHits: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Sequential calls never overlap, so each one reaches Prometheus:
			// Coalesce shares requests in flight, it is not a cache.
			fake, srv := newFakeProm(t, success(emptyVector))
			q := hpametrics.Coalesce(newClient(t, hpametrics.ClientConfig{URL: srv.URL}))
			ctx := context.Background()
			if _, err := q.Query(ctx, "a", at); err != nil {
				t.Fatalf("Query: %v", err)
			}
			if _, err := q.Query(ctx, tt.query, tt.at); err != nil {
				t.Fatalf("Query: %v", err)
			}
			if hits := len(fake.Requests()); hits != tt.wantHits {
				t.Errorf("hits = %d, want %d", hits, tt.wantHits)
			}
		})
	}
}

// gatedQuerier blocks every Query until released and counts the calls.
func gatedQuerier(release <-chan struct{}, entered chan<- context.Context, result []hpametrics.Sample, err error) *metricstest.Querier {
	return &metricstest.Querier{QueryFunc: func(ctx context.Context, _ string, _ time.Time) ([]hpametrics.Sample, error) {
		entered <- ctx
		select {
		case <-release:
			return result, err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}}
}

func TestCoalesceLeaderCancelDoesNotFailFollowers(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan context.Context, 2)
	inner := gatedQuerier(release, entered, []hpametrics.Sample{{Labels: map[string]string{}, Value: 3}}, nil)
	q := hpametrics.Coalesce(inner)
	at := time.Unix(1700000000, 0)

	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	defer cancelLeader()
	leaderErr := make(chan error, 1)
	go func() {
		_, err := q.Query(leaderCtx, "up", at)
		leaderErr <- err
	}()
	sharedCtx := <-entered

	type res struct {
		s   []hpametrics.Sample
		err error
	}
	follower := make(chan res, 1)
	go func() {
		s, err := q.Query(context.Background(), "up", at)
		follower <- res{s, err}
	}()
	time.Sleep(joinDelay)

	cancelLeader()
	select {
	case err := <-leaderErr:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("leader error = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("canceled leader still waiting")
	}
	if sharedCtx.Err() != nil {
		t.Fatalf("the shared request was canceled with its first caller: %v", sharedCtx.Err())
	}
	close(release)
	select {
	case r := <-follower:
		if r.err != nil || len(r.s) != 1 || r.s[0].Value != 3 {
			t.Errorf("follower got %+v, %v; want the shared result", r.s, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follower never answered")
	}
	if n := len(inner.Calls()); n != 1 {
		t.Errorf("inner querier called %d times, want 1", n)
	}
}

func TestCoalesceKeepsLeaderDeadline(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	entered := make(chan context.Context, 1)
	q := hpametrics.Coalesce(gatedQuerier(release, entered, nil, nil))
	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	go func() { _, _ = q.Query(ctx, "up", time.Time{}) }()
	shared := <-entered
	if got, ok := shared.Deadline(); !ok || !got.Equal(deadline) {
		t.Errorf("shared request deadline = %v, %v; want the caller's %v", got, ok, deadline)
	}
}

func TestCoalesceSharesErrors(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan context.Context, 1)
	q := hpametrics.Coalesce(gatedQuerier(release, entered, nil, hpametrics.ErrUnavailable))
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := q.Query(context.Background(), "up", time.Time{})
			errs <- err
		}()
	}
	<-entered
	time.Sleep(joinDelay)
	close(release)
	for range 2 {
		if err := <-errs; !errors.Is(err, hpametrics.ErrUnavailable) {
			t.Errorf("error = %v, want ErrUnavailable", err)
		}
	}
}

func TestCoalescePassesSeriesAndRangeThrough(t *testing.T) {
	inner := &metricstest.Querier{
		SeriesSets: map[string][]map[string]string{"up": {{"job": "a"}}},
		Ranges:     map[string][]hpametrics.Series{"up": {{Labels: map[string]string{"job": "a"}}}},
	}
	q := hpametrics.Coalesce(inner)
	ctx := context.Background()
	at := time.Unix(1700000000, 0)
	if s, err := q.Series(ctx, "up", at, at); err != nil || len(s) != 1 {
		t.Errorf("Series = %v, %v", s, err)
	}
	if r, err := q.QueryRange(ctx, "up", at, at, time.Minute); err != nil || len(r) != 1 {
		t.Errorf("QueryRange = %v, %v", r, err)
	}
	if n := len(inner.Calls()); n != 2 {
		t.Errorf("inner calls = %d, want 2", n)
	}
}
