package api

import (
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzRecommendHandler posts arbitrary bodies to POST /api/v1/recommend. The
// handler must never panic (the recoverer would turn that into a 500), must
// answer only with the statuses the OpenAPI document lists, and must always
// answer JSON of the documented shape.
func FuzzRecommendHandler(f *testing.F) {
	for _, name := range []string{"scale-up", "scale-down"} {
		f.Add(readInput(f, name))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"spec":{"maxReplicas":1},"target":{},"observations":[{}]}`))
	h := newTestHandler(f, Config{MaxBodyBytes: 64 << 10}, Deps{})
	documented := documentedStatuses(f)["post "+pathRecommend]
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := do(h, http.MethodPost, "/api/v1/recommend", "application/json", body, nil)
		if !documented[rec.Code] {
			t.Fatalf("status %d is not in openapi.json for POST %s", rec.Code, pathRecommend)
		}
		switch rec.Code {
		case http.StatusOK:
			var got RecommendResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("200 with a body that is not a RecommendResponse: %v\n%s", err, rec.Body)
			}
			if got.Now.IsZero() {
				t.Fatalf("200 without now:\n%s", rec.Body)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			var got ErrorResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("%d with a body that is not an ErrorResponse: %v\n%s", rec.Code, err, rec.Body)
			}
			if got.Error.Code != rec.Code || got.Error.Message == "" {
				t.Fatalf("%d with error %+v", rec.Code, got.Error)
			}
		default:
			t.Fatalf("status %d for body %q:\n%s", rec.Code, body, rec.Body)
		}
	})
}
