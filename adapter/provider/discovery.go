package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"k8s.io/klog/v2"

	"github.com/hpa-engine/hpa-engine/adapter/rules"
)

// ErrNotReady is returned by Ready until the first discovery has run.
var ErrNotReady = errors.New("series discovery has not completed yet")

// Run relists now and then every relist interval (the file's, else the
// flag's) until ctx is done, and early after each SetConfig. Each relist
// gets its own timeout, the interval. Requests never wait on it.
func (p *Provider) Run(ctx context.Context) error {
	for {
		interval := p.relistInterval()
		rctx, cancel := context.WithTimeout(ctx, interval)
		err := p.Relist(rctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			klog.ErrorS(err, "Series discovery incomplete; serving what was listed before for the failed queries")
		}
		p.ready.Store(true)
		timer := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		case <-p.relistNow:
			timer.Stop()
		}
	}
}

// Ready reports ErrNotReady until the first discovery has run, whatever its
// outcome: it is the adapter's readiness probe.
func (p *Provider) Ready() error {
	if !p.ready.Load() {
		return ErrNotReady
	}
	return nil
}

// Relist refreshes the resource mapping, lists the series of every
// distinct series query of the current configuration and publishes the
// metrics they expose. A failed listing keeps that query's previous series,
// so a Prometheus outage does not empty discovery; the error reports every
// failure.
func (p *Provider) Relist(ctx context.Context) error {
	start := p.deps.Now()
	var errs []error
	mapper, err := p.deps.Mapper(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("resource mapping: %w", err))
		mapper = nil
	}
	s := p.state.Load()
	maxAge := p.cfg.SeriesMaxAge
	if maxAge == 0 {
		maxAge = max(DefaultSeriesMaxAge, p.relistInterval())
	}
	keys := rules.SeriesQueries(s.rules)
	listed := make(map[rules.QueryKey][]rules.Series, len(keys))
	for _, k := range keys {
		q, ok := s.queriers[k.Backend]
		if !ok {
			errs = append(errs, fmt.Errorf("series %q: no querier for backend %q", k.SeriesQuery, k.Backend))
			continue
		}
		sets, err := q.Series(ctx, k.SeriesQuery, start.Add(-maxAge), start)
		if err != nil {
			errs = append(errs, fmt.Errorf("series %q of backend %q: %w", k.SeriesQuery, k.Backend, err))
			continue
		}
		listed[k] = rules.DistinctSeries(sets)
	}

	p.mu.Lock()
	// The configuration may have been replaced while listing: merge what was
	// listed, drop what no rule asks for any more, and map the current rules.
	cur := p.state.Load()
	for k, v := range listed {
		p.series[k] = v
	}
	wanted := map[rules.QueryKey]bool{}
	for _, k := range rules.SeriesQueries(cur.rules) {
		wanted[k] = true
	}
	for k := range p.series {
		if !wanted[k] {
			delete(p.series, k)
		}
	}
	if mapper == nil {
		mapper = cur.mapper
	}
	ix := emptyIndex()
	if mapper != nil {
		ix = rules.NewIndex(cur.rules, p.series, mapper)
	}
	next := newSnapshot(cur.rules, cur.backends, cur.queriers, mapper, ix)
	p.store(next)
	p.logProblems(ix.Problems())
	p.mu.Unlock()

	outcome := outcomeSuccess
	switch {
	case len(errs) > 0 && len(listed) == 0 && len(keys) > 0, mapper == nil:
		outcome = outcomeFailure
	case len(errs) > 0:
		outcome = outcomePartial
	}
	p.metrics.relists.WithLabelValues(outcome).Inc()
	p.metrics.relistDuration.Observe(p.deps.Now().Sub(start).Seconds())
	if outcome != outcomeFailure {
		p.metrics.lastSuccess.Store(start.UnixNano())
		p.metrics.lastSuccessGauge.Set(float64(start.UnixNano()) / 1e9)
	}
	klog.V(2).InfoS("Series discovery", "outcome", outcome, "seriesQueries", len(keys), "customMetrics", len(next.custom),
		"externalMetrics", len(next.external), "duration", p.deps.Now().Sub(start))
	return errors.Join(errs...)
}

// logProblems logs discovery problems when they change; callers hold mu.
func (p *Provider) logProblems(problems []string) {
	sorted := slices.Clone(problems)
	sort.Strings(sorted)
	if slices.Equal(sorted, p.problems) {
		return
	}
	p.problems = sorted
	for _, pr := range sorted {
		klog.InfoS("Series discovery problem", "problem", pr)
	}
}

// discoveryAge is the time since the last successful discovery, or since
// the provider was built when none has succeeded yet.
func (p *Provider) discoveryAge() float64 {
	last := p.started
	if ns := p.metrics.lastSuccess.Load(); ns != 0 {
		last = time.Unix(0, ns)
	}
	return p.deps.Now().Sub(last).Seconds()
}
