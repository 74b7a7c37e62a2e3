//go:build integration

package e2e

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hpa-engine/hpa-engine/test/testbed"
)

// TestServeAllRoles: `hpa-engine serve` runs the adapter and the controller
// in one process over one provider and one registry: the adapter answers on
// its HTTPS port, the REST API on its address, and either /metrics has every
// role's metrics.
func TestServeAllRoles(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin, err := env.BuildEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := cp.PKI.ServingCert("serve", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(env.Dir, "serve-config.yaml")
	if err := os.WriteFile(cfgFile, []byte(adapterConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	securePort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	restPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	adapterBase := "https://127.0.0.1:" + strconv.Itoa(securePort)
	restBase := "http://127.0.0.1:" + strconv.Itoa(restPort)
	p, err := env.StartProcess(ctx, testbed.ProcessOptions{
		Name: "hpa-engine-serve",
		Path: bin,
		Args: []string{
			"serve",
			"--kubeconfig=" + cp.AdminKubeconfig,
			"--config=" + cfgFile,
			"--prometheus-url=" + prom.URL,
			"--metrics-relist-interval=1s",
			"--sync-period=1s",
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(securePort),
			"--tls-cert-file=" + certFile,
			"--tls-private-key-file=" + keyFile,
			"--rest-address=127.0.0.1:" + strconv.Itoa(restPort),
			"--v=2",
		},
		Ready: testbed.HTTPReady(restBase + "/readyz"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(url string) (int, string, error) {
		resp, err := client.Get(url)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	testbed.Eventually(ctx, t, "the adapter's /readyz", func() error {
		code, body, err := get(adapterBase + "/readyz")
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return &statusErr{code: code, body: body}
		}
		return nil
	})
	if code, body, err := get(restBase + "/api/v1/recommendations"); err != nil || code != http.StatusOK {
		t.Errorf("GET /api/v1/recommendations: %d %q %v", code, body, err)
	}
	// One registry: the adapter's /metrics has the recommender's metrics
	// and the REST API's has the adapter's.
	for _, url := range []string{adapterBase + "/metrics", restBase + "/metrics"} {
		code, body, err := get(url)
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET %s: %d %v", url, code, err)
		}
		for _, name := range []string{"hpa_engine_adapter_discovery_metrics", "hpa_engine_recommender_cycle_duration_seconds", "hpa_engine_scaler_leader"} {
			if !strings.Contains(body, name) {
				t.Errorf("GET %s: no %s", url, name)
			}
		}
	}
}

type statusErr struct {
	code int
	body string
}

func (e *statusErr) Error() string { return strconv.Itoa(e.code) + ": " + e.body }
