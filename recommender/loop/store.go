package loop

import (
	"slices"
	"strings"
	"sync"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// Kinds of targets the loop computes recommendations for.
const (
	// KindHPA is a native autoscaling/v2 HorizontalPodAutoscaler, observed
	// read-only.
	KindHPA = "HorizontalPodAutoscaler"
	// KindAutoscaler is the engine's own Autoscaler object
	// (autoscaling.hpa-engine.io/v1alpha1).
	KindAutoscaler = "Autoscaler"
)

// Recommendation is the loop's latest result for one target.
type Recommendation struct {
	Namespace string `json:"namespace"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	// ScaleTargetRef is the target's scale target, as its spec names it.
	ScaleTargetRef autoscalingv2.CrossVersionObjectReference `json:"scaleTargetRef"`
	// ComputedAt is the "now" the recommendation was computed at.
	ComputedAt time.Time `json:"computedAt"`
	// Result is the algorithm's output; zero when Error is set.
	Result recommender.Result `json:"result"`
	// Error says why nothing could be computed (the scale target is missing,
	// its scale could not be read, ...).
	Error string `json:"error,omitempty"`
}

// Store is what readers (REST, the scaler) see: the latest recommendation per
// target.
type Store interface {
	// List returns the recommendations in namespace of kind ("" matches
	// any), sorted by namespace, kind and name.
	List(namespace, kind string) []Recommendation
	// Get returns one target's recommendation.
	Get(namespace, kind, name string) (Recommendation, bool)
}

var _ Store = (*MemoryStore)(nil)

type storeKey struct{ namespace, kind, name string }

// MemoryStore is the in-memory Store the loop writes to. It is safe for
// concurrent use; readers get values they may keep (results are never
// mutated once stored).
type MemoryStore struct {
	mu   sync.RWMutex
	recs map[storeKey]Recommendation
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{recs: map[storeKey]Recommendation{}}
}

// List implements Store.
func (s *MemoryStore) List(namespace, kind string) []Recommendation {
	s.mu.RLock()
	out := make([]Recommendation, 0, len(s.recs))
	for k, r := range s.recs {
		if (namespace == "" || k.namespace == namespace) && (kind == "" || k.kind == kind) {
			out = append(out, r)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Recommendation) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// Get implements Store.
func (s *MemoryStore) Get(namespace, kind, name string) (Recommendation, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.recs[storeKey{namespace, kind, name}]
	return r, ok
}

// Put stores r as its target's latest recommendation.
func (s *MemoryStore) Put(r Recommendation) {
	s.mu.Lock()
	s.recs[storeKey{r.Namespace, r.Kind, r.Name}] = r
	s.mu.Unlock()
}

// Replace swaps the whole content for recs in one step, so that readers never
// see a half-updated cycle and vanished targets disappear.
func (s *MemoryStore) Replace(recs []Recommendation) {
	m := make(map[storeKey]Recommendation, len(recs))
	for _, r := range recs {
		m[storeKey{r.Namespace, r.Kind, r.Name}] = r
	}
	s.mu.Lock()
	s.recs = m
	s.mu.Unlock()
}

// Delete removes a target's recommendation.
func (s *MemoryStore) Delete(namespace, kind, name string) {
	s.mu.Lock()
	delete(s.recs, storeKey{namespace, kind, name})
	s.mu.Unlock()
}
