package provider

import (
	"maps"

	"github.com/hpa-engine/hpa-engine/adapter/config"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
)

// BackendClientConfig turns a named backend of the configuration file into
// the metrics client's configuration. verb is --prometheus-verb: the file
// does not set one per backend.
func BackendClientConfig(b *config.Backend, verb string) hpametrics.ClientConfig {
	cc := hpametrics.ClientConfig{
		Timeout:         b.Timeout,
		Verb:            verb,
		BearerTokenFile: b.BearerTokenFile,
		Headers:         maps.Clone(b.Headers),
	}
	if b.URL != nil {
		cc.URL = b.URL.String()
	}
	if b.BasicAuth != nil {
		cc.BasicAuth = &hpametrics.BasicAuth{Username: b.BasicAuth.Username, PasswordFile: b.BasicAuth.PasswordFile}
	}
	if b.TLS != nil {
		cc.TLS = hpametrics.TLSConfig{
			CAFile:             b.TLS.CAFile,
			CertFile:           b.TLS.CertFile,
			KeyFile:            b.TLS.KeyFile,
			InsecureSkipVerify: b.TLS.InsecureSkipVerify,
			ServerName:         b.TLS.ServerName,
		}
	}
	return cc
}

// NewQuerier builds the querier of one backend as the adapter uses it: the
// client, instrumented under the backend's name (so the metrics count the
// requests that reach Prometheus), then coalescing identical concurrent
// queries (HPAs that share a metric ask the same thing at the same time).
func NewQuerier(name string, cc hpametrics.ClientConfig, m *hpametrics.QueryMetrics, opts ...hpametrics.Option) (hpametrics.Querier, error) {
	opts = append([]hpametrics.Option{hpametrics.WithName(name)}, opts...)
	c, err := hpametrics.NewClient(cc, opts...)
	if err != nil {
		return nil, err
	}
	return hpametrics.Coalesce(hpametrics.Instrument(c, name, m)), nil
}

// QuerierFactory returns a Deps.NewQuerier that builds the file's named
// backends with NewQuerier.
func QuerierFactory(verb string, m *hpametrics.QueryMetrics, opts ...hpametrics.Option) func(*config.Backend) (Querier, error) {
	return func(b *config.Backend) (Querier, error) {
		return NewQuerier(b.Name, BackendClientConfig(b, verb), m, opts...)
	}
}
