package metrics

import (
	"context"
	"fmt"
	"maps"
	"time"

	"golang.org/x/sync/singleflight"
)

// Coalesce returns a Querier that sends identical concurrent instant queries
// (the same query string and the same `at`) to q once and gives every caller
// the answer. It matters when many HPAs on the same metric ask within the same
// sync: they then cost Prometheus one evaluation. Series and QueryRange pass
// through.
//
// The shared request keeps the first caller's deadline but not its
// cancellation, so one caller going away does not fail the others; every
// caller still stops waiting when its own context ends. Each caller gets its
// own copy of a shared result, so callers may modify what they receive.
func Coalesce(q Querier) Querier {
	return &coalescing{next: q}
}

type coalescing struct {
	next  Querier
	group singleflight.Group
}

var _ Querier = (*coalescing)(nil)

func (c *coalescing) Query(ctx context.Context, query string, at time.Time) ([]Sample, error) {
	// at.Unix and Nanosecond are defined for every time, including the zero
	// time ("now" to Prometheus), unlike UnixNano.
	key := fmt.Sprintf("%d.%09d\x00%s", at.Unix(), at.Nanosecond(), query)
	shared := sharedContext(ctx)
	ch := c.group.DoChan(key, func() (any, error) {
		defer shared.cancel()
		return c.next.Query(shared.ctx, query, at)
	})
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("query %q: %w", query, ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		samples, _ := r.Val.([]Sample)
		if r.Shared {
			return copySamples(samples), nil
		}
		return samples, nil
	}
}

func (c *coalescing) Series(ctx context.Context, match string, start, end time.Time) ([]map[string]string, error) {
	return c.next.Series(ctx, match, start, end)
}

func (c *coalescing) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]Series, error) {
	return c.next.QueryRange(ctx, query, start, end, step)
}

type detached struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// sharedContext keeps ctx's values and deadline but drops its cancellation.
func sharedContext(ctx context.Context) detached {
	base := context.WithoutCancel(ctx)
	if d, ok := ctx.Deadline(); ok {
		c, cancel := context.WithDeadline(base, d)
		return detached{ctx: c, cancel: cancel}
	}
	c, cancel := context.WithCancel(base)
	return detached{ctx: c, cancel: cancel}
}

func copySamples(in []Sample) []Sample {
	if in == nil {
		return nil
	}
	out := make([]Sample, len(in))
	for i, s := range in {
		out[i] = Sample{Labels: maps.Clone(s.Labels), Value: s.Value, Timestamp: s.Timestamp}
	}
	return out
}
