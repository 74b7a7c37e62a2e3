package metrics_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// request is what the fake Prometheus saw of one request.
type request struct {
	Method string
	Path   string
	// Form holds the parameters, wherever they were sent (URL or body).
	Form url.Values
	// URLQuery holds only the parameters sent in the URL.
	URLQuery url.Values
	Header   http.Header
	User     string
	Password string
	HasBasic bool
}

// fakeProm plays Prometheus' HTTP API: respond decides each answer.
type fakeProm struct {
	t       *testing.T
	respond func(w http.ResponseWriter, r *request)

	mu       sync.Mutex
	requests []request
}

func (f *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	urlQuery := r.URL.Query()
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("fake prometheus: parse form: %v", err)
	}
	user, pass, ok := r.BasicAuth()
	req := request{
		Method: r.Method, Path: r.URL.Path, Form: r.Form, URLQuery: urlQuery,
		Header: r.Header.Clone(), User: user, Password: pass, HasBasic: ok,
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	f.respond(w, &req)
}

func (f *fakeProm) Requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

// newFakeProm starts an HTTP fake Prometheus that answers with respond.
func newFakeProm(t *testing.T, respond func(w http.ResponseWriter, r *request)) (*fakeProm, *httptest.Server) {
	t.Helper()
	f := &fakeProm{t: t, respond: respond}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// reply writes a Prometheus API body with the given status.
func reply(status int, body string) func(w http.ResponseWriter, r *request) {
	return func(w http.ResponseWriter, _ *request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

// success wraps data in a successful API envelope.
func success(data string) func(w http.ResponseWriter, r *request) {
	return reply(http.StatusOK, `{"status":"success","data":`+data+`}`)
}

const emptyVector = `{"resultType":"vector","result":[]}`

// pki is a CA with a server certificate for 127.0.0.1 and a client
// certificate, written as PEM files.
type pki struct {
	CAFile, ServerCertFile, ServerKeyFile, ClientCertFile, ClientKeyFile string
	CAPool                                                               *x509.CertPool
	ServerCert                                                           tls.Certificate
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	caKey := genKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatalf("create CA: %v", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatalf("parse CA: %v", err)
	}
	p := &pki{CAPool: x509.NewCertPool()}
	p.CAPool.AddCert(caCert)
	p.CAFile = writePEM(t, dir, "ca.crt", "CERTIFICATE", caDER)

	issue := func(serial int64, name string, usage x509.ExtKeyUsage, ips []net.IP) (string, string, tls.Certificate) {
		key := genKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  ips,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatalf("create %s certificate: %v", name, err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatalf("marshal %s key: %v", name, err)
		}
		certFile := writePEM(t, dir, name+".crt", "CERTIFICATE", der)
		keyFile := writePEM(t, dir, name+".key", "EC PRIVATE KEY", keyDER)
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatalf("load %s key pair: %v", name, err)
		}
		return certFile, keyFile, pair
	}
	p.ServerCertFile, p.ServerKeyFile, p.ServerCert = issue(2, "server", x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1")})
	p.ClientCertFile, p.ClientKeyFile, _ = issue(3, "client", x509.ExtKeyUsageClientAuth, nil)
	return p
}

func genKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	return key
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	return path
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}
