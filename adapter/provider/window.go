package provider

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// QueryWindow returns the range a rendered PromQL query computes over: the
// largest range or subquery range in it (`rate(x[2m])` gives 2m,
// `max_over_time(rate(x[1m])[5m:30s])` 5m), or zero for an instantaneous
// query. Brackets inside string literals and comments are not ranges. The
// value depends on samples as old as the largest range, hence the maximum.
func QueryWindow(query string) time.Duration {
	var window time.Duration
	for i := 0; i < len(query); i++ {
		switch c := query[i]; c {
		case '"', '\'', '`':
			i = skipString(query, i)
		case '#':
			for i < len(query) && query[i] != '\n' {
				i++
			}
		case '[':
			end := strings.IndexByte(query[i+1:], ']')
			if end < 0 {
				return window
			}
			inner := query[i+1 : i+1+end]
			i += end + 1
			rng, _, _ := strings.Cut(inner, ":")
			if d, ok := parseRange(strings.TrimSpace(rng)); ok && d > window {
				window = d
			}
		}
	}
	return window
}

// skipString returns the index of the quote that closes the string literal
// opening at i, or the last index when it is not closed. Backquoted strings
// have no escapes.
func skipString(s string, i int) int {
	quote := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if quote != '`' {
				j++
			}
		case quote:
			return j
		}
	}
	return len(s) - 1
}

// parseRange parses a range as PromQL writes it: a duration ("5m",
// "1h30m") or, since Prometheus 3, a number of seconds ("300", "1.5").
func parseRange(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), d > 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f <= 0 || f > math.MaxInt64/float64(time.Second) {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
