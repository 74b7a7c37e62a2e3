package adapter_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/wait"
	certutil "k8s.io/client-go/util/cert"
	netutils "k8s.io/utils/net"

	"github.com/hpa-engine/hpa-engine/adapter"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{name: "defaults", args: nil},
		{name: "certificate files", args: []string{"--tls-cert-file=a.crt", "--tls-private-key-file=a.key"}},
		{name: "certificate without key", args: []string{"--tls-cert-file=a.crt"}, wantErr: true},
		{name: "key without certificate", args: []string{"--tls-private-key-file=a.key"}, wantErr: true},
		{name: "no port", args: []string{"--secure-port=0"}, wantErr: true},
		{name: "negative shutdown timeout", args: []string{"--shutdown-timeout=-1s"}, wantErr: true},
		{name: "negative request timeout", args: []string{"--metrics-request-timeout=-1s"}, wantErr: true},
		{name: "blank request header name", args: []string{"--requestheader-username-headers= "}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := adapter.NewOptions()
			fs := pflag.NewFlagSet("adapter", pflag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			errs := o.Validate()
			if (len(errs) > 0) != tt.wantErr {
				t.Errorf("Validate() = %v, want errors: %v", errs, tt.wantErr)
			}
		})
	}
}

func TestOptionsFlags(t *testing.T) {
	fs := pflag.NewFlagSet("adapter", pflag.ContinueOnError)
	adapter.NewOptions().AddFlags(fs)
	for _, name := range []string{
		"secure-port", "bind-address", "tls-cert-file", "tls-private-key-file", "cert-dir",
		"authentication-kubeconfig", "client-ca-file", "requestheader-client-ca-file", "requestheader-allowed-names",
		"authorization-kubeconfig", "authorization-always-allow-paths", "shutdown-timeout", "metrics-request-timeout",
	} {
		if fs.Lookup(name) == nil {
			t.Errorf("flag --%s not registered", name)
		}
	}
	if got := fs.Lookup("secure-port").DefValue; got != "6443" {
		t.Errorf("--secure-port default = %s, want 6443", got)
	}
	if got := fs.Lookup("authorization-always-allow-paths").DefValue; got != "[/healthz,/readyz,/livez,/metrics]" {
		t.Errorf("--authorization-always-allow-paths default = %s", got)
	}
}

// startServer builds the server from Options without a cluster (no
// kubeconfig, lookups optional) on a loopback listener and runs it.
func startServer(t *testing.T, mutate func(*adapter.Options)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := adapter.NewOptions()
	o.SecureServing.Listener = ln
	o.SecureServing.BindAddress = netutils.ParseIPSloppy("127.0.0.1")
	o.Authentication.RemoteKubeConfigFileOptional = true
	o.Authorization.RemoteKubeConfigFileOptional = true
	o.ShutdownTimeout = time.Second
	if mutate != nil {
		mutate(o)
	}
	cfg, err := o.Config()
	if err != nil {
		t.Fatal(err)
	}
	p := newFixture()
	srv, err := adapter.New(*cfg, adapter.Deps{
		Custom:   p,
		External: p,
		Metrics:  http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("# metrics\n")) }),
		Ready:    func() error { return errors.New("series not discovered yet") },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after its context was cancelled")
		}
	})
	return "https://" + ln.Addr().String()
}

// insecureGet fetches path and returns the code and the serving certificate.
func insecureGet(t *testing.T, base, path string) (int, *x509.Certificate) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	var resp *http.Response
	// The listener exists before Run; retry while Serve starts.
	err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		var err error
		resp, err = client.Get(base + path)
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.TLS.PeerCertificates[0]
}

func TestServerSelfSigned(t *testing.T) {
	base := startServer(t, nil)
	tests := []struct {
		path     string
		wantCode int
	}{
		{path: "/healthz", wantCode: 200},
		{path: "/livez", wantCode: 200},
		{path: "/readyz", wantCode: 503},
		{path: "/metrics", wantCode: 200},
		{path: "/apis", wantCode: 401},
		{path: customV1beta2 + "/namespaces/default/pods/*/http_requests", wantCode: 401},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, cert := insecureGet(t, base, tt.path)
			if code != tt.wantCode {
				t.Errorf("code = %d, want %d", code, tt.wantCode)
			}
			if !slices.Contains(cert.DNSNames, "localhost") {
				t.Errorf("self-signed certificate names %v, want localhost", cert.DNSNames)
			}
		})
	}
}

// TestServerReloadsCertificate replaces the certificate files under a
// running server and waits for the new certificate to be served.
func TestServerReloadsCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	write := func(host string) {
		cert, key, err := certutil.GenerateSelfSignedCertKey(host, []net.IP{netutils.ParseIPSloppy("127.0.0.1")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Write the key first and rename both into place, as cert-manager
		// and kubelet volume updates do, so no read sees a mismatched pair.
		for _, f := range []struct {
			path string
			data []byte
		}{{keyFile, key}, {certFile, cert}} {
			if err := os.WriteFile(f.path+".tmp", f.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(f.path+".tmp", f.path); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("first.example")
	base := startServer(t, func(o *adapter.Options) {
		o.SecureServing.ServerCert.CertKey.CertFile = certFile
		o.SecureServing.ServerCert.CertKey.KeyFile = keyFile
	})
	if _, cert := insecureGet(t, base, "/healthz"); !slices.Contains(cert.DNSNames, "first.example") {
		t.Fatalf("serving %v, want first.example", cert.DNSNames)
	}
	write("second.example")
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 90*time.Second, true, func(context.Context) (bool, error) {
		_, cert := insecureGet(t, base, "/healthz")
		return slices.Contains(cert.DNSNames, "second.example"), nil
	})
	if err != nil {
		t.Fatalf("new certificate not served: %v", err)
	}
}
