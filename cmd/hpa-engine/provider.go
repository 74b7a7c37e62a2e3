package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/klog/v2"

	"github.com/hpa-engine/hpa-engine/adapter/provider"
	hpametrics "github.com/hpa-engine/hpa-engine/metrics"
)

// providerOptions are the flags of the Prometheus-backed provider, which
// `hpa-engine adapter` serves over HTTP and `hpa-engine controller` uses
// in-process: prometheus-adapter's own flags, so its manifests carry over.
type providerOptions struct {
	ConfigFile     string
	RelistInterval time.Duration
	SeriesMaxAge   time.Duration
	MaxQueryNames  int

	Prometheus hpametrics.ClientConfig
	// Headers are the raw --prometheus-header values, key=value.
	Headers []string
}

func newProviderOptions() providerOptions {
	return providerOptions{
		RelistInterval: provider.DefaultRelistInterval,
		MaxQueryNames:  provider.DefaultMaxQueryNames,
		Prometheus:     hpametrics.ClientConfig{Timeout: hpametrics.DefaultTimeout, Verb: hpametrics.VerbPOST},
	}
}

// AddFlags registers the provider's flags on fs.
func (o *providerOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ConfigFile, "config", o.ConfigFile, "The prometheus-adapter compatible configuration file (rules, externalRules, resourceRules). Reloaded when it changes.")
	fs.DurationVar(&o.RelistInterval, "metrics-relist-interval", o.RelistInterval, "How often the series of every seriesQuery are listed again (the file's metricsRelistInterval wins when set).")
	fs.DurationVar(&o.SeriesMaxAge, "metrics-max-age", o.SeriesMaxAge, "How far back a series listing looks; 10m or the relist interval, whichever is longer, when 0.")
	fs.IntVar(&o.MaxQueryNames, "max-query-names", o.MaxQueryNames, "Largest selection of objects queried by name; larger selections are queried by namespace and filtered in-process.")
	fs.StringVar(&o.Prometheus.URL, "prometheus-url", o.Prometheus.URL, "URL of the default Prometheus-compatible query API.")
	fs.DurationVar(&o.Prometheus.Timeout, "prometheus-timeout", o.Prometheus.Timeout, "Timeout of each request to Prometheus.")
	fs.StringVar(&o.Prometheus.Verb, "prometheus-verb", o.Prometheus.Verb, "HTTP verb of queries, POST or GET.")
	fs.StringVar(&o.Prometheus.TLS.CAFile, "prometheus-ca-file", o.Prometheus.TLS.CAFile, "CA bundle that verifies Prometheus' certificate.")
	fs.StringVar(&o.Prometheus.TLS.CertFile, "prometheus-client-cert", o.Prometheus.TLS.CertFile, "Client certificate presented to Prometheus.")
	fs.StringVar(&o.Prometheus.TLS.KeyFile, "prometheus-client-key", o.Prometheus.TLS.KeyFile, "Key of --prometheus-client-cert.")
	fs.BoolVar(&o.Prometheus.TLS.InsecureSkipVerify, "prometheus-insecure-skip-tls-verify", o.Prometheus.TLS.InsecureSkipVerify, "Do not verify Prometheus' certificate (testing only).")
	fs.StringVar(&o.Prometheus.BearerTokenFile, "prometheus-token-file", o.Prometheus.BearerTokenFile, "File holding a bearer token for Prometheus, re-read when it changes.")
	fs.StringArrayVar(&o.Headers, "prometheus-header", o.Headers, "Header sent with every request to Prometheus, as key=value (e.g. X-Scope-OrgID=tenant); repeatable.")
}

// Validate reports every invalid provider flag; it does not touch the network.
func (o *providerOptions) Validate() []error {
	var errs []error
	if o.ConfigFile == "" {
		errs = append(errs, errors.New("--config is required"))
	}
	if o.RelistInterval <= 0 {
		errs = append(errs, fmt.Errorf("--metrics-relist-interval %s: must be positive", o.RelistInterval))
	}
	if o.SeriesMaxAge < 0 {
		errs = append(errs, fmt.Errorf("--metrics-max-age %s: must not be negative", o.SeriesMaxAge))
	}
	if o.MaxQueryNames <= 0 {
		errs = append(errs, fmt.Errorf("--max-query-names %d: must be positive", o.MaxQueryNames))
	}
	if _, err := o.clientConfig(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// clientConfig is the default backend's client configuration, headers
// included.
func (o *providerOptions) clientConfig() (hpametrics.ClientConfig, error) {
	cc := o.Prometheus
	headers, err := parseHeaders(o.Headers)
	if err != nil {
		return cc, err
	}
	cc.Headers = headers
	if err := cc.Validate(); err != nil {
		return cc, fmt.Errorf("--prometheus-*: %w", err)
	}
	return cc, nil
}

// providerConfig is the plain configuration of the provider.
func (o *providerOptions) providerConfig() provider.Config {
	return provider.Config{RelistInterval: o.RelistInterval, SeriesMaxAge: o.SeriesMaxAge, MaxQueryNames: o.MaxQueryNames}
}

// parseHeaders turns repeated key=value flags into a map.
func parseHeaders(raw []string) (map[string]string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(raw))
	for _, h := range raw {
		k, v, ok := strings.Cut(h, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("--prometheus-header %q: want key=value", h)
		}
		out[k] = v
	}
	return out, nil
}

// promProvider is the provider with the parts that run beside it.
type promProvider struct {
	*provider.Provider
	objects  *provider.ObjectCache
	reloader *provider.Reloader
}

// newPromProvider builds the provider of both commands: the rules of
// configFile (reloaded when it changes), the default backend cc, object names
// from metadata informers and resources from API discovery.
func newPromProvider(configFile string, pcfg provider.Config, cc hpametrics.ClientConfig, disc discovery.DiscoveryInterface, meta metadata.Interface, reg prometheus.Registerer) (*promProvider, error) {
	reloader := provider.NewReloader(configFile, reg)
	rules, err := reloader.Load()
	if err != nil {
		return nil, err
	}
	queryMetrics := hpametrics.NewQueryMetrics(reg)
	querier, err := provider.NewQuerier("default", cc, queryMetrics)
	if err != nil {
		return nil, err
	}
	objects := provider.NewObjectCache(meta, 0, 0)
	pcfg.Rules = rules
	p, err := provider.New(pcfg, provider.Deps{
		Querier:    querier,
		NewQuerier: provider.QuerierFactory(cc.Verb, queryMetrics),
		Mapper:     discoveryMapper(disc),
		Objects:    objects,
		Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	return &promProvider{Provider: p, objects: objects, reloader: reloader}, nil
}

// runners are what must run for the provider to serve: the object caches
// (pods listed first, as Pods metrics need them), the discovery relist and
// the configuration reload.
func (p *promProvider) runners() []func(context.Context) error {
	return []func(context.Context) error{
		p.objects.Run,
		func(ctx context.Context) error {
			if err := p.objects.Prepare(ctx, schema.GroupVersionResource{Version: "v1", Resource: "pods"}); err != nil && ctx.Err() == nil {
				klog.ErrorS(err, "Pods not cached yet; the first requests will wait for them")
			}
			return nil
		},
		p.Run,
		func(ctx context.Context) error { return p.reloader.Run(ctx, p.SetConfig) },
	}
}
