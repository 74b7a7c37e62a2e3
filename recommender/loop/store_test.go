package loop

import (
	"fmt"
	"testing"
)

func TestMemoryStoreListGet(t *testing.T) {
	s := NewMemoryStore()
	s.Replace([]Recommendation{
		{Namespace: "b", Kind: KindHPA, Name: "web"},
		{Namespace: "a", Kind: KindHPA, Name: "web"},
		{Namespace: "a", Kind: KindAutoscaler, Name: "web"},
		{Namespace: "a", Kind: KindHPA, Name: "api"},
	})
	tests := []struct {
		name            string
		namespace, kind string
		want            []string
	}{
		{name: "all, sorted by namespace, kind, name", want: []string{"a/Autoscaler/web", "a/HorizontalPodAutoscaler/api", "a/HorizontalPodAutoscaler/web", "b/HorizontalPodAutoscaler/web"}},
		{name: "one namespace", namespace: "b", want: []string{"b/HorizontalPodAutoscaler/web"}},
		{name: "one kind", kind: KindAutoscaler, want: []string{"a/Autoscaler/web"}},
		{name: "namespace and kind", namespace: "a", kind: KindHPA, want: []string{"a/HorizontalPodAutoscaler/api", "a/HorizontalPodAutoscaler/web"}},
		{name: "nothing matches", namespace: "c", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []string{}
			for _, r := range s.List(tt.namespace, tt.kind) {
				got = append(got, fmt.Sprintf("%s/%s/%s", r.Namespace, r.Kind, r.Name))
			}
			if !equalStrings(got, tt.want) {
				t.Errorf("List(%q, %q) = %q, want %q", tt.namespace, tt.kind, got, tt.want)
			}
		})
	}

	if _, ok := s.Get("a", KindHPA, "web"); !ok {
		t.Error("Get of a stored target: not found")
	}
	if _, ok := s.Get("a", KindAutoscaler, "api"); ok {
		t.Error("Get of a target never stored: found")
	}
	s.Put(Recommendation{Namespace: "c", Kind: KindHPA, Name: "x", Error: "e"})
	if r, ok := s.Get("c", KindHPA, "x"); !ok || r.Error != "e" {
		t.Errorf("Get after Put = %+v, %v", r, ok)
	}
	s.Delete("c", KindHPA, "x")
	if _, ok := s.Get("c", KindHPA, "x"); ok {
		t.Error("Get after Delete: found")
	}
	s.Replace(nil)
	if got := s.List("", ""); len(got) != 0 {
		t.Errorf("List after Replace(nil) = %d items", len(got))
	}
}
