package metrics_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
)

// FuzzResponse feeds arbitrary Prometheus answers (status and body) to each
// kind of call: the client must return a result or an error, never panic, and
// a result must be usable (labels never nil).
func FuzzResponse(f *testing.F) {
	f.Add(uint16(200), uint8(0), []byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"a"},"value":[1700000000.5,"NaN"]}]}}`))
	f.Add(uint16(200), uint8(0), []byte(`{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}`))
	f.Add(uint16(200), uint8(1), []byte(`{"status":"success","data":[{"__name__":"up"}]}`))
	f.Add(uint16(200), uint8(2), []byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"+Inf"]]}]}}`))
	f.Add(uint16(400), uint8(0), []byte(`{"status":"error","errorType":"bad_data","error":"parse error"}`))
	f.Add(uint16(503), uint8(2), []byte(`down`))

	var mu sync.Mutex
	var status int
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		s, b := status, body
		mu.Unlock()
		w.WriteHeader(s)
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	c, err := hpametrics.NewClient(hpametrics.ClientConfig{URL: srv.URL, Timeout: 5 * time.Second})
	if err != nil {
		f.Fatalf("NewClient: %v", err)
	}

	f.Fuzz(func(t *testing.T, code uint16, kind uint8, payload []byte) {
		// Keep to codes net/http can write; 1xx are informational.
		if code < 200 || code > 599 {
			code = 200
		}
		mu.Lock()
		status, body = int(code), payload
		mu.Unlock()
		ctx := context.Background()
		at := time.Unix(1700000000, 0)
		switch kind % 3 {
		case 0:
			samples, err := c.Query(ctx, "q", at)
			if err == nil {
				for _, s := range samples {
					if s.Labels == nil {
						t.Fatalf("sample without a label map: %+v", s)
					}
				}
			}
		case 1:
			sets, err := c.Series(ctx, "q", at, at)
			if err == nil {
				for _, s := range sets {
					if s == nil {
						t.Fatal("nil label set")
					}
				}
			}
		case 2:
			series, err := c.QueryRange(ctx, "q", at, at, time.Second)
			if err == nil {
				for _, s := range series {
					if s.Labels == nil {
						t.Fatalf("series without a label map: %+v", s)
					}
				}
			}
		}
	})
}
