package scaler

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

func TestLeaderElectionOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		args []string
		// wantErrs are substrings, one per expected error.
		wantErrs []string
	}{
		{name: "defaults"},
		{name: "enabled with defaults", args: []string{"--leader-elect"}},
		{name: "all flags", args: []string{"--leader-elect", "--leader-elect-lease-duration=30s", "--leader-elect-renew-deadline=20s", "--leader-elect-retry-period=5s", "--leader-elect-resource-name=x", "--leader-elect-resource-namespace=y"}},
		{name: "lease not longer than renew deadline", args: []string{"--leader-elect-lease-duration=10s"}, wantErrs: []string{"must be greater than --leader-elect-renew-deadline"}},
		{name: "renew deadline within jittered retry", args: []string{"--leader-elect-retry-period=9s"}, wantErrs: []string{"must be greater than 1.2 x --leader-elect-retry-period"}},
		{name: "zero retry period", args: []string{"--leader-elect-retry-period=0s"}, wantErrs: []string{"must be positive"}},
		{name: "enabled without lease name and namespace", args: []string{"--leader-elect", "--leader-elect-resource-name=", "--leader-elect-resource-namespace="}, wantErrs: []string{"--leader-elect-resource-name", "--leader-elect-resource-namespace"}},
		{name: "disabled without lease name is fine", args: []string{"--leader-elect-resource-name="}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := NewLeaderElectionOptions()
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			errs := o.Validate()
			if len(errs) != len(tc.wantErrs) {
				t.Fatalf("Validate() = %v, want %d errors %q", errs, len(tc.wantErrs), tc.wantErrs)
			}
			for i, want := range tc.wantErrs {
				if !strings.Contains(errs[i].Error(), want) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i], want)
				}
			}
		})
	}
	o := NewLeaderElectionOptions()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse([]string{"--leader-elect", "--leader-elect-resource-name=n", "--leader-elect-resource-namespace=ns"}); err != nil {
		t.Fatal(err)
	}
	cfg := o.Config()
	if !cfg.Enabled || cfg.Name != "n" || cfg.Namespace != "ns" || cfg.LeaseDuration != DefaultLeaseDuration || cfg.RenewDeadline != DefaultRenewDeadline || cfg.RetryPeriod != DefaultRetryPeriod {
		t.Errorf("Config() = %+v", cfg)
	}
}

func TestRunWithLeaderElectionDisabled(t *testing.T) {
	ran := false
	if err := RunWithLeaderElection(context.Background(), LeaderElectionConfig{}, func(context.Context) { ran = true }); err != nil || !ran {
		t.Errorf("RunWithLeaderElection = %v, ran %v; want nil, true", err, ran)
	}
	if err := RunWithLeaderElection(context.Background(), LeaderElectionConfig{Enabled: true}, func(context.Context) {}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("enabled without a client = %v, want ErrInvalidConfig", err)
	}
}

func fastElection(client *fake.Clientset, id string) LeaderElectionConfig {
	return LeaderElectionConfig{
		Enabled:       true,
		LeaseDuration: 2 * time.Second,
		RenewDeadline: time.Second,
		RetryPeriod:   100 * time.Millisecond,
		Name:          "hpa-engine-controller",
		Namespace:     "hpa-engine",
		Identity:      id,
		Leases:        client.CoordinationV1(),
	}
}

// TestLeaderElectionHandover: of two candidates only one runs; when the
// leader shuts down it releases the lease and the other takes over well
// within the lease duration; the two never run at once.
func TestLeaderElectionHandover(t *testing.T) {
	client := fake.NewClientset()
	var running, maxRunning atomic.Int32
	started := make(chan string, 2)
	run := func(id string) func(context.Context) {
		return func(ctx context.Context) {
			n := running.Add(1)
			for {
				m := maxRunning.Load()
				if n <= m || maxRunning.CompareAndSwap(m, n) {
					break
				}
			}
			started <- id
			<-ctx.Done()
			running.Add(-1)
		}
	}
	ctxA, cancelA := context.WithCancel(context.Background())
	ctxB, cancelB := context.WithCancel(context.Background())
	defer cancelB()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(1)
	go func() { defer wg.Done(); errs[0] = RunWithLeaderElection(ctxA, fastElection(client, "a"), run("a")) }()
	if id := waitFor(t, started); id != "a" {
		t.Fatalf("first leader %q, want a", id)
	}
	wg.Add(1)
	go func() { defer wg.Done(); errs[1] = RunWithLeaderElection(ctxB, fastElection(client, "b"), run("b")) }()
	select {
	case id := <-started:
		t.Fatalf("%s started while a leads", id)
	case <-time.After(1500 * time.Millisecond):
	}
	stop := time.Now()
	cancelA()
	if id := waitFor(t, started); id != "b" {
		t.Fatalf("second leader %q, want b", id)
	}
	if took := time.Since(stop); took > 2*time.Second {
		t.Errorf("takeover took %s, want less than the lease duration", took)
	}
	cancelB()
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Errorf("RunWithLeaderElection = %v, %v; want nil after shutdown", errs[0], errs[1])
	}
	if maxRunning.Load() != 1 {
		t.Errorf("%d candidates ran at once, want 1", maxRunning.Load())
	}
}

// TestLeaderElectionLost: a leader that cannot renew stops running and
// reports ErrLeadershipLost so that its process exits.
func TestLeaderElectionLost(t *testing.T) {
	client := fake.NewClientset()
	var failRenew atomic.Bool
	client.PrependReactor("update", "leases", func(clienttesting.Action) (bool, runtime.Object, error) {
		if failRenew.Load() {
			return true, nil, errors.New("apiserver unreachable")
		}
		return false, nil, nil
	})
	started := make(chan string, 1)
	stopped := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- RunWithLeaderElection(context.Background(), fastElection(client, "a"), func(ctx context.Context) {
			started <- "a"
			<-ctx.Done()
			close(stopped)
		})
	}()
	waitFor(t, started)
	failRenew.Store(true)
	select {
	case err := <-done:
		if !errors.Is(err, ErrLeadershipLost) {
			t.Errorf("RunWithLeaderElection = %v, want ErrLeadershipLost", err)
		}
		select {
		case <-stopped:
		default:
			t.Error("returned before run stopped")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("leadership never lost")
	}
}

func waitFor(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case id := <-ch:
		return id
	case <-time.After(5 * time.Second):
		t.Fatal("no leader elected")
		return ""
	}
}
