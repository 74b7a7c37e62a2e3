package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadConfig checks that no input makes Load panic, and that it returns
// either a usable Config or an error wrapping ErrInvalid, never both or
// neither. Seeds: testdata/fuzz/FuzzLoadConfig plus every testdata file.
func FuzzLoadConfig(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Load(data)
		if err != nil {
			if cfg != nil {
				t.Fatalf("Load returned a config with error %v", err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if cfg == nil {
			t.Fatal("Load returned neither a config nor an error")
		}
		for _, list := range [][]*Rule{cfg.Rules, cfg.ExternalRules} {
			for _, r := range list {
				if r.NameMatches == nil || r.Resources == nil || r.SeriesQuery == "" {
					t.Fatalf("%s compiled incompletely: %+v", r.ID(), r)
				}
				if r.MetricsQueryText != "" && r.MetricsQuery == nil {
					t.Fatalf("%s: metricsQuery text without a template", r.ID())
				}
				for _, f := range r.SeriesFilters {
					if f.Regexp == nil {
						t.Fatalf("%s: filter without a regexp", r.ID())
					}
				}
			}
		}
		if rr := cfg.ResourceRules; rr != nil {
			for _, q := range []*ResourceQuery{rr.CPU, rr.Memory} {
				if q.ContainerQuery == nil || q.NodeQuery == nil || q.ContainerLabel == "" {
					t.Fatalf("resourceRules compiled incompletely: %+v", q)
				}
			}
		}
		for _, b := range cfg.Backends {
			if b.URL == nil || b.Name == "" {
				t.Fatalf("backend compiled incompletely: %+v", b)
			}
		}
	})
}
