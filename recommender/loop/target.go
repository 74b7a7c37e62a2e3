package loop

import (
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	autoscalingv2listers "k8s.io/client-go/listers/autoscaling/v2"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// Target is one scaling target as a TargetSource sees it: an object whose
// spec is an autoscaling/v2 HorizontalPodAutoscalerSpec.
type Target struct {
	// Kind is KindHPA or KindAutoscaler; with Namespace and Name it keys the
	// target in the Store and in the metrics.
	Kind      string
	Namespace string
	Name      string
	// UID tells a recreated object from the old one: a new UID starts a new
	// history, as upstream's controller forgets a deleted HPA.
	UID types.UID
	// Generation is metadata.generation (it becomes observedGeneration).
	Generation int64
	// Spec and Status are the object's; the loop never mutates them (they
	// may come straight from an informer cache).
	Spec   autoscalingv2.HorizontalPodAutoscalerSpec
	Status autoscalingv2.HorizontalPodAutoscalerStatus
	// History, when set, is the history the object keeps itself (an
	// Autoscaler's status): the loop uses it instead of its own and records
	// no scale events, because whoever scales the target records them. Nil
	// for native HPAs, whose history upstream keeps only in memory.
	History *recommender.History
}

// TargetSource lists the targets of one kind from a cache. Targets must not
// block on the API server: it is called at every cycle.
type TargetSource interface {
	// Kind is the Kind of every target the source returns.
	Kind() string
	// Targets returns the current targets.
	Targets() ([]Target, error)
}

// HPASource lists native autoscaling/v2 HorizontalPodAutoscalers from an
// informer's lister. It only reads them: the loop never writes to an HPA.
type HPASource struct {
	lister autoscalingv2listers.HorizontalPodAutoscalerLister
}

var _ TargetSource = (*HPASource)(nil)

// NewHPASource returns a source over the lister of an autoscaling/v2 HPA
// informer, which its caller starts and syncs.
func NewHPASource(lister autoscalingv2listers.HorizontalPodAutoscalerLister) *HPASource {
	return &HPASource{lister: lister}
}

// Kind implements TargetSource.
func (s *HPASource) Kind() string { return KindHPA }

// Targets implements TargetSource.
func (s *HPASource) Targets() ([]Target, error) {
	hpas, err := s.lister.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("list horizontal pod autoscalers: %w", err)
	}
	out := make([]Target, 0, len(hpas))
	for _, h := range hpas {
		out = append(out, Target{
			Kind:       KindHPA,
			Namespace:  h.Namespace,
			Name:       h.Name,
			UID:        h.UID,
			Generation: h.Generation,
			Spec:       h.Spec,
			Status:     h.Status,
		})
	}
	return out, nil
}
