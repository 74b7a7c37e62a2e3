package testbed

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// keyPair is a certificate with its private key, and where both were written.
type keyPair struct {
	cert     *x509.Certificate
	key      crypto.Signer
	certFile string
	keyFile  string
	certPEM  []byte
}

// PKI holds the files of the test cluster's certificates and keys, named as a
// kubeadm cluster names them.
type PKI struct {
	Dir string

	CAFile             string // cluster CA: signs the serving and client certificates
	ServingCertFile    string // kube-apiserver serving certificate (127.0.0.1, localhost)
	ServingKeyFile     string
	FrontProxyCAFile   string // requestheader client CA
	FrontProxyCertFile string // the aggregator's client certificate (CN front-proxy-client)
	FrontProxyKeyFile  string
	SAKeyFile          string // service-account signing key
	SAPubFile          string
	TokenFile          string // static tokens (admin, controller manager, an unprivileged user)

	CAPEM []byte

	ca *keyPair
}

// Static tokens of the test cluster's users.
const (
	adminToken = "admin-token"
	kcmToken   = "kcm-token"
	// UserName is the unprivileged user the test bed defines: authenticated,
	// with no RBAC bindings of its own.
	UserName  = "alice"
	userToken = "alice-token"
)

func newPKI(dir string) (*PKI, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &PKI{Dir: dir}
	now := time.Now().Add(-time.Hour)

	ca, err := newCA(dir, "ca", "hpa-engine-testbed-ca", now)
	if err != nil {
		return nil, err
	}
	p.ca = ca
	serving, err := newLeaf(dir, "apiserver", ca, pkix.Name{CommonName: "kube-apiserver"}, now,
		[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		[]net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		return nil, err
	}
	fpCA, err := newCA(dir, "front-proxy-ca", "front-proxy-ca", now)
	if err != nil {
		return nil, err
	}
	fpClient, err := newLeaf(dir, "front-proxy-client", fpCA, pkix.Name{CommonName: "front-proxy-client"}, now,
		[]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil, nil)
	if err != nil {
		return nil, err
	}

	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	p.SAKeyFile = filepath.Join(dir, "sa.key")
	p.SAPubFile = filepath.Join(dir, "sa.pub")
	if err := writeKey(p.SAKeyFile, saKey); err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(saKey.Public())
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.SAPubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		return nil, err
	}

	p.TokenFile = filepath.Join(dir, "tokens.csv")
	tokens := fmt.Sprintf("%s,admin,uid-admin,\"system:masters\"\n%s,system:kube-controller-manager,uid-kcm\n%s,%s,uid-%s\n",
		adminToken, kcmToken, userToken, UserName, UserName)
	if err := os.WriteFile(p.TokenFile, []byte(tokens), 0o600); err != nil {
		return nil, err
	}

	p.CAFile, p.CAPEM = ca.certFile, ca.certPEM
	p.ServingCertFile, p.ServingKeyFile = serving.certFile, serving.keyFile
	p.FrontProxyCAFile = fpCA.certFile
	p.FrontProxyCertFile, p.FrontProxyKeyFile = fpClient.certFile, fpClient.keyFile
	return p, nil
}

// ServingCert issues a serving certificate signed by the cluster CA for
// localhost, 127.0.0.1 and dnsNames, and writes it under the PKI directory as
// name.crt and name.key. The aggregator verifies a server behind an APIService
// with a caBundle as <service>.<namespace>.svc (see ServiceDNSName).
func (p *PKI) ServingCert(name string, dnsNames ...string) (certFile, keyFile string, err error) {
	kp, err := newLeaf(p.Dir, name, p.ca, pkix.Name{CommonName: "localhost"}, time.Now().Add(-time.Hour),
		[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, append([]string{"localhost"}, dnsNames...), []net.IP{net.ParseIP("127.0.0.1")})
	if err != nil {
		return "", "", err
	}
	return kp.certFile, kp.keyFile, nil
}

func newCA(dir, name, cn string, notBefore time.Time) (*keyPair, error) {
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	return issue(dir, name, tmpl, nil)
}

func newLeaf(dir, name string, ca *keyPair, subject pkix.Name, notBefore time.Time, usages []x509.ExtKeyUsage, dnsNames []string, ips []net.IP) (*keyPair, error) {
	tmpl := &x509.Certificate{
		Subject:               subject,
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(10 * 365 * 24 * time.Hour),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           usages,
		DNSNames:              dnsNames,
		IPAddresses:           ips,
	}
	return issue(dir, name, tmpl, ca)
}

// issue signs tmpl with parent (or itself when parent is nil) and writes
// name.crt and name.key into dir.
func issue(dir, name string, tmpl *x509.Certificate, parent *keyPair) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	signerCert, signerKey := tmpl, crypto.Signer(key)
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signerKey)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	kp := &keyPair{
		cert:     cert,
		key:      key,
		certFile: filepath.Join(dir, name+".crt"),
		keyFile:  filepath.Join(dir, name+".key"),
		certPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
	}
	if err := os.WriteFile(kp.certFile, kp.certPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeKey(kp.keyFile, key); err != nil {
		return nil, err
	}
	return kp, nil
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600)
}
