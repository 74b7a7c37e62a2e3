package adapter

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/request/headerrequest"
	"k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

// Where kube-apiserver publishes the client and front-proxy CAs and the
// request-header settings for aggregated API servers.
const (
	authConfigMapNamespace = metav1.NamespaceSystem
	authConfigMapName      = "extension-apiserver-authentication"
)

// newDelegatingAuthenticator builds the authenticator from
// k8s.io/apiserver's authenticatorfactory, reading the same flags and the same
// ConfigMap as DelegatingAuthenticationOptions.ApplyTo. We do not call ApplyTo
// because it enables anonymous access on every path; here anonymous requests
// are accepted only on the always-allowed paths (/healthz, /readyz, /metrics),
// so a request without credentials to the metrics APIs is a 401, not a
// SubjectAccessReview for system:anonymous.
//
// The CAs it trusts are added to serving's client CAs so the TLS layer asks
// for client certificates and the dynamic controllers that follow the
// ConfigMap run while the server serves.
//
// client (nil when there is no kubeconfig and it is optional) sends the
// TokenReviews and reads the ConfigMap.
func newDelegatingAuthenticator(o *genericoptions.DelegatingAuthenticationOptions, client kubernetes.Interface, anonymousPaths []string, serving *server.SecureServingInfo) (authenticator.Request, *authenticatorfactory.RequestHeaderConfig, error) {
	var err error
	anonymous := &apiserver.AnonymousAuthConfig{Enabled: true}
	for _, p := range anonymousPaths {
		anonymous.Conditions = append(anonymous.Conditions, apiserver.AnonymousAuthCondition{Path: p})
	}
	if len(anonymous.Conditions) == 0 {
		// No condition would mean anonymous everywhere.
		anonymous.Enabled = false
	}
	cfg := authenticatorfactory.DelegatingAuthenticatorConfig{
		Anonymous:                anonymous,
		CacheTTL:                 o.CacheTTL,
		WebhookRetryBackoff:      o.WebhookRetryBackoff,
		TokenAccessReviewTimeout: o.TokenRequestTimeout,
	}
	if client != nil {
		cfg.TokenAccessReviewClient = client.AuthenticationV1()
	}
	info := &server.AuthenticationInfo{}
	lookup := !o.SkipInClusterLookup && client != nil

	// Client certificates signed by the cluster's client CA.
	switch {
	case o.ClientCert.ClientCA != "":
		ca, err := o.ClientCert.GetClientCAContentProvider()
		if err != nil {
			return nil, nil, fmt.Errorf("client CA %q: %w", o.ClientCert.ClientCA, err)
		}
		cfg.ClientCertificateCAContentProvider = ca
	case lookup:
		ca, err := dynamiccertificates.NewDynamicCAFromConfigMapController("client-ca", authConfigMapNamespace, authConfigMapName, "client-ca-file", client)
		if err != nil {
			return nil, nil, fmt.Errorf("client CA from configmap %s/%s: %w", authConfigMapNamespace, authConfigMapName, err)
		}
		cfg.ClientCertificateCAContentProvider = ca
	}
	if cfg.ClientCertificateCAContentProvider != nil {
		if err := info.ApplyClientCert(cfg.ClientCertificateCAContentProvider, serving); err != nil {
			return nil, nil, fmt.Errorf("client CA: %w", err)
		}
	}

	// The front proxy (the aggregator): X-Remote-* headers are honoured only
	// on connections with a client certificate from the request-header CA
	// whose name is allowed.
	var requestHeader *authenticatorfactory.RequestHeaderConfig
	switch {
	case o.RequestHeader.ClientCAFile != "":
		requestHeader, err = o.RequestHeader.ToAuthenticationRequestHeaderConfig()
		if err != nil {
			return nil, nil, fmt.Errorf("request header: %w", err)
		}
	case lookup:
		requestHeader, err = requestHeaderFromConfigMap(client)
		if err != nil {
			if !o.TolerateInClusterLookupFailure {
				return nil, nil, err
			}
			klog.ErrorS(err, "Front-proxy authentication disabled: lookup failed and --authentication-tolerate-lookup-failure is set")
			requestHeader = nil
		}
	}
	if requestHeader != nil {
		cfg.RequestHeaderConfig = requestHeader
		if err := info.ApplyClientCert(requestHeader.CAContentProvider, serving); err != nil {
			return nil, nil, fmt.Errorf("request header CA: %w", err)
		}
	}
	if client == nil && cfg.ClientCertificateCAContentProvider == nil && requestHeader == nil {
		klog.InfoS("No kubeconfig and no CA files: only anonymous requests to the always-allowed paths will be authenticated")
	}

	authn, _, err := cfg.New()
	if err != nil {
		return nil, nil, err
	}
	return authn, requestHeader, nil
}

// delegationClient returns the client for TokenReview and the ConfigMap
// lookup: from kubeconfig when given, else in-cluster. It returns nil when
// neither exists and the kubeconfig is optional.
func delegationClient(kubeconfig string, optional bool) (kubernetes.Interface, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig != "" {
		cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
			&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig}, &clientcmd.ConfigOverrides{}).ClientConfig()
	} else {
		cfg, err = rest.InClusterConfig()
		if err != nil && optional {
			return nil, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("delegation kubeconfig %q: %w", kubeconfig, err)
	}
	// Every metrics request may need a review: do not let client-side rate
	// limiting become the adapter's latency.
	cfg.QPS, cfg.Burst = 200, 400
	return kubernetes.NewForConfig(cfg)
}

// requestHeaderFromConfigMap follows the front-proxy CA and the request
// header settings kube-apiserver publishes, as upstream's delegating options
// do.
func requestHeaderFromConfigMap(client kubernetes.Interface) (*authenticatorfactory.RequestHeaderConfig, error) {
	ca, err := dynamiccertificates.NewDynamicCAFromConfigMapController("client-ca", authConfigMapNamespace, authConfigMapName, "requestheader-client-ca-file", client)
	if err != nil {
		return nil, fmt.Errorf("request header CA from configmap %s/%s: %w", authConfigMapNamespace, authConfigMapName, err)
	}
	headers := headerrequest.NewRequestHeaderAuthRequestController(authConfigMapName, authConfigMapNamespace, client,
		"requestheader-username-headers", "requestheader-uid-headers", "requestheader-group-headers",
		"requestheader-extra-headers-prefix", "requestheader-allowed-names")
	c := &requestHeaderController{ConfigMapCAController: ca, RequestHeaderAuthRequestController: headers}
	// The ConfigMap is read once now so the first requests are not all
	// rejected; the controllers keep following it once the server runs.
	if err := c.RunOnce(context.Background()); err != nil {
		return nil, fmt.Errorf("request header from configmap %s/%s: %w", authConfigMapNamespace, authConfigMapName, err)
	}
	return &authenticatorfactory.RequestHeaderConfig{
		CAContentProvider:   c,
		UsernameHeaders:     headerrequest.StringSliceProviderFunc(headers.UsernameHeaders),
		UIDHeaders:          headerrequest.StringSliceProviderFunc(headers.UIDHeaders),
		GroupHeaders:        headerrequest.StringSliceProviderFunc(headers.GroupHeaders),
		ExtraHeaderPrefixes: headerrequest.StringSliceProviderFunc(headers.ExtraHeaderPrefixes),
		AllowedClientNames:  headerrequest.StringSliceProviderFunc(headers.AllowedClientNames),
	}, nil
}

// requestHeaderController runs the CA and the header settings controllers
// together; the serving layer runs it as a dynamiccertificates.ControllerRunner
// because it is the request-header CA provider.
type requestHeaderController struct {
	*dynamiccertificates.ConfigMapCAController
	*headerrequest.RequestHeaderAuthRequestController
}

var (
	_ dynamiccertificates.CAContentProvider = (*requestHeaderController)(nil)
	_ dynamiccertificates.ControllerRunner  = (*requestHeaderController)(nil)
)

// RunOnce reads the ConfigMap once for both controllers.
func (c *requestHeaderController) RunOnce(ctx context.Context) error {
	if err := c.ConfigMapCAController.RunOnce(ctx); err != nil {
		return err
	}
	return c.RequestHeaderAuthRequestController.RunOnce(ctx)
}

// Run follows the ConfigMap until ctx is done.
func (c *requestHeaderController) Run(ctx context.Context, workers int) {
	go c.ConfigMapCAController.Run(ctx, workers)
	go c.RequestHeaderAuthRequestController.Run(ctx, workers)
	<-ctx.Done()
}
