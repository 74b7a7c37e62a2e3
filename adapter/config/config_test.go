package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// golden compares got with the file, or rewrites the file under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test -update after checking the change)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestLoadValidGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := LoadFile(f)
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			golden(t, strings.TrimSuffix(f, ".yaml")+".golden", dump(cfg))
		})
	}
}

func TestLoadInvalidGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(data)
			if err == nil {
				t.Fatalf("Load accepted an invalid file:\n%s", dump(cfg))
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			if cfg != nil {
				t.Errorf("Load returned a config with its error")
			}
			golden(t, strings.TrimSuffix(f, ".yaml")+".golden", err.Error()+"\n")
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		want    string
		invalid bool
	}{
		{name: "missing file", path: "testdata/does-not-exist.yaml", want: `config "testdata/does-not-exist.yaml": open`, invalid: false},
		{name: "invalid file names the file", path: "testdata/invalid/unknown-field.yaml", want: `config "testdata/invalid/unknown-field.yaml": line 8: rules[0].metricQuery: unknown field`, invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFile(tt.path)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("LoadFile() error = %v, want prefix %q", err, tt.want)
			}
			if errors.Is(err, ErrInvalid) != tt.invalid {
				t.Errorf("errors.Is(err, ErrInvalid) = %v, want %v", !tt.invalid, tt.invalid)
			}
		})
	}
}

func TestFieldErrors(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		wantPath string
		wantLine int
		wantIs   error
	}{
		{
			name:     "unknown field",
			yaml:     "rules:\n- seriesQuery: up\n  metricQuery: x\n",
			wantPath: "rules[0].metricQuery", wantLine: 3, wantIs: ErrUnknownField,
		},
		{
			name:     "bad regexp names list index and field",
			yaml:     "rules:\n- seriesQuery: a\n  metricsQuery: x\n- seriesQuery: a\n  metricsQuery: x\n- seriesQuery: up\n  name: {matches: '(a'}\n  metricsQuery: x\n",
			wantPath: "rules[2].name.matches", wantLine: 7,
		},
		{
			name:     "missing as reported at its parent's line",
			yaml:     "externalRules:\n- seriesQuery: up\n  name:\n    matches: '(a)(b)'\n  metricsQuery: x\n",
			wantPath: "externalRules[0].name.as", wantLine: 3,
		},
		{
			name:     "override key with dots is quoted in the path",
			yaml:     "rules:\n- seriesQuery: up\n  resources:\n    overrides:\n      app.kubernetes.io/name: {resource: deployment, group: apps}\n  metricsQuery: x\n",
			wantPath: `rules[0].resources.overrides["app.kubernetes.io/name"]`, wantLine: 5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(tt.yaml))
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Load() error = %v, want a FieldError", err)
			}
			if fe.Path != tt.wantPath || fe.Line != tt.wantLine {
				t.Errorf("FieldError at %s line %d, want %s line %d (%v)", fe.Path, fe.Line, tt.wantPath, tt.wantLine, err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v does not wrap %v", err, tt.wantIs)
			}
		})
	}
}

func TestNameAsDefaults(t *testing.T) {
	tests := []struct {
		name    string
		matches string
		as      string
		want    string
	}{
		{name: "no matches", matches: "", want: "$0"},
		{name: "no capture group", matches: "^up$", want: "$0"},
		{name: "one capture group", matches: "^(.*)_total$", want: "$1"},
		{name: "non-capturing groups do not count", matches: "^(?:a|b)_(.*)$", want: "$1"},
		{name: "explicit as kept", matches: "^(.*)_(total)$", as: "${1}_per_second", want: "${1}_per_second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := fmt.Sprintf("rules:\n- seriesQuery: up\n  name: {matches: %q, as: %q}\n  metricsQuery: x\n", tt.matches, tt.as)
			cfg, err := Load([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Rules[0].NameAs; got != tt.want {
				t.Errorf("NameAs = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResourcesLabels(t *testing.T) {
	tests := []struct {
		name         string
		template     string
		label        string
		wantGroup    string
		wantResource string
		wantOK       bool
	}{
		{name: "group and resource", template: "kube_<<.Group>>_<<.Resource>>", label: "kube_apps_deployment", wantGroup: "apps", wantResource: "deployment", wantOK: true},
		{name: "resource only", template: "<<.Resource>>", label: "pod", wantResource: "pod", wantOK: true},
		{name: "prefix must match", template: "kubernetes_<<.Resource>>", label: "k8s_pod", wantOK: false},
		{name: "anchored at both ends", template: "kubernetes_<<.Resource>>", label: "x_kubernetes_pod", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load([]byte(fmt.Sprintf("rules:\n- seriesQuery: up\n  resources: {template: %q}\n  metricsQuery: x\n", tt.template)))
			if err != nil {
				t.Fatal(err)
			}
			g, r, ok := cfg.Rules[0].Resources.ParseLabel(tt.label)
			if g != tt.wantGroup || r != tt.wantResource || ok != tt.wantOK {
				t.Errorf("ParseLabel(%q) = %q, %q, %v; want %q, %q, %v", tt.label, g, r, ok, tt.wantGroup, tt.wantResource, tt.wantOK)
			}
		})
	}
	cfg, err := Load([]byte("rules:\n- seriesQuery: up\n  resources: {template: 'kube_<<.Group>>_<<.Resource>>'}\n  metricsQuery: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, group, resource, want string }{
		{name: "dots become underscores", group: "networking.k8s.io", resource: "ingress", want: "kube_networking_k8s_io_ingress"},
		{name: "dashes become underscores", group: "my-group.example.com", resource: "widget", want: "kube_my_group_example_com_widget"},
		{name: "core group is empty", group: "", resource: "pod", want: "kube__pod"},
	} {
		t.Run("FormatLabel "+tt.name, func(t *testing.T) {
			got, err := cfg.Rules[0].Resources.FormatLabel(tt.group, tt.resource)
			if err != nil || got != tt.want {
				t.Errorf("FormatLabel(%q, %q) = %q, %v; want %q", tt.group, tt.resource, got, err, tt.want)
			}
		})
	}
}

func TestBackendLookup(t *testing.T) {
	cfg, err := LoadFile("testdata/valid/backends.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		lookup string
		wantOK bool
	}{
		{name: "declared", lookup: "mimir", wantOK: true},
		{name: "undeclared", lookup: "cortex", wantOK: false},
		{name: "default is not listed", lookup: "", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := cfg.Backend(tt.lookup)
			if ok != tt.wantOK || (ok && b.Name != tt.lookup) {
				t.Errorf("Backend(%q) = %v, %v; want ok=%v", tt.lookup, b, ok, tt.wantOK)
			}
		})
	}
}

// dump renders a compiled Config deterministically for golden files.
func dump(c *Config) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	if c.MetricsRelistInterval != 0 {
		p("metricsRelistInterval: %s", c.MetricsRelistInterval)
	}
	for _, be := range c.Backends {
		p("backend %s: url=%s timeout=%s bearerTokenFile=%q", be.Name, be.URL, be.Timeout, be.BearerTokenFile)
		for _, k := range sortedKeys(be.Headers) {
			p("  header %s: %s", k, be.Headers[k])
		}
		if be.BasicAuth != nil {
			p("  basicAuth: username=%s passwordFile=%s", be.BasicAuth.Username, be.BasicAuth.PasswordFile)
		}
		if be.TLS != nil {
			p("  tls: %+v", *be.TLS)
		}
	}
	for _, list := range [][]*Rule{c.Rules, c.ExternalRules} {
		for _, r := range list {
			p("%s:", r.ID())
			p("  seriesQuery: %s", r.SeriesQuery)
			for _, f := range r.SeriesFilters {
				p("  filter: keep=%v %s", f.Keep, f.Regexp)
			}
			p("  name: matches=%s as=%s", r.NameMatches, r.NameAs)
			dumpResources(p, "  ", r.Resources)
			p("  metricsQuery: %s", r.MetricsQueryText)
			p("  backend: %q", r.Backend)
		}
	}
	if rr := c.ResourceRules; rr != nil {
		p("resourceRules: window=%s", rr.Window)
		for _, q := range []struct {
			name string
			q    *ResourceQuery
		}{{"cpu", rr.CPU}, {"memory", rr.Memory}} {
			p("  %s: containerLabel=%s", q.name, q.q.ContainerLabel)
			p("    containerQuery: %s", strings.TrimSpace(q.q.ContainerQueryText))
			p("    nodeQuery: %s", strings.TrimSpace(q.q.NodeQueryText))
			dumpResources(p, "    ", q.q.Resources)
		}
	}
	for _, w := range c.Warnings {
		p("warning: %s", w)
	}
	return b.String()
}

func dumpResources(p func(string, ...any), indent string, r *Resources) {
	p("%sresources: template=%q namespaced=%v", indent, r.TemplateText, r.Namespaced)
	labels := make([]string, 0, len(r.Overrides))
	for l := range r.Overrides {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		p("%s  override %s -> %s", indent, l, r.Overrides[l])
	}
}
