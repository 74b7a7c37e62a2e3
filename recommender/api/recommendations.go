package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/hpa-engine/hpa-engine/recommender"
	"github.com/hpa-engine/hpa-engine/recommender/loop"
)

// Recommendation is one target's latest recommendation as the API serves it:
// the loop's record plus the explanation rendered for people.
type Recommendation struct {
	Namespace string `json:"namespace"`
	// Kind is HorizontalPodAutoscaler or Autoscaler.
	Kind string `json:"kind"`
	Name string `json:"name"`
	// ScaleTargetRef is the workload the target scales.
	ScaleTargetRef autoscalingv2.CrossVersionObjectReference `json:"scaleTargetRef"`
	// ComputedAt is the time the recommendation was computed for.
	ComputedAt time.Time `json:"computedAt"`
	// Result is the algorithm's output; absent when Error is set.
	Result *recommender.Result `json:"result,omitempty"`
	// Explanation is Result rendered as text, one line per fact.
	Explanation []string `json:"explanation,omitempty"`
	// Error says why nothing could be computed for the target.
	Error string `json:"error,omitempty"`
}

// RecommendationList is the answer to GET /api/v1/recommendations, sorted by
// namespace, kind and name.
type RecommendationList struct {
	Items []Recommendation `json:"items"`
}

// kinds are the target kinds the API knows, as Kubernetes spells them
// (case-sensitive).
var kinds = []string{loop.KindHPA, loop.KindAutoscaler}

func fromLoop(r loop.Recommendation) Recommendation {
	out := Recommendation{
		Namespace:      r.Namespace,
		Kind:           r.Kind,
		Name:           r.Name,
		ScaleTargetRef: r.ScaleTargetRef,
		ComputedAt:     r.ComputedAt,
		Error:          r.Error,
	}
	if r.Error == "" {
		res := r.Result
		out.Result = &res
		out.Explanation = res.Lines()
	}
	return out
}

func (s *server) list(w http.ResponseWriter, req *http.Request) {
	q, err := queryParams(req, "namespace", "kind")
	if err != nil {
		writeError(w, err)
		return
	}
	namespace, kind := q["namespace"], q["kind"]
	if kind != "" {
		if err := checkKind(kind); err != nil {
			writeError(w, err)
			return
		}
	}
	if namespace != "" {
		if errs := validation.IsDNS1123Label(namespace); len(errs) > 0 {
			writeError(w, badRequest(fmt.Sprintf("namespace %q: %s", namespace, strings.Join(errs, "; "))))
			return
		}
	}
	recs := s.store.List(namespace, kind)
	out := RecommendationList{Items: make([]Recommendation, 0, len(recs))}
	for _, r := range recs {
		out.Items = append(out.Items, fromLoop(r))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) get(w http.ResponseWriter, req *http.Request) {
	if _, err := queryParams(req); err != nil {
		writeError(w, err)
		return
	}
	var parts [3]string
	for i, p := range []string{"namespace", "kind", "name"} {
		v, err := url.PathUnescape(chi.URLParam(req, p))
		if err != nil {
			writeError(w, badRequest(fmt.Sprintf("%s: %v", p, err)))
			return
		}
		parts[i] = v
	}
	namespace, kind, name := parts[0], parts[1], parts[2]
	if err := checkKind(kind); err != nil {
		writeError(w, err)
		return
	}
	r, ok := s.store.Get(namespace, kind, name)
	if !ok {
		writeError(w, notFound(fmt.Sprintf("no recommendation for %s %s/%s", kind, namespace, name)))
		return
	}
	writeJSON(w, http.StatusOK, fromLoop(r))
}

func checkKind(kind string) *apiError {
	if slices.Contains(kinds, kind) {
		return nil
	}
	return badRequest(fmt.Sprintf("unknown kind %q: must be one of %s (case-sensitive)", kind, strings.Join(kinds, ", ")))
}

// queryParams returns the allowed query parameters, each given at most once.
// Unknown parameters are rejected rather than ignored, so that a typo
// (?namespaces=) does not silently widen a query.
func queryParams(req *http.Request, allowed ...string) (map[string]string, *apiError) {
	q, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		return nil, badRequest(fmt.Sprintf("query: %v", err))
	}
	out := make(map[string]string, len(q))
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return nil, badRequest(fmt.Sprintf("unknown query parameter %q: this route takes none", k))
			}
			return nil, badRequest(fmt.Sprintf("unknown query parameter %q: allowed are %s", k, strings.Join(allowed, ", ")))
		}
		if len(q[k]) > 1 {
			return nil, badRequest(fmt.Sprintf("query parameter %q given %d times", k, len(q[k])))
		}
		out[k] = q[k][0]
	}
	return out, nil
}
