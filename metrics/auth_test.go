package metrics_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
)

func TestBearerTokenFileIsReread(t *testing.T) {
	fake, srv := newFakeProm(t, success(emptyVector))
	tokenFile := filepath.Join(t.TempDir(), "token")
	writeFile(t, tokenFile, "first-token\n")
	c := newClient(t, hpametrics.ClientConfig{URL: srv.URL, BearerTokenFile: tokenFile})
	ctx := context.Background()
	if _, err := c.Query(ctx, "up", time.Time{}); err != nil {
		t.Fatalf("Query: %v", err)
	}
	// A rotated token (projected service account tokens rotate) must be used
	// without rebuilding the client.
	writeFile(t, tokenFile, "second-token")
	if _, err := c.Query(ctx, "up", time.Time{}); err != nil {
		t.Fatalf("Query: %v", err)
	}
	reqs := fake.Requests()
	for i, want := range []string{"Bearer first-token", "Bearer second-token"} {
		if got := reqs[i].Header.Get("Authorization"); got != want {
			t.Errorf("request %d Authorization = %q, want %q", i, got, want)
		}
	}
}

func TestBasicAuthAndHeaders(t *testing.T) {
	fake, srv := newFakeProm(t, success(emptyVector))
	passwordFile := filepath.Join(t.TempDir(), "password")
	writeFile(t, passwordFile, "s3cret\n")
	c, err := hpametrics.NewClient(hpametrics.ClientConfig{
		URL:       srv.URL,
		BasicAuth: &hpametrics.BasicAuth{Username: "engine", PasswordFile: passwordFile},
		Headers:   map[string]string{"X-Scope-OrgID": "team-a", "X-Extra": "1"},
	}, hpametrics.WithUserAgent("hpa-engine/test"))
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if _, err := c.Query(context.Background(), "up", time.Time{}); err != nil {
		t.Fatalf("Query: %v", err)
	}
	r := fake.Requests()[0]
	if !r.HasBasic || r.User != "engine" || r.Password != "s3cret" {
		t.Errorf("basic auth = %v %q %q, want engine/s3cret", r.HasBasic, r.User, r.Password)
	}
	for name, want := range map[string]string{"X-Scope-Orgid": "team-a", "X-Extra": "1", "User-Agent": "hpa-engine/test"} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
}

func TestTLS(t *testing.T) {
	p := newPKI(t)
	fake := &fakeProm{t: t, respond: success(emptyVector)}
	srv := httptest.NewUnstartedServer(fake)
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{p.ServerCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.CAPool,
		MinVersion:   tls.VersionTLS12,
	}
	// The failing cases make the server log handshake errors; they are expected.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tokenFile := filepath.Join(t.TempDir(), "token")
	writeFile(t, tokenFile, "tls-token")

	tests := []struct {
		name   string
		tls    hpametrics.TLSConfig
		wantOK bool
	}{
		{name: "CA and client certificate", tls: hpametrics.TLSConfig{CAFile: p.CAFile, CertFile: p.ClientCertFile, KeyFile: p.ClientKeyFile}, wantOK: true},
		{name: "server name matching the certificate", tls: hpametrics.TLSConfig{CAFile: p.CAFile, CertFile: p.ClientCertFile, KeyFile: p.ClientKeyFile, ServerName: "127.0.0.1"}, wantOK: true},
		{name: "insecure skip verify still sends the client certificate", tls: hpametrics.TLSConfig{InsecureSkipVerify: true, CertFile: p.ClientCertFile, KeyFile: p.ClientKeyFile}, wantOK: true},
		{name: "no client certificate", tls: hpametrics.TLSConfig{CAFile: p.CAFile}},
		{name: "unknown CA", tls: hpametrics.TLSConfig{CertFile: p.ClientCertFile, KeyFile: p.ClientKeyFile}},
		{name: "server name not in the certificate", tls: hpametrics.TLSConfig{CAFile: p.CAFile, CertFile: p.ClientCertFile, KeyFile: p.ClientKeyFile, ServerName: "prometheus.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(fake.Requests())
			c := newClient(t, hpametrics.ClientConfig{URL: srv.URL, TLS: tt.tls, BearerTokenFile: tokenFile, Headers: map[string]string{"X-Scope-OrgID": "tls"}})
			_, err := c.Query(context.Background(), "up", time.Time{})
			if !tt.wantOK {
				if err == nil {
					t.Fatal("Query succeeded, want a TLS error")
				}
				// A TLS misconfiguration will not heal by waiting: it is not a 503.
				if errors.Is(err, hpametrics.ErrUnavailable) || errors.Is(err, hpametrics.ErrBadQuery) {
					t.Errorf("error = %v, want a plain error", err)
				}
				if len(fake.Requests()) != before {
					t.Errorf("request reached the handler despite the TLS failure")
				}
				return
			}
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			reqs := fake.Requests()
			if len(reqs) != before+1 {
				t.Fatalf("server saw %d new requests, want 1", len(reqs)-before)
			}
			r := reqs[len(reqs)-1]
			if r.Header.Get("Authorization") != "Bearer tls-token" || r.Header.Get("X-Scope-OrgID") != "tls" {
				t.Errorf("headers over TLS: %v", r.Header)
			}
		})
	}
}

func TestMissingCredentialFiles(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := hpametrics.NewClient(hpametrics.ClientConfig{URL: "https://127.0.0.1:1", TLS: hpametrics.TLSConfig{CAFile: missing}}); err == nil {
		t.Error("NewClient accepted a CA file that does not exist")
	}
	// A token file is read per request (it rotates), so a missing one fails
	// the request, before anything is sent, as a configuration error: no 503.
	fake, srv := newFakeProm(t, success(emptyVector))
	c := newClient(t, hpametrics.ClientConfig{URL: srv.URL, BearerTokenFile: missing})
	_, err := c.Query(context.Background(), "up", time.Time{})
	if err == nil || hpametrics.Outcome(err) != hpametrics.OutcomeError {
		t.Errorf("error = %v, want a plain error", err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests sent without the token", n)
	}
}
