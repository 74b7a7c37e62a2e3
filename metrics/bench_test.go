package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
)

// vectorBody is a Prometheus answer with n pod series, as a Pods metric over
// n pods returns.
func vectorBody(n int) string {
	var b strings.Builder
	b.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"metric":{"namespace":"default","pod":"web-%d"},"value":[1700000000.123,"%d.5"]}`, i, i)
	}
	b.WriteString(`]}}`)
	return b.String()
}

// BenchmarkQueryVector measures the client (request, decoding, conversion to
// Samples) beside a bare HTTP POST that only reads the same body, and reports
// their ratio: the cost this package adds to the adapter's Prometheus time.
func BenchmarkQueryVector(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("series=%d", n), func(b *testing.B) {
			body := vectorBody(n)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, body)
			}))
			defer srv.Close()
			c, err := hpametrics.NewClient(hpametrics.ClientConfig{URL: srv.URL})
			if err != nil {
				b.Fatalf("NewClient: %v", err)
			}
			raw := srv.Client()
			form := url.Values{"query": {"sum by (pod) (rate(x[1m]))"}}.Encode()
			ctx := context.Background()
			at := time.Unix(1700000000, 0)
			var rawTime, clientTime time.Duration
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				resp, err := raw.Post(srv.URL+"/api/v1/query", "application/x-www-form-urlencoded", strings.NewReader(form))
				if err != nil {
					b.Fatalf("raw POST: %v", err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mid := time.Now()
				samples, err := c.Query(ctx, "sum by (pod) (rate(x[1m]))", at)
				if err != nil || len(samples) != n {
					b.Fatalf("Query: %d samples, %v", len(samples), err)
				}
				rawTime += mid.Sub(start)
				clientTime += time.Since(mid)
			}
			b.ReportMetric(float64(clientTime)/float64(rawTime), "client/raw")
			b.ReportMetric(float64(len(body)), "body-bytes")
		})
	}
}
