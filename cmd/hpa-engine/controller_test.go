package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/recommender"
	"github.com/hpa-engine/hpa-engine/scaler"
)

func TestControllerFlags(t *testing.T) {
	base := []string{"--config=c.yaml", "--prometheus-url=http://prometheus:9090"}
	tests := []struct {
		name    string
		args    []string
		wantErr string // substring; "" for valid
		check   func(t *testing.T, cfg controllerConfig)
	}{
		{
			name: "defaults are upstream's",
			args: base,
			check: func(t *testing.T, cfg controllerConfig) {
				s := cfg.Loop.Settings
				if cfg.Loop.SyncPeriod != 15*time.Second || *s.Tolerance != 0.1 ||
					s.CPUInitializationPeriod.Duration != 5*time.Minute || s.InitialReadinessDelay.Duration != 30*time.Second ||
					s.DownscaleStabilizationWindow.Duration != 5*time.Minute {
					t.Errorf("loop config %+v, settings tolerance %v cpu %v readiness %v downscale %v", cfg.Loop, *s.Tolerance,
						s.CPUInitializationPeriod, s.InitialReadinessDelay, s.DownscaleStabilizationWindow)
				}
				if cfg.REST.Address != ":8080" || cfg.Prometheus.Verb != "POST" || cfg.Provider.RelistInterval != time.Minute {
					t.Errorf("config %+v", cfg)
				}
			},
		},
		{
			name: "the HPA controller's tuning flags",
			args: append([]string{
				"--sync-period=30s", "--horizontal-pod-autoscaler-tolerance=0.05",
				"--horizontal-pod-autoscaler-cpu-initialization-period=2m", "--horizontal-pod-autoscaler-initial-readiness-delay=10s",
				"--horizontal-pod-autoscaler-downscale-stabilization=1m", "--rest-address=127.0.0.1:9000",
				"--kubeconfig=/kubeconfig", "--prometheus-header=X-Scope-OrgID=team-a", "-v=2",
			}, base...),
			check: func(t *testing.T, cfg controllerConfig) {
				s := cfg.Loop.Settings
				if cfg.Loop.SyncPeriod != 30*time.Second || *s.Tolerance != 0.05 ||
					s.CPUInitializationPeriod.Duration != 2*time.Minute || s.InitialReadinessDelay.Duration != 10*time.Second ||
					s.DownscaleStabilizationWindow.Duration != time.Minute {
					t.Errorf("loop config %+v", cfg.Loop)
				}
				if cfg.REST.Address != "127.0.0.1:9000" || cfg.Kubeconfig != "/kubeconfig" || cfg.Prometheus.Headers["X-Scope-OrgID"] != "team-a" {
					t.Errorf("config %+v", cfg)
				}
			},
		},
		{name: "no config", args: []string{"--prometheus-url=http://p:9090"}, wantErr: "--config is required"},
		{name: "no prometheus url", args: []string{"--config=c.yaml"}, wantErr: "prometheus url is required"},
		{name: "zero sync period", args: append([]string{"--sync-period=0s"}, base...), wantErr: "--sync-period"},
		{name: "negative tolerance", args: append([]string{"--horizontal-pod-autoscaler-tolerance=-0.1"}, base...), wantErr: "--horizontal-pod-autoscaler-tolerance"},
		{name: "negative readiness delay", args: append([]string{"--horizontal-pod-autoscaler-initial-readiness-delay=-1s"}, base...), wantErr: "--horizontal-pod-autoscaler-initial-readiness-delay"},
		{name: "bad rest address", args: append([]string{"--rest-address=nope"}, base...), wantErr: "--rest-address"},
		{name: "no workers", args: append([]string{"--workers=0"}, base...), wantErr: "--workers"},
		{
			name: "leader election off by default",
			args: base,
			check: func(t *testing.T, cfg controllerConfig) {
				le := cfg.LeaderElection
				if le.Enabled || le.LeaseDuration != scaler.DefaultLeaseDuration || le.Name != scaler.DefaultLeaseName || le.Namespace != scaler.DefaultLeaseNamespace {
					t.Errorf("leader election %+v", le)
				}
			},
		},
		{
			name: "leader election flags",
			args: append([]string{"--leader-elect", "--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s",
				"--leader-elect-retry-period=1s", "--leader-elect-resource-namespace=ops", "--leader-elect-resource-name=hpa"}, base...),
			check: func(t *testing.T, cfg controllerConfig) {
				le := cfg.LeaderElection
				if !le.Enabled || le.LeaseDuration != 4*time.Second || le.RenewDeadline != 3*time.Second || le.RetryPeriod != time.Second ||
					le.Namespace != "ops" || le.Name != "hpa" {
					t.Errorf("leader election %+v", le)
				}
			},
		},
		{name: "lease not longer than renew deadline", args: append([]string{"--leader-elect", "--leader-elect-lease-duration=3s", "--leader-elect-renew-deadline=3s"}, base...), wantErr: "--leader-elect-lease-duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newControllerOptions()
			if err := controllerCommand(o).Flags().Parse(tt.args); err != nil {
				t.Fatalf("parse: %v", err)
			}
			cfg, err := o.Config()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Config: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Config = %v, want an error with %q", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, cfg)
			}
		})
	}
}

func TestControllerDefaultsMatchRecommender(t *testing.T) {
	o := newControllerOptions()
	if o.Tolerance != recommender.DefaultTolerance || o.DownscaleStabilization != recommender.DefaultDownscaleStabilizationWindow {
		t.Errorf("defaults %+v", o)
	}
	if errs := o.Validate(); len(errs) != 2 {
		// Only --config and --prometheus-url have no default.
		t.Errorf("Validate of the defaults = %v, want the two required flags", errs)
	}
}

func TestRootHasController(t *testing.T) {
	cmd, _, err := newRootCommand().Find([]string{"controller"})
	if err != nil || cmd.Name() != "controller" {
		t.Fatalf("controller subcommand: %v, %v", cmd, err)
	}
	for _, f := range []string{"leader-elect", "leader-elect-lease-duration", "leader-elect-resource-namespace"} {
		if cmd.Flags().Lookup(f) == nil {
			t.Errorf("no --%s: the controller runs the scaler", f)
		}
	}
}

func TestStripManagedFields(t *testing.T) {
	pod := &corev1.Pod{}
	pod.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	out, err := stripManagedFields(pod)
	if err != nil || out.(*corev1.Pod).ManagedFields != nil {
		t.Errorf("stripManagedFields = %v, %v", out, err)
	}
	if out, err := stripManagedFields("not an object"); err != nil || out != "not an object" {
		t.Errorf("non-object: %v, %v", out, err)
	}
}

func TestServeHTTPStopsWithContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveHTTP(ctx, addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("status %d", resp.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not up: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serveHTTP = %v", err)
	}
}

func TestWaitForDiscoveryReturnsWhenReady(t *testing.T) {
	calls := 0
	start := time.Now()
	waitForDiscovery(context.Background(), func() error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if calls != 3 || time.Since(start) > 10*time.Second {
		t.Errorf("ready asked %d times over %s", calls, time.Since(start))
	}
}
