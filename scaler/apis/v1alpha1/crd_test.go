package v1alpha1_test

import (
	"context"
	"os"
	"strings"
	"testing"

	apiextensions "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	crdvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	schemavalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"

	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

const crdPath = "crd/autoscaling.hpa-engine.io_autoscalers.yaml"

// loadCRD decodes the generated CRD strictly as an apiextensions/v1 object
// and converts it to the internal version the API server validates.
func loadCRD(t *testing.T) (*apiextensionsv1.CustomResourceDefinition, *apiextensions.CustomResourceDefinition) {
	t.Helper()
	b, err := os.ReadFile(crdPath)
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(b, &crd); err != nil {
		t.Fatalf("decode %s: %v", crdPath, err)
	}
	// The API server records the stored version; validation expects it.
	crd.Status.StoredVersions = []string{v1alpha1.SchemeGroupVersion.Version}
	var internal apiextensions.CustomResourceDefinition
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(&crd, &internal, nil); err != nil {
		t.Fatalf("convert to internal: %v", err)
	}
	return &crd, &internal
}

// TestCRDIsValid runs the API server's own CRD validation: a structural
// schema, CEL rules that compile and stay within the cost limits.
func TestCRDIsValid(t *testing.T) {
	crd, internal := loadCRD(t)
	if errs := crdvalidation.ValidateCustomResourceDefinition(context.Background(), internal); len(errs) > 0 {
		t.Fatalf("the API server would refuse the CRD: %v", errs.ToAggregate())
	}

	if crd.Name != v1alpha1.Resource+"."+v1alpha1.GroupName || crd.Spec.Group != v1alpha1.GroupName ||
		crd.Spec.Names.Kind != v1alpha1.Kind || crd.Spec.Names.ListKind != v1alpha1.ListKind ||
		crd.Spec.Names.Plural != v1alpha1.Resource || crd.Spec.Scope != apiextensionsv1.NamespaceScoped {
		t.Fatalf("names = %s %+v %s, want %s", crd.Name, crd.Spec.Names, crd.Spec.Scope, v1alpha1.GroupVersionResource)
	}
	if got := crd.Spec.Names.ShortNames; len(got) != 1 || got[0] != "asc" {
		t.Fatalf("short names = %v, want [asc]", got)
	}
	if got := crd.Spec.Names.Categories; len(got) != 1 || got[0] != "hpa-engine" {
		t.Fatalf("categories = %v, want [hpa-engine]", got)
	}
	if len(crd.Spec.Versions) != 1 {
		t.Fatalf("versions = %d, want 1", len(crd.Spec.Versions))
	}
	v := crd.Spec.Versions[0]
	if v.Name != v1alpha1.SchemeGroupVersion.Version || !v.Served || !v.Storage {
		t.Fatalf("version %s served=%v storage=%v", v.Name, v.Served, v.Storage)
	}
	if v.Subresources == nil || v.Subresources.Status == nil || v.Subresources.Scale != nil {
		t.Fatalf("subresources = %+v, want status only", v.Subresources)
	}

	columns := map[string]string{}
	var defaultColumns []string
	for _, c := range v.AdditionalPrinterColumns {
		columns[c.Name] = c.JSONPath
		if c.Priority == 0 {
			defaultColumns = append(defaultColumns, c.Name)
		}
	}
	if got, want := strings.Join(defaultColumns, " "), "Reference Min Max Current Desired Age"; got != want {
		t.Fatalf("default printer columns = %q, want %q", got, want)
	}
	for name, path := range map[string]string{
		"Reference": ".spec.scaleTargetRef.name",
		"Kind":      ".spec.scaleTargetRef.kind",
		"Min":       ".spec.minReplicas",
		"Max":       ".spec.maxReplicas",
		"Current":   ".status.currentReplicas",
		"Desired":   ".status.desiredReplicas",
		"Age":       ".metadata.creationTimestamp",
	} {
		if columns[name] != path {
			t.Errorf("column %s = %q, want %q", name, columns[name], path)
		}
	}

	spec := v.Schema.OpenAPIV3Schema.Properties["spec"]
	var rules []string
	for _, r := range spec.XValidations {
		rules = append(rules, r.Rule)
	}
	if !strings.Contains(strings.Join(rules, "\n"), "self.minReplicas <= self.maxReplicas") {
		t.Fatalf("spec rules %q lack minReplicas <= maxReplicas", rules)
	}
	for _, list := range []string{"recommendations", "scaleUpEvents", "scaleDownEvents"} {
		p := v.Schema.OpenAPIV3Schema.Properties["status"].Properties["history"].Properties[list]
		if p.MaxItems == nil || *p.MaxItems != v1alpha1.MaxHistoryItems {
			t.Errorf("status.history.%s maxItems = %v, want %d", list, p.MaxItems, v1alpha1.MaxHistoryItems)
		}
	}
}

// validator applies the CRD's OpenAPI schema and CEL rules to objects, as
// the API server does on create.
type validator struct {
	schema schemavalidation.SchemaValidator
	cel    *cel.Validator
	s      *structuralschema.Structural
}

func newValidator(t *testing.T) *validator {
	t.Helper()
	_, internal := loadCRD(t)
	// With one version the internal form keeps the schema at the top.
	props := internal.Spec.Validation.OpenAPIV3Schema
	sv, _, err := schemavalidation.NewSchemaValidator(props)
	if err != nil {
		t.Fatal(err)
	}
	s, err := structuralschema.NewStructural(props)
	if err != nil {
		t.Fatal(err)
	}
	return &validator{schema: sv, cel: cel.NewValidator(s, true, celconfig.PerCallLimit), s: s}
}

func (v *validator) validate(obj map[string]any) field.ErrorList {
	errs := schemavalidation.ValidateCustomResource(nil, obj, v.schema)
	celErrs, _ := v.cel.Validate(context.Background(), nil, v.s, obj, nil, celconfig.RuntimeCELCostBudget)
	return append(errs, celErrs...)
}

// decodeLikeServer decodes YAML into the unstructured form the API server
// validates: integers as int64, not float64.
func decodeLikeServer(t *testing.T, b []byte) map[string]any {
	t.Helper()
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := utiljson.Unmarshal(j, &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestCRDValidation(t *testing.T) {
	v := newValidator(t)
	tests := []struct {
		name string
		// spec is the YAML of the object's spec.
		spec string
		// wantErr is a substring of the error; empty means valid.
		wantErr string
	}{
		{name: "minimal", spec: `{scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3}`},
		{name: "min equals max", spec: `{scaleTargetRef: {kind: Deployment, name: web}, minReplicas: 3, maxReplicas: 3, dryRun: true, paused: true}`},
		{name: "min above max", spec: `{scaleTargetRef: {kind: Deployment, name: web}, minReplicas: 4, maxReplicas: 3}`,
			wantErr: "maxReplicas must be greater than or equal to minReplicas"},
		{name: "max zero", spec: `{scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 0}`,
			wantErr: "spec.maxReplicas"},
		{name: "max missing", spec: `{scaleTargetRef: {kind: Deployment, name: web}}`,
			wantErr: "spec.maxReplicas: Required"},
		{name: "negative min", spec: `{scaleTargetRef: {kind: Deployment, name: web}, minReplicas: -1, maxReplicas: 3}`,
			wantErr: "spec.minReplicas"},
		{name: "target ref without name", spec: `{scaleTargetRef: {kind: Deployment}, maxReplicas: 3}`,
			wantErr: "spec.scaleTargetRef.name: Required"},
		{name: "empty metrics", spec: `{scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3, metrics: []}`,
			wantErr: "spec.metrics"},
		{name: "unknown metric type", spec: `{scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3, metrics: [{type: Foo}]}`,
			wantErr: "type must be one of Object, Pods, Resource, ContainerResource, External"},
		{name: "type without its source", spec: `{scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3, metrics: [{type: Pods}]}`,
			wantErr: "each metric must populate exactly the source its type names"},
		{name: "two sources", spec: `{scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3, metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}, pods: {metric: {name: qps}, target: {type: AverageValue, averageValue: "1"}}}]}`,
			wantErr: "each metric must populate exactly the source its type names"},
		{name: "bad target type", spec: `{scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3, metrics: [{type: Resource, resource: {name: cpu, target: {type: Percent}}}]}`,
			wantErr: "target type must be one of Utilization, Value, AverageValue"},
		{name: "zero utilization", spec: `{scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3, metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 0}}}]}`,
			wantErr: "averageUtilization must be greater than 0"},
		{name: "min zero without object or external metric", spec: `{scaleTargetRef: {kind: Deployment, name: web}, minReplicas: 0, maxReplicas: 3, metrics: [{type: Pods, pods: {metric: {name: qps}, target: {type: AverageValue, averageValue: "1"}}}]}`,
			wantErr: "minReplicas 0 needs at least one Object or External metric"},
		{name: "min zero with an external metric", spec: `{scaleTargetRef: {kind: Deployment, name: web}, minReplicas: 0, maxReplicas: 3, metrics: [{type: External, external: {metric: {name: queue}, target: {type: AverageValue, averageValue: "30"}}}]}`},
		{name: "window too long", spec: `{scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3, behavior: {scaleDown: {stabilizationWindowSeconds: 3601}}}`,
			wantErr: "stabilizationWindowSeconds must be between 0 and 3600"},
		{name: "bad select policy", spec: `{scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3, behavior: {scaleUp: {selectPolicy: Sometimes}}}`,
			wantErr: "selectPolicy must be one of Max, Min, Disabled"},
		{name: "policy period too long", spec: `{scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3, behavior: {scaleUp: {policies: [{type: Pods, value: 4, periodSeconds: 1801}]}}}`,
			wantErr: "policies need type Pods or Percent"},
		{name: "policy of unknown type", spec: `{scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3, behavior: {scaleDown: {policies: [{type: Replicas, value: 4, periodSeconds: 60}]}}}`,
			wantErr: "policies need type Pods or Percent"},
		{name: "policy value zero", spec: `{scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3, behavior: {scaleDown: {policies: [{type: Pods, value: 0, periodSeconds: 60}]}}}`,
			wantErr: "policies need type Pods or Percent"},
		{name: "policy fields valid", spec: `{scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3, behavior: {scaleUp: {stabilizationWindowSeconds: 0, selectPolicy: Disabled}, scaleDown: {stabilizationWindowSeconds: 3600, policies: [{type: Percent, value: 10, periodSeconds: 60}]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := decodeLikeServer(t, []byte(tt.spec))
			obj := map[string]any{
				"apiVersion": v1alpha1.SchemeGroupVersion.String(),
				"kind":       v1alpha1.Kind,
				"metadata":   map[string]any{"name": "a", "namespace": "ns"},
				"spec":       spec,
			}
			errs := v.validate(obj)
			switch {
			case tt.wantErr == "" && len(errs) > 0:
				t.Fatalf("valid object refused: %v", errs.ToAggregate())
			case tt.wantErr != "" && len(errs) == 0:
				t.Fatalf("invalid object accepted, want %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(errs.ToAggregate().Error(), tt.wantErr):
				t.Fatalf("errors %v, want one with %q", errs.ToAggregate(), tt.wantErr)
			}
		})
	}
}

// TestCRDAcceptsHPAManifest validates the HPA testdata, converted, against
// the CRD.
func TestCRDAcceptsHPAManifest(t *testing.T) {
	b, err := os.ReadFile("testdata/hpa.yaml")
	if err != nil {
		t.Fatal(err)
	}
	obj := decodeLikeServer(t, b)
	obj["apiVersion"] = v1alpha1.SchemeGroupVersion.String()
	obj["kind"] = v1alpha1.Kind
	if errs := newValidator(t).validate(obj); len(errs) > 0 {
		t.Fatalf("the converted HPA manifest is refused: %v", errs.ToAggregate())
	}
}
