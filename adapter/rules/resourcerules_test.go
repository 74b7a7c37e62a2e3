package rules

import (
	"errors"
	"testing"

	"github.com/hpa-engine/hpa-engine/adapter/config"
)

// TestResourceRuleQueries renders prometheus-adapter's deployed
// resourceRules (deploy/manifests/config-map.yaml) the way its resource
// metrics provider does: pod label then containerLabel as .GroupBy for
// containers, the node label for nodes.
func TestResourceRuleQueries(t *testing.T) {
	cfg, err := config.LoadFile("testdata/resource-rules.yaml.in")
	if err != nil {
		t.Fatal(err)
	}
	mapper := BuiltinMapper()
	cpu := NewMapping(cfg.ResourceRules.CPU.Resources, mapper)
	mem := NewMapping(cfg.ResourceRules.Memory.Resources, mapper)

	tests := []struct {
		name      string
		render    func() (string, string, error)
		want      string
		wantLabel string
		wantErr   error
	}{
		{
			name: "cpu of two pods",
			render: func() (string, string, error) {
				return RenderContainerQuery(cfg.ResourceRules.CPU, cpu, "web", []string{"a", "b"})
			},
			want: `sum by (pod,container) (
  irate (
      container_cpu_usage_seconds_total{namespace="web",pod=~"a|b",container!="",pod!=""}[4m]
  )
)
`,
			wantLabel: "pod",
		},
		{
			name: "memory of one node",
			render: func() (string, string, error) {
				return RenderNodeQuery(cfg.ResourceRules.Memory, mem, []string{"node-1"})
			},
			want: `sum by (node) (
  node_memory_working_set_bytes{node="node-1"}
)
`,
			wantLabel: "node",
		},
		{
			name:    "no pods",
			render:  func() (string, string, error) { return RenderContainerQuery(cfg.ResourceRules.CPU, cpu, "web", nil) },
			wantErr: ErrInvalidName,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, label, err := tt.render()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want || label != tt.wantLabel {
				t.Errorf("got %q, label %q, err %v\nwant %q, label %q", got, label, err, tt.want, tt.wantLabel)
			}
		})
	}
}
