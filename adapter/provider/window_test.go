package provider

import (
	"strconv"
	"testing"
	"time"
)

func TestQueryWindow(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  time.Duration
	}{
		{name: "instant", query: `sum(queue_depth{namespace="ns"}) by (service)`, want: 0},
		{name: "rate", query: `sum(rate(http_requests_total{namespace="ns"}[2m])) by (pod)`, want: 2 * time.Minute},
		{name: "compound duration", query: `increase(x[1h30m])`, want: 90 * time.Minute},
		{name: "seconds as a number", query: `rate(x[90])`, want: 90 * time.Second},
		{name: "fractional seconds", query: `rate(x[1.5])`, want: 1500 * time.Millisecond},
		{name: "subquery: its range, not its step", query: `max_over_time(rate(x[1m])[5m:30s])`, want: 5 * time.Minute},
		{name: "subquery with the default step", query: `max_over_time(x[10m:])`, want: 10 * time.Minute},
		{name: "the largest of several", query: `rate(a[1m]) / rate(b[3m])`, want: 3 * time.Minute},
		{name: "spaces inside the brackets", query: `rate(x[ 2m ])`, want: 2 * time.Minute},
		{name: "brackets in a double-quoted matcher are not ranges", query: `rate(x{pod=~"web-[0-9]+"}[1m])`, want: time.Minute},
		{name: "escaped quote inside a string", query: `rate(x{a="\"[9h]"}[1m])`, want: time.Minute},
		{name: "single-quoted string", query: `rate(x{a='[9h]'}[1m])`, want: time.Minute},
		{name: "backquoted string", query: "rate(x{a=`\\[9h]`}[1m])", want: time.Minute},
		{name: "comment", query: "rate(x[1m]) # [9h]\n", want: time.Minute},
		{name: "offset is not a window", query: `rate(x[1m] offset 1h)`, want: time.Minute},
		{name: "unclosed bracket", query: `rate(x[1m`, want: 0},
		{name: "unclosed string", query: `rate(x{a="[9h]`, want: 0},
		{name: "not a duration", query: `x[abc]`, want: 0},
		{name: "zero", query: `x[0s]`, want: 0},
		{name: "empty", query: ``, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := QueryWindow(tt.query); got != tt.want {
				t.Errorf("QueryWindow(%q) = %s, want %s", tt.query, got, tt.want)
			}
		})
	}
}

// FuzzQueryWindow checks that no input panics or gives a negative window,
// and that a string literal, whatever it holds, is never read as a range:
// label values reach queries as quoted strings.
func FuzzQueryWindow(f *testing.F) {
	for _, s := range []string{`rate(x[2m])`, `x{a="[1h]"}`, `max_over_time(x[5m:1m])`, "x[", `"\`, "`[1d]`", "# [1d]", "x[1e400]", "x[-5]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if w := QueryWindow(s); w < 0 {
			t.Errorf("QueryWindow(%q) = %s", s, w)
		}
		quoted := `rate(x{l=` + strconv.Quote(s) + `}[1m])`
		if w := QueryWindow(quoted); w != time.Minute {
			t.Errorf("QueryWindow(%q) = %s, want 1m: the label value was read as a range", quoted, w)
		}
	})
}
