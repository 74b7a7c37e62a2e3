package recommender

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzRecommend feeds arbitrary JSON inputs (as the REST API receives them)
// to Recommend: it must never panic, and its results must encode as JSON.
func FuzzRecommend(f *testing.F) {
	for _, in := range explanationCases() {
		b, err := json.Marshal(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in Input
		if err := json.Unmarshal(data, &in); err != nil {
			return
		}
		res, err := Recommend(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("error %v does not wrap ErrInvalidInput", err)
			}
			return
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatalf("result does not encode: %v", err)
		}
		_ = res.String()
	})
}
