package demo

import (
	"testing"
	"time"

	"github.com/hpa-engine/hpa-engine/adapter/config"
)

// TestAdapterConfigLoads loads the embedded configuration as the adapter
// does: strictly, with no rule that cannot serve anything.
func TestAdapterConfigLoads(t *testing.T) {
	cfg, err := config.Load(AdapterConfig())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(cfg.Warnings) > 0 {
		t.Errorf("warnings: %v", cfg.Warnings)
	}
}

func TestTargets(t *testing.T) {
	seen := map[string]bool{}
	for _, tt := range Targets() {
		t.Run(tt.Name, func(t *testing.T) {
			if seen[tt.Name] {
				t.Fatalf("target %s twice", tt.Name)
			}
			seen[tt.Name] = true
			a := tt.Autoscaler(30 * time.Second)
			if a.Name != tt.Name || a.Namespace != Namespace || a.Spec.ScaleTargetRef.Name != tt.Workload.Name || tt.Load.Name != tt.Name {
				t.Errorf("autoscaler %s/%s targets %s, load %s; want all %s in %s", a.Namespace, a.Name, a.Spec.ScaleTargetRef.Name, tt.Load.Name, tt.Name, Namespace)
			}
			if len(a.Spec.Metrics) != 1 {
				t.Fatalf("%d metrics, want 1", len(a.Spec.Metrics))
			}
			down := a.Spec.Behavior.ScaleDown.StabilizationWindowSeconds
			if down == nil || *down != 30 {
				t.Errorf("scale-down window %v, want 30 s", down)
			}
			if lo := *a.Spec.MinReplicas; lo < 1 || lo > tt.Workload.Replicas || a.Spec.MaxReplicas <= tt.Workload.Replicas {
				t.Errorf("bounds [%d, %d] with %d initial replicas leave no room to scale both ways", lo, a.Spec.MaxReplicas, tt.Workload.Replicas)
			}
		})
	}
	if len(seen) != 3 {
		t.Errorf("%d targets, want the three of the scenario", len(seen))
	}
}
