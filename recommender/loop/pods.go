package loop

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	corev1listers "k8s.io/client-go/listers/core/v1"
)

// podIndex answers "the pods of namespace ns that selector matches" for one
// cycle. The lister alone scans every pod of the namespace per target, which
// makes a cycle quadratic in the targets of a namespace; the index lists a
// namespace once and keeps its pods by label, so a selector with an equality
// requirement (every Deployment's) only looks at the pods carrying that
// label. The result is the same set the lister returns.
type podIndex struct {
	lister corev1listers.PodLister

	mu   sync.Mutex
	byNS map[string]*namespacePods
}

type namespacePods struct {
	once    sync.Once
	all     []*corev1.Pod
	byLabel map[labelPair][]*corev1.Pod
	err     error
}

type labelPair struct{ key, value string }

func newPodIndex(lister corev1listers.PodLister) *podIndex {
	return &podIndex{lister: lister, byNS: map[string]*namespacePods{}}
}

func (x *podIndex) namespace(ns string) *namespacePods {
	x.mu.Lock()
	n, ok := x.byNS[ns]
	if !ok {
		n = &namespacePods{}
		x.byNS[ns] = n
	}
	x.mu.Unlock()
	n.once.Do(func() {
		n.all, n.err = x.lister.Pods(ns).List(labels.Everything())
		if n.err != nil {
			return
		}
		n.byLabel = map[labelPair][]*corev1.Pod{}
		for _, p := range n.all {
			for k, v := range p.Labels {
				lp := labelPair{k, v}
				n.byLabel[lp] = append(n.byLabel[lp], p)
			}
		}
	})
	return n
}

// list returns the pods of ns that sel matches.
func (x *podIndex) list(ns string, sel labels.Selector) ([]*corev1.Pod, error) {
	n := x.namespace(ns)
	if n.err != nil {
		return nil, n.err
	}
	candidates := n.all
	if reqs, ok := sel.Requirements(); ok {
		for _, r := range reqs {
			switch r.Operator() {
			case selection.Equals, selection.DoubleEquals, selection.In:
				if r.Values().Len() != 1 {
					continue
				}
				v, _ := r.Values().PopAny()
				if c := n.byLabel[labelPair{r.Key(), v}]; len(c) < len(candidates) {
					candidates = c
				}
			}
		}
	}
	var out []*corev1.Pod
	for _, p := range candidates {
		if sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out, nil
}
