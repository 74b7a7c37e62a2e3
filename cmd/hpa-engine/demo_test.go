package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the demo's writers and the test's
// reads at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// curlLine matches the commands the banner prints:
// curl -s[k] [-H '<header>'] '<url>'.
var curlLine = regexp.MustCompile(`(?m)^  curl -s(k?)(?: -H '([^']+)')? '([^']+)'$`)

// TestDemo runs the whole demo at high speed: one demo day in about 40 s.
// It must scale a target up and, once the load falls and the scale-down
// window has passed, down again; every printed curl command must answer 200
// with the body it promises while the demo runs.
func TestDemo(t *testing.T) {
	// --duration bounds the run; the test stops it as soon as a target has
	// scaled up and then down, usually after about 30 s.
	args := []string{"--duration", "55s", "--speed", "2000", "--interval", "5s", "--sync-period", "1s", "--scale-down-window", "5s"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The demo's temporary directory must be gone when it returns.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	out := &syncBuffer{}
	goroutines := runtime.NumGoroutine()
	done := make(chan error, 1)
	go func() {
		cmd := newDemoCommand()
		cmd.SetArgs(args)
		cmd.SetOut(out)
		done <- cmd.ExecuteContext(ctx)
	}()

	// The curl commands, once the first recommendations are in.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "==>") && !strings.Contains(out.String(), "DESIRED") {
		if time.Now().After(deadline) {
			t.Fatalf("no table nor scale event within 30 s; output:\n%s", out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	cmds := curlLine.FindAllStringSubmatch(out.String(), -1)
	if len(cmds) != len(demoCurls(demoEndpoints{})) {
		t.Fatalf("found %d curl commands, want %d; output:\n%s", len(cmds), len(demoCurls(demoEndpoints{})), out.String())
	}
	for _, c := range cmds {
		checkCurl(t, c[1] == "k", c[2], c[3])
	}

	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-time.After(200 * time.Millisecond):
			if scaledUpThenDown(out.String()) {
				cancel()
				err = <-done
				break wait
			}
		}
	}
	if err != nil {
		t.Fatalf("demo %v = %v; output:\n%s", args, err, out.String())
	}
	// The timeline printed at the end: a scale-up of a target, then a
	// scale-down of the same target.
	events := timelineLine.FindAllStringSubmatch(out.String(), -1)
	upAt := map[string]int{}
	var up, down bool
	for i, e := range events {
		from, to := atoi(t, e[2]), atoi(t, e[3])
		if _, ok := upAt[e[1]]; !ok && to > from {
			upAt[e[1]], up = i, true
		}
		if at, ok := upAt[e[1]]; ok && i > at && to < from {
			down = true
		}
	}
	if !up || !down {
		t.Errorf("scaled up: %v, then down: %v; want both; output:\n%s", up, down, out.String())
	}

	// Every goroutine the demo started has stopped; the test's own HTTP
	// connections are closed first. A few may take a moment to return.
	var now int
	for range 50 {
		if now = runtime.NumGoroutine(); now <= goroutines {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if now > goroutines {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after the demo, %d before:\n%s", now, goroutines, buf[:runtime.Stack(buf, true)])
	}
	if left, err := os.ReadDir(tmp); err != nil || len(left) > 0 {
		t.Errorf("temporary directory after the demo: %v, %v; want it empty", left, err)
	}
	t.Logf("output:\n%s", out.String())
}

// eventLine matches the lines printed as scale changes happen:
// "==> +12s web scaled up 1 -> 4: ...".
var eventLine = regexp.MustCompile(`(?m)^==> \+\S+ (\w+) scaled (up|down) `)

// scaledUpThenDown reports whether out shows a target scaled up and later
// down.
func scaledUpThenDown(out string) bool {
	up := map[string]bool{}
	for _, m := range eventLine.FindAllStringSubmatch(out, -1) {
		if m[2] == "up" {
			up[m[1]] = true
		} else if up[m[1]] {
			return true
		}
	}
	return false
}

// timelineLine matches the summary's lines: "  +12s    web     1 -> 4".
var timelineLine = regexp.MustCompile(`(?m)^  \+\S+\s+(\w+)\s+(\d+) -> (\d+)$`)

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}

// checkCurl runs one printed command with net/http and checks that it
// answers 200 with the kind of body its URL promises.
func checkCurl(t *testing.T, insecure bool, header, url string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	if insecure {
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the demo's self-signed certificate, as curl -k
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("request %s: %v", url, err)
	}
	if header != "" {
		k, v, ok := strings.Cut(header, ": ")
		if !ok {
			t.Fatalf("header %q of %s: want key: value", header, url)
		}
		req.Header.Set(k, v)
	}
	want := map[string]string{
		"/api/v1/recommendations/": `"Autoscaler"`,
		"/api/v1/recommendations":  `"worker"`,
		"/metrics":                 "hpa_engine_",
		"custom.metrics.k8s.io":    `"MetricValueList"`,
		"external.metrics.k8s.io":  `"ExternalMetricValueList"`,
		"/api/v1/query":            `"vector"`,
	}
	var marker string
	for _, key := range []string{"/api/v1/recommendations/", "/api/v1/recommendations", "/metrics", "custom.metrics.k8s.io", "external.metrics.k8s.io", "/api/v1/query"} {
		if strings.Contains(url, key) {
			marker = want[key]
			break
		}
	}
	if marker == "" {
		t.Fatalf("no expectation for %s", url)
	}
	// The provider's first series discovery may still be under way.
	var (
		code int
		body []byte
	)
	for range 20 {
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("GET %s: body: %v", url, err)
		}
		code = resp.StatusCode
		if code == http.StatusOK && bytes.Contains(body, []byte(marker)) {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Errorf("GET %s = %d, want 200 with %s; body:\n%s", url, code, marker, body)
}

func TestDemoOptionsValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*demoOptions)
		want   int
	}{
		{name: "defaults", modify: func(*demoOptions) {}},
		{name: "negative duration", modify: func(o *demoOptions) { o.Duration = -time.Second }, want: 1},
		{name: "zero speed", modify: func(o *demoOptions) { o.Speed = 0 }, want: 1},
		{name: "zero interval and sync period", modify: func(o *demoOptions) { o.Interval, o.SyncPeriod = 0, 0 }, want: 2},
		{name: "window over an hour", modify: func(o *demoOptions) { o.ScaleDownWindow = 2 * time.Hour }, want: 1},
		{name: "ports out of range", modify: func(o *demoOptions) { o.PrometheusPort, o.AdapterPort, o.RESTPort = -1, 70000, 8080 }, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newDemoOptions()
			tt.modify(o)
			if errs := o.Validate(); len(errs) != tt.want {
				t.Errorf("Validate = %v, want %d errors", errs, tt.want)
			}
		})
	}
}

func TestDemoCommandFlags(t *testing.T) {
	cmd := newDemoCommand()
	for _, name := range []string{"duration", "speed", "interval", "sync-period", "scale-down-window", "prometheus-port", "adapter-port", "rest-port", "v"} {
		if cmd.Flags().Lookup(name) == nil {
			t.Errorf("flag --%s missing", name)
		}
	}
	cmd.SetArgs([]string{"--speed", "0"})
	cmd.SetOut(io.Discard)
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "--speed") {
		t.Errorf("Execute with --speed 0 = %v, want the --speed error", err)
	}
}
