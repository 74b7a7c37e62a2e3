package simulate

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads a range bound as users write it: RFC 3339 ("2026-11-27T08:00:00Z"),
// "now", or a duration relative to now ("-24h", "now-90m", "-7d"; a "d" is
// 24 hours). The result is truncated to the millisecond, which is what
// Prometheus resolves. Errors wrap ErrInvalid.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time: want RFC 3339, now or a relative duration like -24h: %w", ErrInvalid)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.Truncate(time.Millisecond), nil
	}
	rel, ok := strings.CutPrefix(s, "now")
	if rel == "" {
		return now.Truncate(time.Millisecond), nil
	}
	if !ok && rel[0] != '-' && rel[0] != '+' {
		return time.Time{}, fmt.Errorf("time %q: want RFC 3339, now or a relative duration like -24h: %w", s, ErrInvalid)
	}
	d, err := parseDuration(rel)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w: %w", s, ErrInvalid, err)
	}
	return now.Add(d).Truncate(time.Millisecond), nil
}

// ParseStep reads a step: a Go duration ("15s", "1m") or a number of
// seconds, as Prometheus' own step parameter. Errors wrap ErrInvalid.
func ParseStep(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f <= 0 || f > float64(MaxSteps)*86400 {
			return 0, fmt.Errorf("step %q: must be positive: %w", s, ErrInvalid)
		}
		return time.Duration(f * float64(time.Second)).Round(time.Millisecond), nil
	}
	d, err := parseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("step %q: want a positive duration like 15s: %w", s, ErrInvalid)
	}
	return d, nil
}

// parseDuration is time.ParseDuration plus whole days ("7d", "-1d").
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
