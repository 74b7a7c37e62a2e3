package rules

import (
	"errors"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/hpa-engine/hpa-engine/adapter/config"
)

// Mapping is one rule's label <-> group-resource association resolved
// against a ResourceMapper. It is immutable; build a new one when the
// cluster's resources change (each relist).
type Mapping struct {
	res    *config.Resources
	mapper ResourceMapper
	// byLabel and byResource hold the overrides, resolved.
	byLabel    map[string]schema.GroupResource
	byResource map[schema.GroupResource]string
	problems   []error
}

// NewMapping resolves a rule's overrides with the mapper. An override the
// mapper does not know (a CRD not installed yet) is left out and reported
// by Problems; prometheus-adapter refuses to start instead, which would
// make a missing CRD take every metric down.
func NewMapping(res *config.Resources, m ResourceMapper) *Mapping {
	mp := &Mapping{
		res:        res,
		mapper:     m,
		byLabel:    make(map[string]schema.GroupResource, len(res.Overrides)),
		byResource: make(map[schema.GroupResource]string, len(res.Overrides)),
	}
	labels := make([]string, 0, len(res.Overrides))
	for l := range res.Overrides {
		labels = append(labels, l)
	}
	// Sorted so that when two labels name one resource, the query label is
	// the same on every run (the first in order).
	sort.Strings(labels)
	for _, l := range labels {
		gr, err := NormalizeResource(m, res.Overrides[l])
		if err != nil {
			mp.problems = append(mp.problems, fmt.Errorf("override %q: %w", l, err))
			continue
		}
		mp.byLabel[l] = gr
		if _, taken := mp.byResource[gr]; !taken {
			mp.byResource[gr] = l
		}
	}
	return mp
}

// Problems returns the overrides the mapper could not resolve.
func (m *Mapping) Problems() []error { return m.problems }

// ResourceForLabel returns the group-resource a label names: its override
// if it has one, otherwise what the template extracts, resolved by the
// mapper. It returns false for labels that name no known resource.
func (m *Mapping) ResourceForLabel(label string) (schema.GroupResource, bool) {
	if gr, ok := m.byLabel[label]; ok {
		return gr, true
	}
	if _, overridden := m.res.Overrides[label]; overridden {
		return schema.GroupResource{}, false // an override the mapper did not resolve
	}
	group, resource, ok := m.res.ParseLabel(label)
	if !ok {
		return schema.GroupResource{}, false
	}
	gr, err := NormalizeResource(m.mapper, schema.GroupResource{Group: group, Resource: resource})
	if err != nil {
		return schema.GroupResource{}, false
	}
	return gr, true
}

// LabelForResource returns the label that holds names of a canonical
// group-resource: the override's label if one names it, otherwise the
// template rendered with the singular resource. Without either it returns
// an error wrapping ErrNoLabel.
func (m *Mapping) LabelForResource(gr schema.GroupResource) (string, error) {
	if l, ok := m.byResource[gr]; ok {
		return l, nil
	}
	if m.res.Template == nil {
		return "", fmt.Errorf("%w %s: no override names it and the rule has no template", ErrNoLabel, gr)
	}
	if m.mapper == nil {
		return "", fmt.Errorf("singular of %s: %w", gr, errNoMapper)
	}
	singular, err := m.mapper.ResourceSingularizer(gr.Resource)
	if err != nil {
		return "", fmt.Errorf("singular of %s: %w", gr, err)
	}
	return m.res.FormatLabel(gr.Group, singular)
}

// NamespaceLabel returns the label that holds namespace names. When the rule
// maps none, it falls back to "namespace": prometheus-adapter fails every
// namespaced query of such a rule instead (a documented external-rules
// pitfall), while its documentation promises the namespace is matched.
func (m *Mapping) NamespaceLabel() (string, error) {
	l, err := m.LabelForResource(namespacesResource)
	if errors.Is(err, ErrNoLabel) {
		return "namespace", nil
	}
	return l, err
}

// Association is one resource a series' labels map to.
type Association struct {
	// Resource is the canonical group-resource.
	Resource schema.GroupResource
	// Label is the series label that named it.
	Label string
}

// Associations returns the resources a series with these label names maps
// to, one per label that names a resource, in label order. A series with
// "namespace" and "pod" labels yields namespaces and pods.
func (m *Mapping) Associations(labelNames []string) []Association {
	var out []Association
	for _, l := range labelNames {
		if gr, ok := m.ResourceForLabel(l); ok {
			out = append(out, Association{Resource: gr, Label: l})
		}
	}
	return out
}
