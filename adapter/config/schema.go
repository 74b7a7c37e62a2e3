package config

// File is the configuration file as written. Its fields are those of
// prometheus-adapter's MetricsDiscoveryConfig, so any file that tool loads
// loads here, plus two optional extensions: Backends and
// MetricsRelistInterval. Load turns a File into a compiled Config.
type File struct {
	// Rules map Prometheus series to custom.metrics.k8s.io metrics of
	// Kubernetes objects.
	Rules []DiscoveryRule `yaml:"rules"`
	// ExternalRules map Prometheus series to external.metrics.k8s.io
	// metrics, which belong to no object.
	ExternalRules []DiscoveryRule `yaml:"externalRules"`
	// ResourceRules describe the cpu and memory queries of the resource
	// metrics API (metrics.k8s.io).
	ResourceRules *ResourceRules `yaml:"resourceRules"`
	// MetricsRelistInterval, an engine extension, is how often the series
	// of every seriesQuery are listed again ("1m", "90s"). Empty leaves the
	// choice to the --metrics-relist-interval flag.
	MetricsRelistInterval string `yaml:"metricsRelistInterval"`
	// Backends, an engine extension, names Prometheus-compatible endpoints
	// other than the --prometheus-url one that rules may query.
	Backends []BackendSpec `yaml:"backends"`
}

// DiscoveryRule is one rule: which series to list (seriesQuery,
// seriesFilters), which objects they describe (resources), what the metric
// is called in the API (name) and how it is queried (metricsQuery).
type DiscoveryRule struct {
	// SeriesQuery is the series selector sent to Prometheus' /api/v1/series.
	// Rules with the same seriesQuery and backend share one call.
	SeriesQuery string `yaml:"seriesQuery"`
	// SeriesFilters keep or drop series by metric name, beyond what the
	// selector can say.
	SeriesFilters []RegexFilter `yaml:"seriesFilters"`
	// Resources maps labels to Kubernetes group-resources.
	Resources ResourceMapping `yaml:"resources"`
	// Name turns a series name into the API's metric name.
	Name NameMapping `yaml:"name"`
	// MetricsQuery is a Go template with << >> delimiters that renders the
	// PromQL query for a request.
	MetricsQuery string `yaml:"metricsQuery"`
	// Backend, an engine extension, names the entry of the top-level
	// backends list this rule queries; empty means the --prometheus-url one.
	Backend string `yaml:"backend"`
}

// RegexFilter keeps series whose name matches Is, or drops those that match
// IsNot. Exactly one of the two is set.
type RegexFilter struct {
	// Is keeps only series whose name matches this regular expression.
	Is string `yaml:"is"`
	// IsNot drops series whose name matches this regular expression.
	IsNot string `yaml:"isNot"`
}

// ResourceMapping associates Prometheus labels with Kubernetes
// group-resources, through a template, explicit overrides, or both.
type ResourceMapping struct {
	// Template produces a label name from .Group (dots and dashes turned
	// into underscores) and .Resource (singular), e.g.
	// "kube_<<.Group>>_<<.Resource>>". It is also matched against label
	// names, so it must not truncate either field.
	Template string `yaml:"template"`
	// Overrides maps a label name to the group-resource it names.
	Overrides map[string]GroupResource `yaml:"overrides"`
	// Namespaced, for external rules, says whether the request's namespace
	// becomes a matcher; unset means true.
	Namespaced *bool `yaml:"namespaced"`
}

// GroupResource is a Kubernetes group and resource as written in the file;
// the resource may be singular or plural ("pod", "pods").
type GroupResource struct {
	// Group is the API group; empty for the core group.
	Group string `yaml:"group"`
	// Resource is the resource, singular or plural; required.
	Resource string `yaml:"resource"`
}

// NameMapping turns a series name into the metric name the API shows.
type NameMapping struct {
	// Matches is a regular expression over the series name; empty means
	// ".*". It also filters series: names that do not match are dropped.
	Matches string `yaml:"matches"`
	// As is the API name, with $1-style references to Matches' groups.
	// Empty means "$0" without capture groups and "$1" with exactly one.
	As string `yaml:"as"`
}

// ResourceRules are the queries for the resource metrics API.
type ResourceRules struct {
	// CPU holds the cpu queries.
	CPU ResourceRule `yaml:"cpu"`
	// Memory holds the memory queries.
	Memory ResourceRule `yaml:"memory"`
	// Window is the range the queries compute over, reported to clients
	// ("5m").
	Window string `yaml:"window"`
}

// ResourceRule holds the queries of one resource (cpu or memory).
type ResourceRule struct {
	// ContainerQuery renders the per-container query (a << >> template).
	ContainerQuery string `yaml:"containerQuery"`
	// NodeQuery renders the per-node query (a << >> template).
	NodeQuery string `yaml:"nodeQuery"`
	// Resources maps labels to group-resources, as in a discovery rule.
	Resources ResourceMapping `yaml:"resources"`
	// ContainerLabel is the label that holds the container name.
	ContainerLabel string `yaml:"containerLabel"`
}

// BackendSpec is a named Prometheus-compatible endpoint (Prometheus, Thanos,
// Mimir, VictoriaMetrics) as written. Secrets are referenced by file, never
// inlined.
type BackendSpec struct {
	// Name is what rules write in their backend field.
	Name string `yaml:"name"`
	// URL is the base URL of the query API (http or https).
	URL string `yaml:"url"`
	// Timeout bounds each query ("30s"); empty means the default.
	Timeout string `yaml:"timeout"`
	// Headers are sent with every request (e.g. X-Scope-OrgID).
	Headers map[string]string `yaml:"headers"`
	// BearerTokenFile holds a token sent as "Authorization: Bearer".
	BearerTokenFile string `yaml:"bearerTokenFile"`
	// BasicAuth authenticates with a user name and a password file.
	BasicAuth *BasicAuth `yaml:"basicAuth"`
	// TLS configures the client side of HTTPS.
	TLS *TLS `yaml:"tls"`
}

// BasicAuth is HTTP basic authentication with the password read from a file.
type BasicAuth struct {
	// Username is the basic-auth user.
	Username string `yaml:"username"`
	// PasswordFile holds the password; it is read when the client is built.
	PasswordFile string `yaml:"passwordFile"`
}

// TLS is the client TLS configuration of a backend.
type TLS struct {
	// CAFile verifies the server; the system roots when empty.
	CAFile string `yaml:"caFile"`
	// CertFile and KeyFile are the client certificate, set together.
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
	// ServerName overrides the name the server certificate must carry.
	ServerName string `yaml:"serverName"`
	// InsecureSkipVerify disables server verification (tests only).
	InsecureSkipVerify bool `yaml:"insecureSkipVerify"`
}
