package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/hpa-engine/hpa-engine/adapter"
	"github.com/hpa-engine/hpa-engine/adapter/config"
	"github.com/hpa-engine/hpa-engine/adapter/rules"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
)

// Defaults of Config's zero values.
const (
	// DefaultRelistInterval is prometheus-adapter's manifests' value (its
	// code default, 10m, leaves new metrics undiscovered for too long).
	DefaultRelistInterval = time.Minute
	// DefaultSeriesMaxAge is how far back a series listing looks at least.
	// prometheus-adapter looks back one relist interval, which drops every
	// series scraped less often than that (or paused by a scrape failure)
	// from discovery; ten minutes stays inside Prometheus' head block, so
	// the listing costs the same.
	DefaultSeriesMaxAge = 10 * time.Minute
	// DefaultMaxQueryNames is the largest selection matched by name. At 100
	// names of up to 63 characters the matcher stays under 7 KB; beyond it
	// the query is by namespace, whose length does not depend on the
	// selection.
	DefaultMaxQueryNames = 100
	// maxQueryNameBytes bounds the name matcher in bytes too: object names
	// may be 253 characters long, and 100 of those would make a 25 KB
	// query.
	maxQueryNameBytes = 8 << 10
)

// Querier is what the provider needs of a Prometheus backend; every
// metrics.Querier is one.
type Querier interface {
	Query(ctx context.Context, query string, at time.Time) ([]hpametrics.Sample, error)
	Series(ctx context.Context, match string, start, end time.Time) ([]map[string]string, error)
}

var _ Querier = hpametrics.Querier(nil)

// Mapper resolves the resources of requests and rules and names the kind of
// described objects. Any meta.RESTMapper is one.
type Mapper interface {
	rules.ResourceMapper
	KindFor(resource schema.GroupVersionResource) (schema.GroupVersionKind, error)
}

// ObjectLister returns the names of the objects of a resource in a namespace
// ("" for cluster-scoped resources) that a label selector matches. It must
// answer from a cache: it is called for every selector request.
// ObjectCache is the informer-backed implementation.
type ObjectLister interface {
	ObjectNames(ctx context.Context, resource schema.GroupVersionResource, namespace string, selector labels.Selector) ([]string, error)
}

// Config is the provider's plain configuration.
type Config struct {
	// Rules is the configuration served from the start; SetConfig replaces
	// it. Required.
	Rules *config.Config
	// RelistInterval is how often series are listed when the file does not
	// set metricsRelistInterval; DefaultRelistInterval when zero.
	RelistInterval time.Duration
	// SeriesMaxAge is how far back a listing looks for series; when zero,
	// DefaultSeriesMaxAge or the relist interval, whichever is longer.
	SeriesMaxAge time.Duration
	// MaxQueryNames is the largest selection queried by object name;
	// DefaultMaxQueryNames when zero.
	MaxQueryNames int
}

// Deps are the provider's collaborators.
type Deps struct {
	// Querier is the default backend, --prometheus-url. Required.
	Querier Querier
	// NewQuerier builds the querier of a named backend of the file. Nil
	// makes a configuration with backends an error.
	NewQuerier func(*config.Backend) (Querier, error)
	// Mapper returns the cluster's current resource mapping; it is called
	// before each relist so that new resources (CRDs) appear, and a failure
	// keeps the previous mapping. Required.
	Mapper func(ctx context.Context) (Mapper, error)
	// Objects names the objects a selector matches. Required.
	Objects ObjectLister
	// Registerer receives the provider's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Provider serves the custom and external metrics APIs from Prometheus. Its
// methods are safe for concurrent use; requests read an immutable snapshot
// through an atomic pointer and never wait on discovery or reloads.
type Provider struct {
	cfg     Config
	deps    Deps
	metrics *providerMetrics
	started time.Time

	state atomic.Pointer[snapshot]
	ready atomic.Bool
	// relistNow asks Run for an early relist (after a reload).
	relistNow chan struct{}

	// mu serializes the writers of state (relists and reloads) and guards
	// series, the last successful listing of each series query.
	mu     sync.Mutex
	series map[rules.QueryKey][]rules.Series
	// problems is the last logged set of discovery problems, so that the
	// same problems are not logged every relist.
	problems []string
}

var (
	_ adapter.CustomMetricsProvider   = (*Provider)(nil)
	_ adapter.ExternalMetricsProvider = (*Provider)(nil)
)

// snapshot is everything a request reads, replaced as a whole.
type snapshot struct {
	rules    *config.Config
	backends map[string]*config.Backend
	queriers map[string]Querier // "" is the default backend
	mapper   Mapper             // nil until the first mapping succeeds
	index    *rules.Index
	custom   []adapter.CustomMetricInfo
	external []adapter.ExternalMetricInfo
}

// New builds a provider. It does not talk to Prometheus: Run (or Relist)
// does discovery, and until then no metric is served.
func New(cfg Config, deps Deps) (*Provider, error) {
	switch {
	case cfg.Rules == nil:
		return nil, errors.New("provider: no rules")
	case deps.Querier == nil:
		return nil, errors.New("provider: no default querier")
	case deps.Mapper == nil:
		return nil, errors.New("provider: no resource mapper")
	case deps.Objects == nil:
		return nil, errors.New("provider: no object lister")
	case cfg.RelistInterval < 0, cfg.SeriesMaxAge < 0, cfg.MaxQueryNames < 0:
		return nil, errors.New("provider: negative relist interval, series max age or max query names")
	}
	if cfg.RelistInterval == 0 {
		cfg.RelistInterval = DefaultRelistInterval
	}
	if cfg.MaxQueryNames == 0 {
		cfg.MaxQueryNames = DefaultMaxQueryNames
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	p := &Provider{
		cfg:       cfg,
		deps:      deps,
		started:   deps.Now(),
		relistNow: make(chan struct{}, 1),
		series:    map[rules.QueryKey][]rules.Series{},
	}
	p.metrics = newProviderMetrics(deps.Registerer, p.discoveryAge)
	backends, queriers, err := p.buildQueriers(cfg.Rules, nil)
	if err != nil {
		return nil, err
	}
	p.state.Store(newSnapshot(cfg.Rules, backends, queriers, nil, emptyIndex()))
	return p, nil
}

func emptyIndex() *rules.Index { return rules.NewIndex(&config.Config{}, nil, nil) }

func newSnapshot(cfg *config.Config, backends map[string]*config.Backend, queriers map[string]Querier, m Mapper, ix *rules.Index) *snapshot {
	s := &snapshot{rules: cfg, backends: backends, queriers: queriers, mapper: m, index: ix}
	for _, cm := range ix.CustomMetrics() {
		s.custom = append(s.custom, adapter.CustomMetricInfo{GroupResource: cm.Resource, Namespaced: cm.Namespaced, Metric: cm.Metric})
	}
	for _, em := range ix.ExternalMetrics() {
		s.external = append(s.external, adapter.ExternalMetricInfo{Metric: em.Metric})
	}
	return s
}

// buildQueriers returns the queriers of a configuration's backends, reusing
// those of prev whose settings did not change so that their connections and
// coalescing survive a reload.
func (p *Provider) buildQueriers(cfg *config.Config, prev *snapshot) (map[string]*config.Backend, map[string]Querier, error) {
	backends := map[string]*config.Backend{}
	queriers := map[string]Querier{"": p.deps.Querier}
	for _, b := range cfg.Backends {
		backends[b.Name] = b
		if prev != nil {
			if old, ok := prev.backends[b.Name]; ok && reflect.DeepEqual(old, b) {
				queriers[b.Name] = prev.queriers[b.Name]
				continue
			}
		}
		if p.deps.NewQuerier == nil {
			return nil, nil, fmt.Errorf("backend %q: named backends are not supported here", b.Name)
		}
		q, err := p.deps.NewQuerier(b)
		if err != nil {
			return nil, nil, fmt.Errorf("backend %q: %w", b.Name, err)
		}
		queriers[b.Name] = q
	}
	return backends, queriers, nil
}

// SetConfig swaps in a new configuration: its backends are built first (an
// error leaves the current configuration serving), the metrics its rules
// expose over the series already listed are served at once, and a relist
// is triggered for its new series queries.
func (p *Provider) SetConfig(cfg *config.Config) error {
	if cfg == nil {
		return errors.New("provider: nil configuration")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := p.state.Load()
	backends, queriers, err := p.buildQueriers(cfg, prev)
	if err != nil {
		return err
	}
	ix := emptyIndex()
	if prev.mapper != nil {
		ix = rules.NewIndex(cfg, p.series, prev.mapper)
	}
	p.store(newSnapshot(cfg, backends, queriers, prev.mapper, ix))
	select {
	case p.relistNow <- struct{}{}:
	default:
	}
	return nil
}

// store publishes a snapshot; callers hold mu.
func (p *Provider) store(s *snapshot) {
	p.state.Store(s)
	p.metrics.discovered.WithLabelValues("custom").Set(float64(len(s.custom)))
	p.metrics.discovered.WithLabelValues("external").Set(float64(len(s.external)))
}

// relistInterval is the file's interval when it sets one, else the flag's.
func (p *Provider) relistInterval() time.Duration {
	if d := p.state.Load().rules.MetricsRelistInterval; d > 0 {
		return d
	}
	return p.cfg.RelistInterval
}

// ListAllMetrics implements adapter.CustomMetricsProvider from the last
// discovery, without waiting.
func (p *Provider) ListAllMetrics() []adapter.CustomMetricInfo {
	return append([]adapter.CustomMetricInfo(nil), p.state.Load().custom...)
}

// ListAllExternalMetrics implements adapter.ExternalMetricsProvider from
// the last discovery, without waiting.
func (p *Provider) ListAllExternalMetrics() []adapter.ExternalMetricInfo {
	return append([]adapter.ExternalMetricInfo(nil), p.state.Load().external...)
}

// customTarget is a resolved custom metrics request.
type customTarget struct {
	metric  *rules.CustomMetric
	querier Querier
	gvr     schema.GroupVersionResource
	gvk     schema.GroupVersionKind
	// apiVersion and kind are gvk's wire form, computed once per request
	// rather than once per object of a selection.
	apiVersion, kind string
}

// resolveCustom finds the rule that serves a metric of a resource, as the
// request names them (singular, plural or group-qualified).
func (p *Provider) resolveCustom(info adapter.CustomMetricInfo) (customTarget, error) {
	s := p.state.Load()
	if s.mapper == nil {
		return customTarget{}, fmt.Errorf("metric %s: discovery has not run yet: %w", info, adapter.ErrMetricNotFound)
	}
	gvr, err := s.mapper.ResourceFor(info.GroupResource.WithVersion(""))
	if err != nil {
		return customTarget{}, fmt.Errorf("metric %s: resource %s: %w: %w", info, info.GroupResource, adapter.ErrMetricNotFound, err)
	}
	cm, ok := s.index.Custom(gvr.GroupResource(), info.Metric)
	if !ok {
		return customTarget{}, fmt.Errorf("metric %s: no rule exposes it: %w", info, adapter.ErrMetricNotFound)
	}
	if cm.Namespaced != info.Namespaced {
		scope := "cluster-scoped"
		if cm.Namespaced {
			scope = "namespaced"
		}
		return customTarget{}, fmt.Errorf("metric %s is served %s: %w", info, scope, adapter.ErrMetricNotFound)
	}
	gvk, err := s.mapper.KindFor(gvr)
	if err != nil {
		return customTarget{}, fmt.Errorf("metric %s: kind of %s: %w: %w", info, gvr, adapter.ErrMetricNotFound, err)
	}
	q, ok := s.queriers[cm.Rule.Backend]
	if !ok {
		return customTarget{}, fmt.Errorf("metric %s: %s: no querier for backend %q", info, cm.Rule.ID(), cm.Rule.Backend)
	}
	apiVersion, kind := gvk.ToAPIVersionAndKind()
	return customTarget{metric: cm, querier: q, gvr: gvr, gvk: gvk, apiVersion: apiVersion, kind: kind}, nil
}

// GetMetricByName implements adapter.CustomMetricsProvider: one query with
// the object's name matcher. No finite sample is ErrNoData, never 0.
func (p *Provider) GetMetricByName(ctx context.Context, object types.NamespacedName, info adapter.CustomMetricInfo, metricSelector labels.Selector) (adapter.CustomMetricValue, error) {
	t, err := p.resolveCustom(info)
	if err != nil {
		return adapter.CustomMetricValue{}, err
	}
	query, err := rules.RenderCustom(t.metric, rules.CustomQuery{
		Namespace:      object.Namespace,
		Names:          []string{object.Name},
		MetricSelector: metricSelector,
	})
	if err != nil {
		return adapter.CustomMetricValue{}, renderError(info.String(), err)
	}
	p.metrics.objectQueries.WithLabelValues(modeNames).Inc()
	samples, err := p.query(ctx, t.querier, query)
	if err != nil {
		return adapter.CustomMetricValue{}, err
	}
	window := QueryWindow(query)
	label := t.metric.ResourceLabel
	var unlabelled []hpametrics.Sample
	for _, s := range samples {
		if !finite(s.Value) {
			continue
		}
		name, has := s.Labels[label]
		switch {
		case name == object.Name:
			return t.value(object.Namespace, object.Name, s, window), nil
		case !has:
			unlabelled = append(unlabelled, s)
		}
	}
	// A query aggregated without the resource label still answers for this
	// object alone, since its matchers named it: accept a single such sample.
	if len(unlabelled) == 1 {
		return t.value(object.Namespace, object.Name, unlabelled[0], window), nil
	}
	return adapter.CustomMetricValue{}, fmt.Errorf("metric %s of %s: %w", info, object, adapter.ErrNoData)
}

// GetMetricBySelector implements adapter.CustomMetricsProvider: the objects
// come from the informer cache, and one query serves them all, by name up
// to MaxQueryNames objects and by namespace beyond.
func (p *Provider) GetMetricBySelector(ctx context.Context, namespace string, selector labels.Selector, info adapter.CustomMetricInfo, metricSelector labels.Selector) ([]adapter.CustomMetricValue, error) {
	t, err := p.resolveCustom(info)
	if err != nil {
		return nil, err
	}
	if selector == nil {
		selector = labels.Everything()
	}
	names, err := p.deps.Objects.ObjectNames(ctx, t.gvr, namespace, selector)
	if err != nil {
		return nil, fmt.Errorf("metric %s: objects of %s in namespace %q: %w", info, t.gvr.GroupResource(), namespace, err)
	}
	if len(names) == 0 {
		return []adapter.CustomMetricValue{}, nil
	}
	q := rules.CustomQuery{Namespace: namespace, MetricSelector: metricSelector}
	mode := modeNames
	if len(names) > p.cfg.MaxQueryNames || totalLen(names) > maxQueryNameBytes {
		q.AllObjects, mode = true, modeNamespace
	} else {
		// Sorted so that equal selections render equal queries, which the
		// querier coalesces.
		sort.Strings(names)
		q.Names = names
	}
	query, err := rules.RenderCustom(t.metric, q)
	if err != nil {
		return nil, renderError(info.String(), err)
	}
	p.metrics.objectQueries.WithLabelValues(mode).Inc()
	samples, err := p.query(ctx, t.querier, query)
	if err != nil {
		return nil, err
	}
	wanted := make(map[string]bool, len(names))
	for _, n := range names {
		wanted[n] = true
	}
	window := QueryWindow(query)
	out := make([]adapter.CustomMetricValue, 0, min(len(samples), len(names)))
	for _, s := range samples {
		name := s.Labels[t.metric.ResourceLabel]
		if !wanted[name] || !finite(s.Value) {
			continue
		}
		// One value per object: a query that does not aggregate by the
		// resource label would otherwise give the HPA duplicates.
		wanted[name] = false
		out = append(out, t.value(namespace, name, s, window))
	}
	return out, nil
}

func totalLen(names []string) int {
	n := 0
	for _, s := range names {
		n += len(s)
	}
	return n
}

func (t customTarget) value(namespace, name string, s hpametrics.Sample, window time.Duration) adapter.CustomMetricValue {
	v := adapter.CustomMetricValue{Timestamp: s.Timestamp, Window: window, Value: s.Value}
	v.DescribedObject.APIVersion = t.apiVersion
	v.DescribedObject.Kind = t.kind
	v.DescribedObject.Name = name
	if t.metric.Namespaced {
		v.DescribedObject.Namespace = namespace
	}
	return v
}

// GetExternalMetric implements adapter.ExternalMetricsProvider: one query,
// every finite sample a series. No finite sample is ErrNoData, never 0.
func (p *Provider) GetExternalMetric(ctx context.Context, namespace string, metricSelector labels.Selector, info adapter.ExternalMetricInfo) ([]adapter.ExternalMetricValue, error) {
	s := p.state.Load()
	em, ok := s.index.External(info.Metric)
	if !ok {
		return nil, fmt.Errorf("external metric %q: no rule exposes it: %w", info.Metric, adapter.ErrMetricNotFound)
	}
	q, ok := s.queriers[em.Rule.Backend]
	if !ok {
		return nil, fmt.Errorf("external metric %q: %s: no querier for backend %q", info.Metric, em.Rule.ID(), em.Rule.Backend)
	}
	query, err := rules.RenderExternal(em, namespace, metricSelector)
	if err != nil {
		return nil, renderError(fmt.Sprintf("external metric %q", info.Metric), err)
	}
	samples, err := p.query(ctx, q, query)
	if err != nil {
		return nil, err
	}
	window := QueryWindow(query)
	out := make([]adapter.ExternalMetricValue, 0, len(samples))
	for _, smp := range samples {
		if !finite(smp.Value) {
			continue
		}
		// Results may be shared between coalesced callers: copy the labels.
		out = append(out, adapter.ExternalMetricValue{Labels: maps.Clone(smp.Labels), Timestamp: smp.Timestamp, Window: window, Value: smp.Value})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("external metric %q in namespace %q: %w", info.Metric, namespace, adapter.ErrNoData)
	}
	return out, nil
}

// query runs one instant query now, classifying the failure for the edge.
func (p *Provider) query(ctx context.Context, q Querier, query string) ([]hpametrics.Sample, error) {
	samples, err := q.Query(ctx, query, p.deps.Now())
	switch {
	case err == nil:
		return samples, nil
	case errors.Is(err, hpametrics.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		// The querier's error names the query already.
		return nil, fmt.Errorf("%w: %w", adapter.ErrBackendUnavailable, err)
	default:
		return nil, err
	}
}

// renderError maps the rules package's errors to the edge's sentinels.
func renderError(what string, err error) error {
	switch {
	case errors.Is(err, rules.ErrUnsupportedSelector):
		return fmt.Errorf("%s: %w: %w", what, adapter.ErrBadSelector, err)
	case errors.Is(err, rules.ErrInvalidName):
		return fmt.Errorf("%s: %w: %w", what, adapter.ErrBadRequest, err)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}
