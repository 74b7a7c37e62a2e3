package adapter

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	netutils "k8s.io/utils/net"
)

// DefaultSecurePort is prometheus-adapter's port, so manifests carry over.
const DefaultSecurePort = 6443

// Options are the adapter server's flags. They reuse k8s.io/apiserver's
// option structs so the flags are the ones every aggregated API server has:
// --secure-port, --bind-address, --tls-cert-file, --tls-private-key-file,
// --cert-dir, --authentication-kubeconfig, --requestheader-*, --client-ca-file,
// --authorization-kubeconfig, --authorization-always-allow-paths, ...
type Options struct {
	SecureServing  *genericoptions.SecureServingOptions
	Authentication *genericoptions.DelegatingAuthenticationOptions
	Authorization  *genericoptions.DelegatingAuthorizationOptions

	// Kubeconfig is used for TokenReview, SubjectAccessReview and the
	// extension-apiserver-authentication lookup when the dedicated
	// --authentication-kubeconfig / --authorization-kubeconfig are empty. It
	// is not a flag here: the command owns --kubeconfig and copies it in.
	Kubeconfig string

	// ShutdownTimeout bounds the drain of in-flight requests on shutdown.
	ShutdownTimeout time.Duration
	// RequestTimeout bounds each metrics request's provider call.
	RequestTimeout time.Duration
}

// NewOptions returns the defaults: port 6443, a self-signed in-memory
// certificate unless --tls-cert-file/--tls-private-key-file (or --cert-dir)
// are given, and /healthz, /readyz, /livez and /metrics always allowed.
func NewOptions() *Options {
	ss := genericoptions.NewSecureServingOptions()
	ss.BindPort = DefaultSecurePort
	// An empty directory keeps a generated certificate in memory rather than
	// writing a key into the working directory.
	ss.ServerCert.CertDirectory = ""
	ss.ServerCert.PairName = "hpa-engine-adapter"
	authz := genericoptions.NewDelegatingAuthorizationOptions().WithAlwaysAllowPaths("/metrics")
	return &Options{
		SecureServing:   ss,
		Authentication:  genericoptions.NewDelegatingAuthenticationOptions(),
		Authorization:   authz,
		ShutdownTimeout: 30 * time.Second,
		RequestTimeout:  30 * time.Second,
	}
}

// AddFlags registers the serving, authentication and authorization flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	o.SecureServing.AddFlags(fs)
	o.Authentication.AddFlags(fs)
	o.Authorization.AddFlags(fs)
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", o.ShutdownTimeout, "How long to wait for in-flight metrics requests on shutdown.")
	fs.DurationVar(&o.RequestTimeout, "metrics-request-timeout", o.RequestTimeout, "Bound on the Prometheus work of one metrics request; past it the request answers 503. 0 means no bound.")
}

// Validate reports every invalid flag combination at once.
func (o *Options) Validate() []error {
	var errs []error
	errs = append(errs, o.SecureServing.Validate()...)
	errs = append(errs, o.Authentication.Validate()...)
	errs = append(errs, o.Authorization.Validate()...)
	cert := o.SecureServing.ServerCert.CertKey
	if (cert.CertFile == "") != (cert.KeyFile == "") {
		errs = append(errs, errors.New("--tls-cert-file and --tls-private-key-file must be given together"))
	}
	if o.SecureServing.BindPort <= 0 && o.SecureServing.Listener == nil {
		errs = append(errs, fmt.Errorf("--secure-port %d: the adapter only serves HTTPS, so the port must be positive", o.SecureServing.BindPort))
	}
	if o.ShutdownTimeout < 0 {
		errs = append(errs, fmt.Errorf("--shutdown-timeout %s: must not be negative", o.ShutdownTimeout))
	}
	if o.RequestTimeout < 0 {
		errs = append(errs, fmt.Errorf("--metrics-request-timeout %s: must not be negative", o.RequestTimeout))
	}
	return errs
}

// Config validates the options, opens the listener, loads or generates the
// serving certificate and builds the delegating authenticator and authorizer.
// It talks to the cluster (the extension-apiserver-authentication ConfigMap)
// unless --authentication-skip-lookup is set.
func (o *Options) Config() (*Config, error) {
	if errs := o.Validate(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if o.Authentication.RemoteKubeConfigFile == "" {
		o.Authentication.RemoteKubeConfigFile = o.Kubeconfig
	}
	if o.Authorization.RemoteKubeConfigFile == "" {
		o.Authorization.RemoteKubeConfigFile = o.Kubeconfig
	}
	if err := o.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil, []net.IP{netutils.ParseIPSloppy("127.0.0.1")}); err != nil {
		return nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	var serving *server.SecureServingInfo
	if err := o.SecureServing.ApplyTo(&serving); err != nil {
		return nil, fmt.Errorf("secure serving: %w", err)
	}
	client, err := delegationClient(o.Authentication.RemoteKubeConfigFile, o.Authentication.RemoteKubeConfigFileOptional)
	if err != nil {
		return nil, fmt.Errorf("authentication: %w", err)
	}
	authn, requestHeader, err := newDelegatingAuthenticator(o.Authentication, client, o.Authorization.AlwaysAllowPaths, serving)
	if err != nil {
		return nil, fmt.Errorf("authentication: %w", err)
	}
	var authz server.AuthorizationInfo
	if err := o.Authorization.ApplyTo(&authz); err != nil {
		return nil, fmt.Errorf("authorization: %w", err)
	}
	return &Config{
		SecureServing:       serving,
		Authenticator:       authn,
		RequestHeaderConfig: requestHeader,
		Authorizer:          authz.Authorizer,
		ShutdownTimeout:     o.ShutdownTimeout,
		RequestTimeout:      o.RequestTimeout,
	}, nil
}
