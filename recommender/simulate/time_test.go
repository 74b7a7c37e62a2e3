package simulate

import (
	"errors"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 123456789, time.UTC)
	tests := []struct {
		name string
		in   string
		want time.Time
		err  bool
	}{
		{name: "rfc3339", in: "2026-11-26T08:00:00Z", want: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)},
		{name: "rfc3339 with offset and nanoseconds", in: "2026-11-26T09:00:00.0015+01:00", want: time.Date(2026, 11, 26, 8, 0, 0, 1000000, time.UTC)},
		{name: "now", in: "now", want: now.Truncate(time.Millisecond)},
		{name: "relative", in: "-24h", want: now.Add(-24 * time.Hour).Truncate(time.Millisecond)},
		{name: "now minus", in: "now-90m", want: now.Add(-90 * time.Minute).Truncate(time.Millisecond)},
		{name: "days", in: "-7d", want: now.Add(-7 * 24 * time.Hour).Truncate(time.Millisecond)},
		{name: "empty", in: "", err: true},
		{name: "garbage", in: "yesterday", err: true},
		{name: "bad relative", in: "now-x", err: true},
		{name: "bad days", in: "-xd", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTime(tt.in, now)
			if tt.err {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil || !got.Equal(tt.want) {
				t.Errorf("ParseTime(%q) = %s, %v, want %s", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseStep(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want time.Duration
		err  bool
	}{
		{name: "duration", in: "15s", want: 15 * time.Second},
		{name: "seconds", in: "30", want: 30 * time.Second},
		{name: "fractional seconds", in: "0.5", want: 500 * time.Millisecond},
		{name: "zero", in: "0", err: true},
		{name: "negative", in: "-15s", err: true},
		{name: "garbage", in: "often", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStep(tt.in)
			if tt.err {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseStep(%q) = %s, %v, want %s", tt.in, got, err, tt.want)
			}
		})
	}
}

// FuzzParseTime: any text either parses or fails with ErrInvalid, never
// panics, and a parsed time is whole milliseconds.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"now", "-24h", "now-90m", "+1h", "-7d", "2026-11-26T08:00:00Z", "2026-11-26T09:00:00.0015+01:00", "", "d", "now-", "-9999999999d", "15"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 123456789, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, now)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseTime(%q): %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		if got.Nanosecond()%int(time.Millisecond) != 0 {
			t.Fatalf("ParseTime(%q) = %s: not whole milliseconds", s, got)
		}
		if d, err := ParseStep(s); err == nil && d <= 0 {
			t.Fatalf("ParseStep(%q) = %s: not positive", s, d)
		}
	})
}
