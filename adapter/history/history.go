package history

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sync"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/hpa-engine/hpa-engine/adapter/config"
	"github.com/hpa-engine/hpa-engine/adapter/rules"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
)

// Config is what a History reads with.
type Config struct {
	// Rules is the adapter's configuration, loaded by adapter/config.
	Rules *config.Config
	// PodName is a regular expression a pod's name must match, whole, for
	// its series to count towards a Pods metric's total; empty means
	// "^<scaleTargetRef.name>-.+$".
	PodName string
	// SeriesSelector, when set, narrows a Pods metric's series by their own
	// labels, as a metric selector does.
	SeriesSelector labels.Selector
}

// Deps are a History's collaborators.
type Deps struct {
	// Querier is the default backend (--prometheus-url). Required.
	Querier hpametrics.Querier
	// NewQuerier builds the queriers of the file's named backends; nil
	// refuses files that name backends.
	NewQuerier func(*config.Backend) (hpametrics.Querier, error)
	// Mapper resolves resources and kinds; nil means rules.BuiltinMapper(),
	// which knows the built-in kinds but no custom resource.
	Mapper meta.RESTMapper
}

// History reads metric history through the adapter's rules. It is safe for
// concurrent use; the series discovery of a range is done once and reused
// for every metric over the same range.
type History struct {
	rules    *config.Config
	podName  *regexp.Regexp
	series   labels.Selector
	queriers map[string]hpametrics.Querier
	mapper   meta.RESTMapper

	mu  sync.Mutex
	ix  *rules.Index
	ixR [2]time.Time
}

// New checks cfg and builds the queriers of the file's backends.
func New(cfg Config, deps Deps) (*History, error) {
	if cfg.Rules == nil {
		return nil, errors.New("history: no adapter configuration")
	}
	if deps.Querier == nil {
		return nil, errors.New("history: no querier")
	}
	h := &History{rules: cfg.Rules, series: cfg.SeriesSelector, mapper: deps.Mapper, queriers: map[string]hpametrics.Querier{"": deps.Querier}}
	if h.mapper == nil {
		h.mapper = rules.BuiltinMapper()
	}
	if cfg.PodName != "" {
		re, err := regexp.Compile("^(?:" + cfg.PodName + ")$")
		if err != nil {
			return nil, fmt.Errorf("pod name pattern %q: %w: %w", cfg.PodName, ErrBadRequest, err)
		}
		h.podName = re
	}
	if _, err := rules.SelectorMatchers(cfg.SeriesSelector); err != nil {
		return nil, fmt.Errorf("series selector %q: %w: %w", cfg.SeriesSelector, ErrBadRequest, err)
	}
	for _, b := range cfg.Rules.Backends {
		if deps.NewQuerier == nil {
			return nil, fmt.Errorf("backend %q: named backends are not supported here", b.Name)
		}
		q, err := deps.NewQuerier(b)
		if err != nil {
			return nil, fmt.Errorf("backend %q: %w", b.Name, err)
		}
		h.queriers[b.Name] = q
	}
	return h, nil
}

// Request asks for one metric of an autoscaler over a range.
type Request struct {
	// Namespace is the autoscaler's.
	Namespace      string
	ScaleTargetRef autoscalingv2.CrossVersionObjectReference
	Metric         autoscalingv2.MetricSpec
	// From, To and Step are the range query's: every step from From to To
	// inclusive. From should be a whole millisecond, as Prometheus resolves.
	From, To time.Time
	Step     time.Duration
}

// Steps is the number of steps of the request's range.
func (r Request) Steps() int {
	if r.Step <= 0 || r.To.Before(r.From) {
		return 0
	}
	return int(r.To.Sub(r.From)/r.Step) + 1
}

// Result is one metric's history.
type Result struct {
	// Query is the PromQL sent.
	Query string
	// Values has one entry per step: the values at that time, none when
	// there was no data. A Pods metric has one value (the total over the
	// target's pods) where any of them had data; an Object metric one; an
	// External metric one per series.
	Values [][]float64
	// Series is how many series contributed (for a Pods metric, how many
	// of the target's pods were found).
	Series int
}

// Range reads one metric's history with one range query.
func (h *History) Range(ctx context.Context, req Request) (Result, error) {
	n := req.Steps()
	if n == 0 {
		return Result{}, fmt.Errorf("range %s to %s by %s: %w", req.From, req.To, req.Step, ErrBadRequest)
	}
	ix, err := h.index(ctx, req.From, req.To)
	if err != nil {
		return Result{}, err
	}
	m := req.Metric
	switch m.Type {
	case autoscalingv2.PodsMetricSourceType:
		if m.Pods == nil {
			return Result{}, fmt.Errorf("pods metric without its source: %w", ErrBadRequest)
		}
		return h.pods(ctx, ix, req, n)
	case autoscalingv2.ObjectMetricSourceType:
		if m.Object == nil {
			return Result{}, fmt.Errorf("object metric without its source: %w", ErrBadRequest)
		}
		return h.object(ctx, ix, req, n)
	case autoscalingv2.ExternalMetricSourceType:
		if m.External == nil {
			return Result{}, fmt.Errorf("external metric without its source: %w", ErrBadRequest)
		}
		return h.external(ctx, ix, req, n)
	}
	return Result{}, fmt.Errorf("%s metrics: %w: utilization needs the pods' requests of the time, which no series holds", m.Type, ErrUnsupported)
}

var podsResource = schema.GroupResource{Resource: "pods"}

func (h *History) pods(ctx context.Context, ix *rules.Index, req Request, n int) (Result, error) {
	id := req.Metric.Pods.Metric
	cm, ok := ix.Custom(podsResource, id.Name)
	if !ok {
		return Result{}, fmt.Errorf("pods/%s: %w for the series listed from %s to %s", id.Name, ErrNoRule, req.From.Format(time.RFC3339), req.To.Format(time.RFC3339))
	}
	sel, err := selector(id.Selector)
	if err != nil {
		return Result{}, err
	}
	if h.series != nil && !h.series.Empty() {
		reqs, _ := h.series.Requirements()
		sel = sel.Add(reqs...)
	}
	podName := h.podName
	if podName == nil {
		if req.ScaleTargetRef.Name == "" {
			return Result{}, fmt.Errorf("pods/%s: no scale target name to match pod names with: %w", id.Name, ErrBadRequest)
		}
		podName = regexp.MustCompile("^" + regexp.QuoteMeta(req.ScaleTargetRef.Name) + "-.+$")
	}
	// The by-namespace form: its length does not grow with the pods, and
	// the pods that were the target's are kept below.
	query, err := rules.RenderCustom(cm, rules.CustomQuery{Namespace: req.Namespace, AllObjects: true, MetricSelector: sel})
	if err != nil {
		return Result{}, renderError("pods/"+id.Name, err)
	}
	series, err := h.queryRange(ctx, cm.Rule.Backend, query, req)
	if err != nil {
		return Result{}, err
	}
	res := Result{Query: query, Values: make([][]float64, n)}
	seen := map[string]bool{}
	for _, s := range series {
		pod := s.Labels[cm.ResourceLabel]
		if !podName.MatchString(pod) {
			continue
		}
		if !seen[pod] {
			seen[pod] = true
			res.Series++
		}
		for _, p := range s.Points {
			i, ok := index(req, n, p.Timestamp)
			if !ok || !finite(p.Value) {
				continue
			}
			if res.Values[i] == nil {
				res.Values[i] = []float64{0}
			}
			res.Values[i][0] += p.Value
		}
	}
	return res, nil
}

func (h *History) object(ctx context.Context, ix *rules.Index, req Request, n int) (Result, error) {
	m := req.Metric.Object
	ref := m.DescribedObject
	gk := schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind).GroupKind()
	q := rules.CustomQuery{Namespace: req.Namespace, Names: []string{ref.Name}}
	var gr schema.GroupResource
	if gk.Group == "" && gk.Kind == "Namespace" {
		// Upstream asks for the autoscaler's own namespace, whatever name
		// the reference gives; namespaces are root-scoped.
		gr, q = schema.GroupResource{Resource: "namespaces"}, rules.CustomQuery{Names: []string{req.Namespace}}
	} else {
		mapping, err := h.mapper.RESTMapping(gk)
		if err != nil {
			return Result{}, fmt.Errorf("object metric %s of %s: %w: %w", m.Metric.Name, gk, ErrUnsupported, err)
		}
		gr = mapping.Resource.GroupResource()
	}
	cm, ok := ix.Custom(gr, m.Metric.Name)
	if !ok {
		return Result{}, fmt.Errorf("%s/%s: %w for the series listed from %s to %s", gr, m.Metric.Name, ErrNoRule, req.From.Format(time.RFC3339), req.To.Format(time.RFC3339))
	}
	sel, err := selector(m.Metric.Selector)
	if err != nil {
		return Result{}, err
	}
	q.MetricSelector = sel
	query, err := rules.RenderCustom(cm, q)
	if err != nil {
		return Result{}, renderError(gr.String()+"/"+m.Metric.Name, err)
	}
	series, err := h.queryRange(ctx, cm.Rule.Backend, query, req)
	if err != nil {
		return Result{}, err
	}
	name := q.Names[0]
	// As the adapter's by-name answer: the series of the object, or a
	// single series without the resource label (a query that aggregated
	// it away still answers for the object its matchers named).
	var picked []hpametrics.Series
	var unlabelled []hpametrics.Series
	for _, s := range series {
		v, has := s.Labels[cm.ResourceLabel]
		switch {
		case v == name:
			picked = append(picked, s)
		case !has:
			unlabelled = append(unlabelled, s)
		}
	}
	if len(picked) == 0 && len(unlabelled) == 1 {
		picked = unlabelled
	}
	res := Result{Query: query, Values: make([][]float64, n), Series: len(picked)}
	for _, s := range picked {
		for _, p := range s.Points {
			i, ok := index(req, n, p.Timestamp)
			if ok && finite(p.Value) && res.Values[i] == nil {
				res.Values[i] = []float64{p.Value}
			}
		}
	}
	return res, nil
}

func (h *History) external(ctx context.Context, ix *rules.Index, req Request, n int) (Result, error) {
	id := req.Metric.External.Metric
	em, ok := ix.External(id.Name)
	if !ok {
		return Result{}, fmt.Errorf("external metric %s: %w for the series listed from %s to %s", id.Name, ErrNoRule, req.From.Format(time.RFC3339), req.To.Format(time.RFC3339))
	}
	sel, err := selector(id.Selector)
	if err != nil {
		return Result{}, err
	}
	query, err := rules.RenderExternal(em, req.Namespace, sel)
	if err != nil {
		return Result{}, renderError("external metric "+id.Name, err)
	}
	series, err := h.queryRange(ctx, em.Rule.Backend, query, req)
	if err != nil {
		return Result{}, err
	}
	res := Result{Query: query, Values: make([][]float64, n), Series: len(series)}
	for _, s := range series {
		for _, p := range s.Points {
			if i, ok := index(req, n, p.Timestamp); ok && finite(p.Value) {
				res.Values[i] = append(res.Values[i], p.Value)
			}
		}
	}
	return res, nil
}

// index lists the series of every seriesQuery over [from, to] and maps them
// through the rules, once per range.
func (h *History) index(ctx context.Context, from, to time.Time) (*rules.Index, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ix != nil && h.ixR == [2]time.Time{from, to} {
		return h.ix, nil
	}
	listed := map[rules.QueryKey][]rules.Series{}
	for _, k := range rules.SeriesQueries(h.rules) {
		q, ok := h.queriers[k.Backend]
		if !ok {
			return nil, fmt.Errorf("series %q: no querier for backend %q", k.SeriesQuery, k.Backend)
		}
		sets, err := q.Series(ctx, k.SeriesQuery, from, to)
		if err != nil {
			return nil, promError(fmt.Errorf("series %q: %w", k.SeriesQuery, err))
		}
		listed[k] = rules.DistinctSeries(sets)
	}
	h.ix, h.ixR = rules.NewIndex(h.rules, listed, h.mapper), [2]time.Time{from, to}
	return h.ix, nil
}

func (h *History) queryRange(ctx context.Context, backend, query string, req Request) ([]hpametrics.Series, error) {
	q, ok := h.queriers[backend]
	if !ok {
		return nil, fmt.Errorf("query %q: no querier for backend %q", query, backend)
	}
	series, err := q.QueryRange(ctx, query, req.From, req.To, req.Step)
	if err != nil {
		return nil, promError(err)
	}
	return series, nil
}

// promError marks what Prometheus could not answer, whatever the query.
func promError(err error) error {
	if errors.Is(err, hpametrics.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// index returns the step a point belongs to: Prometheus evaluates a range
// query at From + k x Step exactly, to the millisecond.
func index(req Request, n int, t time.Time) (int, bool) {
	d := t.Sub(req.From)
	k := int((d + req.Step/2) / req.Step)
	if k < 0 || k >= n {
		return 0, false
	}
	off := d - time.Duration(k)*req.Step
	return k, off > -time.Millisecond && off < time.Millisecond
}

// selector parses an HPA metric selector as the HPA sends it: nil selects
// everything.
func selector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		// LabelSelectorAsSelector makes nil select nothing.
		return labels.Everything(), nil
	}
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return nil, fmt.Errorf("metric selector: %w: %w", ErrBadRequest, err)
	}
	return sel, nil
}

func renderError(what string, err error) error {
	if errors.Is(err, rules.ErrUnsupportedSelector) || errors.Is(err, rules.ErrInvalidName) {
		return fmt.Errorf("%s: %w: %w", what, ErrBadRequest, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
