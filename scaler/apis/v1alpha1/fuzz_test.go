package v1alpha1

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzHistoryFromStatus feeds arbitrary status JSON (a status is writable by
// anyone with access to the status subresource) through HistoryFromStatus:
// it must not panic, must stay within the bound, and what it returns must
// survive HistoryToStatus and back unchanged.
func FuzzHistoryFromStatus(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"history":{}}`))
	f.Add([]byte(`{"desiredReplicas":3,"history":{"recommendations":[{"replicas":3,"timestamp":"2026-11-27T16:00:00.123456Z"},{"replicas":5,"timestamp":"2026-11-27T15:59:45.000000Z"}]}}`))
	f.Add([]byte(`{"history":{"scaleUpEvents":[{"replicaChange":4,"timestamp":"2026-11-27T16:00:00.000000Z","outdated":true}],"scaleDownEvents":[{"replicaChange":-1,"timestamp":"1970-01-01T00:00:00.000000Z"}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var st AutoscalerStatus
		if err := json.Unmarshal(b, &st); err != nil {
			return
		}
		h := HistoryFromStatus(&st)
		for _, n := range []int{len(h.Recommendations), len(h.ScaleUpEvents), len(h.ScaleDownEvents)} {
			if n > MaxHistoryItems {
				t.Fatalf("history list of %d entries, bound %d", n, MaxHistoryItems)
			}
		}
		again := HistoryFromStatus(&AutoscalerStatus{History: HistoryToStatus(h)})
		if !reflect.DeepEqual(again, h) {
			t.Fatalf("round trip changed the history:\n got %+v\nwant %+v", again, h)
		}
	})
}
