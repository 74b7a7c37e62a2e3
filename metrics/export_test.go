package metrics

import "time"

// SetNow replaces the clock of m so that recorded durations are reproducible.
func SetNow(m *QueryMetrics, now func() time.Time) { m.now = now }
