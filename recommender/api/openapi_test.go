package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/recommender"
	"github.com/hpa-engine/hpa-engine/recommender/simulate"
)

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

func parseOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	return doc
}

// TestOpenAPIMatchesRoutes walks the router New builds (with every optional
// route mounted) and fails when a route is missing from the document or the
// document describes a route that is not served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := parseOpenAPI(t)
	h := newTestHandler(t, Config{}, Deps{Metrics: http.NotFoundHandler(), Ready: func() error { return nil }})
	routes, ok := h.(chi.Routes)
	if !ok {
		t.Fatalf("New returned %T, not a chi router", h)
	}
	served := map[string]bool{}
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		served[strings.ToLower(method)+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				documented[method+" "+path] = true
			}
		}
	}
	for r := range served {
		if !documented[r] {
			t.Errorf("route %q is served but not in openapi.json", r)
		}
	}
	for r := range documented {
		if !served[r] {
			t.Errorf("openapi.json describes %q, which is not served", r)
		}
	}
	if len(served) == 0 {
		t.Error("the router has no routes")
	}
}

// TestOpenAPIReferences checks that every $ref points at a schema the
// document defines.
func TestOpenAPIReferences(t *testing.T) {
	doc := parseOpenAPI(t)
	var raw any
	if err := json.Unmarshal(openAPIDocument, &raw); err != nil {
		t.Fatal(err)
	}
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					refs = append(refs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(raw)
	if len(refs) == 0 {
		t.Fatal("no $ref found")
	}
	for _, r := range refs {
		name, ok := strings.CutPrefix(r, "#/components/schemas/")
		if !ok {
			t.Errorf("$ref %q is not a local schema", r)
			continue
		}
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("$ref %q: no such schema", r)
		}
	}
}

// TestOpenAPISchemasMatchTypes keeps the hand-kept schemas honest: each one
// lists exactly the JSON fields of the Go type it describes.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := parseOpenAPI(t)
	types := map[string]any{
		"ErrorResponse":      ErrorResponse{},
		"ErrorBody":          ErrorBody{},
		"Cause":              Cause{},
		"RecommendationList": RecommendationList{},
		"Recommendation":     Recommendation{},
		"RecommendResponse":  RecommendResponse{},

		"Input":                     recommender.Input{},
		"Target":                    recommender.Target{},
		"Pod":                       recommender.Pod{},
		"PodReadyCondition":         recommender.PodReadyCondition{},
		"Container":                 recommender.Container{},
		"Observation":               recommender.Observation{},
		"PodMetric":                 recommender.PodMetric{},
		"Settings":                  recommender.Settings{},
		"History":                   recommender.History{},
		"TimestampedRecommendation": recommender.TimestampedRecommendation{},
		"ScaleEvent":                recommender.ScaleEvent{},
		"Result":                    recommender.Result{},
		"Proposal":                  recommender.Proposal{},
		"Step":                      recommender.Step{},

		"CrossVersionObjectReference":      autoscalingv2.CrossVersionObjectReference{},
		"HorizontalPodAutoscalerSpec":      autoscalingv2.HorizontalPodAutoscalerSpec{},
		"MetricSpec":                       autoscalingv2.MetricSpec{},
		"ObjectMetricSource":               autoscalingv2.ObjectMetricSource{},
		"PodsMetricSource":                 autoscalingv2.PodsMetricSource{},
		"ResourceMetricSource":             autoscalingv2.ResourceMetricSource{},
		"ContainerResourceMetricSource":    autoscalingv2.ContainerResourceMetricSource{},
		"ExternalMetricSource":             autoscalingv2.ExternalMetricSource{},
		"MetricIdentifier":                 autoscalingv2.MetricIdentifier{},
		"LabelSelector":                    metav1.LabelSelector{},
		"LabelSelectorRequirement":         metav1.LabelSelectorRequirement{},
		"MetricTarget":                     autoscalingv2.MetricTarget{},
		"HorizontalPodAutoscalerBehavior":  autoscalingv2.HorizontalPodAutoscalerBehavior{},
		"HPAScalingRules":                  autoscalingv2.HPAScalingRules{},
		"HPAScalingPolicy":                 autoscalingv2.HPAScalingPolicy{},
		"HorizontalPodAutoscalerStatus":    autoscalingv2.HorizontalPodAutoscalerStatus{},
		"MetricStatus":                     autoscalingv2.MetricStatus{},
		"ObjectMetricStatus":               autoscalingv2.ObjectMetricStatus{},
		"PodsMetricStatus":                 autoscalingv2.PodsMetricStatus{},
		"ResourceMetricStatus":             autoscalingv2.ResourceMetricStatus{},
		"ContainerResourceMetricStatus":    autoscalingv2.ContainerResourceMetricStatus{},
		"ExternalMetricStatus":             autoscalingv2.ExternalMetricStatus{},
		"MetricValueStatus":                autoscalingv2.MetricValueStatus{},
		"HorizontalPodAutoscalerCondition": autoscalingv2.HorizontalPodAutoscalerCondition{},
		"SimulateRequest":                  SimulateRequest{},
		"Timeline":                         simulate.Timeline{},
		"TimelineMetric":                   simulate.Metric{},
		"TimelineStep":                     simulate.Step{},
		"TimelineProposal":                 simulate.Proposal{},
	}
	for name, v := range types {
		t.Run(name, func(t *testing.T) {
			schema, ok := doc.Components.Schemas[name]
			if !ok {
				t.Fatalf("no schema %q in openapi.json", name)
			}
			var documented []string
			for p := range schema.Properties {
				documented = append(documented, p)
			}
			slices.Sort(documented)
			fields := jsonFields(reflect.TypeOf(v))
			if !slices.Equal(documented, fields) {
				t.Errorf("schema %s has properties\n  %v\nthe Go type has JSON fields\n  %v", name, documented, fields)
			}
		})
	}
}

// jsonFields lists the JSON names of a struct's fields, sorted.
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
