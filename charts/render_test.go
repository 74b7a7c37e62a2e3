package charts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

const (
	// chartDir is the chart, relative to this package.
	chartDir = "hpa-engine"
	// releaseName and releaseNamespace are the release every test renders;
	// the certificate of ci/provided-tls-values.yaml names them.
	releaseName      = "hpa-engine"
	releaseNamespace = "hpa-engine"
	// kubeVersion is the Kubernetes release the engine is built against.
	kubeVersion = "v1.37.2"
)

// rendering is one rendering of the chart: every template's output by file
// name, NOTES.txt included, and the objects parsed from the manifests.
type rendering struct {
	files   map[string]string
	objects []*unstructured.Unstructured
}

// valuesFiles returns "" (the chart's defaults) and every ci/*-values.yaml.
func valuesFiles(t *testing.T) []string {
	t.Helper()
	ci, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ci) == 0 {
		t.Fatal("no ci/*-values.yaml files")
	}
	return append([]string{""}, ci...)
}

// caseName names a values file in subtest names.
func caseName(valuesFile string) string {
	if valuesFile == "" {
		return "defaults"
	}
	return strings.TrimSuffix(filepath.Base(valuesFile), "-values.yaml")
}

// readValues reads a values file; "" is no user values.
func readValues(t *testing.T, valuesFile string) map[string]any {
	t.Helper()
	if valuesFile == "" {
		return map[string]any{}
	}
	v, err := common.ReadValuesFile(valuesFile)
	if err != nil {
		t.Fatal(err)
	}
	return v.AsMap()
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	return c
}

// renderValues renders the chart as `helm template` does (no cluster:
// lookup finds nothing), validating values against values.schema.json and
// failing on a reference to a value that does not exist.
func renderValues(c *chart.Chart, vals map[string]any) (*rendering, error) {
	return renderWith(engine.Engine{Strict: true}, c, vals)
}

// renderWith renders with eng, which may talk to a cluster (lookup).
func renderWith(eng engine.Engine, c *chart.Chart, vals map[string]any) (*rendering, error) {
	kv, err := common.ParseKubeVersion(kubeVersion)
	if err != nil {
		return nil, err
	}
	caps := common.DefaultCapabilities.Copy()
	caps.KubeVersion = *kv
	opts := common.ReleaseOptions{Name: releaseName, Namespace: releaseNamespace, Revision: 1, IsInstall: true}
	top, err := chartutil.ToRenderValuesWithSchemaValidation(c, vals, opts, caps, false)
	if err != nil {
		return nil, fmt.Errorf("values: %w", err)
	}
	files, err := eng.RenderWithContext(context.Background(), c, top)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	r := &rendering{files: files}
	for _, name := range r.manifestNames() {
		objs, err := parseManifests(files[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		r.objects = append(r.objects, objs...)
	}
	return r, nil
}

// render renders the chart with a values file ("" for the defaults).
func render(t *testing.T, valuesFile string) *rendering {
	t.Helper()
	r, err := renderValues(loadChart(t), readValues(t, valuesFile))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// manifestNames are the rendered templates that hold manifests, sorted.
func (r *rendering) manifestNames() []string {
	var names []string
	for name, out := range r.files {
		if strings.HasSuffix(name, "NOTES.txt") || strings.TrimSpace(out) == "" {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// notes is the rendered NOTES.txt.
func (r *rendering) notes() string { return r.files[chartDir+"/templates/NOTES.txt"] }

// find returns the objects of a kind, in rendering order.
func (r *rendering) find(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range r.objects {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// get returns the one object of a kind and name, failing the test if absent.
func (r *rendering) get(t *testing.T, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range r.find(kind) {
		if o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %q rendered", kind, name)
	return nil
}

// parseManifests splits a YAML stream into objects, skipping empty documents.
func parseManifests(s string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(s), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// manifest joins the rendered manifests as `helm template` prints them,
// leaving out the templates in skip.
func (r *rendering) manifest(skip ...string) []byte {
	var b bytes.Buffer
	for _, name := range r.manifestNames() {
		if slices.Contains(skip, name) {
			continue
		}
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", name, strings.TrimSpace(r.files[name]))
	}
	return b.Bytes()
}

// dashboardFiles are the dashboards shipped in the chart (none until `make
// sync-dashboards` has copied them).
func dashboardFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(chartDir, "dashboards", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
