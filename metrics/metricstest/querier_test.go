package metricstest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
)

func TestQuerier(t *testing.T) {
	at := time.Unix(1700000000, 0)
	canned := []hpametrics.Sample{{Labels: map[string]string{"pod": "a"}, Value: 1, Timestamp: at}}
	q := &Querier{
		Samples:    map[string][]hpametrics.Sample{"up": canned},
		SeriesSets: map[string][]map[string]string{`{__name__="up"}`: {{"__name__": "up"}}},
		Ranges:     map[string][]hpametrics.Series{"rate": {{Labels: map[string]string{}, Points: []hpametrics.Point{{Timestamp: at, Value: 2}}}}},
		Errors:     map[string]error{"broken": hpametrics.ErrUnavailable},
	}
	ctx := context.Background()

	tests := []struct {
		name    string
		call    func() (any, error)
		want    any
		wantErr error
	}{
		{name: "canned samples", call: func() (any, error) { return q.Query(ctx, "up", at) }, want: canned},
		{name: "unknown query has no data", call: func() (any, error) { return q.Query(ctx, "nothing", at) }, want: []hpametrics.Sample(nil)},
		{name: "canned error", call: func() (any, error) { return q.Query(ctx, "broken", at) }, wantErr: hpametrics.ErrUnavailable},
		{name: "canned series", call: func() (any, error) { return q.Series(ctx, `{__name__="up"}`, at, at) }, want: []map[string]string{{"__name__": "up"}}},
		{name: "canned range", call: func() (any, error) { return q.QueryRange(ctx, "rate", at, at, time.Minute) }, want: q.Ranges["rate"]},
		{name: "range error", call: func() (any, error) { return q.QueryRange(ctx, "broken", at, at, time.Minute) }, wantErr: hpametrics.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}

	calls := q.Calls()
	if len(calls) != len(tests) {
		t.Fatalf("recorded %d calls, want %d", len(calls), len(tests))
	}
	if calls[3].Kind != hpametrics.KindSeries || calls[4].Step != time.Minute {
		t.Errorf("calls recorded wrongly: %+v", calls)
	}
	q.Reset()
	if len(q.Calls()) != 0 {
		t.Errorf("Reset kept calls")
	}
}

func TestQuerierFuncsAndCancel(t *testing.T) {
	q := &Querier{QueryFunc: func(_ context.Context, query string, _ time.Time) ([]hpametrics.Sample, error) {
		return []hpametrics.Sample{{Labels: map[string]string{"q": query}}}, nil
	}}
	got, err := q.Query(context.Background(), "x", time.Time{})
	if err != nil || len(got) != 1 || got[0].Labels["q"] != "x" {
		t.Fatalf("QueryFunc not used: %v, %v", got, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Query(ctx, "x", time.Time{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled context: error = %v, want context.Canceled", err)
	}
}
