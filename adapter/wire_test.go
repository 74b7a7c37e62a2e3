package adapter_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/request/anonymous"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	cmv1beta1 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta1"
	cmv1beta2 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	customclient "k8s.io/metrics/pkg/client/custom_metrics"
	externalclient "k8s.io/metrics/pkg/client/external_metrics"

	"github.com/hpa-engine/hpa-engine/adapter"
)

// newTLSServer runs the full handler chain (request info, authentication,
// authorization) with allow-all authentication and authorization behind an
// httptest TLS server, and returns a client config that trusts it.
func newTLSServer(t *testing.T) *rest.Config {
	t.Helper()
	p := newFixture()
	srv, err := adapter.New(adapter.Config{
		Authenticator: anonymous.NewAuthenticator(nil),
		Authorizer:    authorizerfactory.NewAlwaysAllowAuthorizer(),
	}, adapter.Deps{Custom: p, External: p})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(srv.Handler())
	t.Cleanup(ts.Close)
	cfg := &rest.Config{Host: ts.URL, Transport: ts.Client().Transport}
	return cfg
}

// newMapper maps the kinds the fixture serves, as the HPA controller's
// discovery-backed RESTMapper would.
func newMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper([]schema.GroupVersion{{Version: "v1"}, {Group: "apps", Version: "v1"}, {Group: "networking.k8s.io", Version: "v1"}})
	add := func(group, version, kind, resource string, scope meta.RESTScope) {
		m.AddSpecific(schema.GroupVersionKind{Group: group, Version: version, Kind: kind},
			schema.GroupVersionResource{Group: group, Version: version, Resource: resource},
			schema.GroupVersionResource{Group: group, Version: version, Resource: kind}, scope)
	}
	add("", "v1", "Pod", "pods", meta.RESTScopeNamespace)
	add("", "v1", "Service", "services", meta.RESTScopeNamespace)
	add("", "v1", "Node", "nodes", meta.RESTScopeRoot)
	add("", "v1", "Namespace", "namespaces", meta.RESTScopeRoot)
	add("apps", "v1", "Deployment", "deployments", meta.RESTScopeNamespace)
	add("networking.k8s.io", "v1", "Ingress", "ingresses", meta.RESTScopeNamespace)
	return m
}

// TestCustomMetricsClientCompatibility drives the server with k8s.io/metrics'
// own custom metrics clients, the ones the HPA controller uses: the
// discovery-based client (which must pick v1beta2) and a client pinned to each
// version.
func TestCustomMetricsClientCompatibility(t *testing.T) {
	cfg := newTLSServer(t)
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	apis := customclient.NewAvailableAPIsGetter(dc)
	preferred, err := apis.PreferredVersion()
	if err != nil {
		t.Fatalf("preferred version from discovery: %v", err)
	}
	if preferred != cmv1beta2.SchemeGroupVersion {
		t.Errorf("preferred version = %s, want %s", preferred, cmv1beta2.SchemeGroupVersion)
	}
	mapper := newMapper()
	// The HPA's clients speak JSON, or protobuf when kube-controller-manager
	// runs with --kube-api-content-type=application/vnd.kubernetes.protobuf
	// (its default): both must work, in every version.
	seen := &contentTypes{}
	clients := map[string]customclient.CustomMetricsClient{}
	for _, ct := range []string{"application/json", protobufType} {
		c := rest.CopyConfig(cfg)
		c.ContentType = ct
		c.AcceptContentTypes = ct + ",application/json"
		c.Wrap(seen.wrap)
		clients[ct+"/discovery"] = customclient.NewForConfig(c, mapper, apis)
		for _, gv := range []schema.GroupVersion{cmv1beta1.SchemeGroupVersion, cmv1beta2.SchemeGroupVersion} {
			vc, err := customclient.NewForVersionForConfig(rest.CopyConfig(c), mapper, gv)
			if err != nil {
				t.Fatal(err)
			}
			clients[ct+"/"+gv.Version] = vc
		}
	}
	t.Cleanup(func() {
		if !seen.has(protobufType) || !seen.has("application/json") {
			t.Errorf("response content types %v, want both JSON and protobuf", seen.list())
		}
	})

	pod := schema.GroupKind{Kind: "Pod"}
	web := labels.SelectorFromSet(labels.Set{"app": "web"})
	metricSel, err := labels.Parse("verb=GET")
	if err != nil {
		t.Fatal(err)
	}
	for version, c := range clients {
		t.Run(version, func(t *testing.T) {
			objectTests := []struct {
				name       string
				get        func() (string, string, error) // returns value and described name
				wantValue  string
				wantObject string
			}{
				{name: "namespaced pod by name", wantValue: "1500m", wantObject: "pod-a", get: value(c.NamespacedMetrics("default").GetForObject(pod, "pod-a", "http_requests", metricSel))},
				{name: "namespaced service", wantValue: "42", wantObject: "web", get: value(c.NamespacedMetrics("default").GetForObject(schema.GroupKind{Kind: "Service"}, "web", "requests_per_second", labels.Everything()))},
				{name: "group-qualified deployment", wantValue: "250m", wantObject: "web", get: value(c.NamespacedMetrics("default").GetForObject(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "web", "replicas_wanted", labels.Everything()))},
				{name: "group-qualified ingress", wantValue: "10", wantObject: "ing", get: value(c.NamespacedMetrics("default").GetForObject(schema.GroupKind{Group: "networking.k8s.io", Kind: "Ingress"}, "ing", "hits", labels.Everything()))},
				{name: "root-scoped node", wantValue: "2500m", wantObject: "node-1", get: value(c.RootScopedMetrics().GetForObject(schema.GroupKind{Kind: "Node"}, "node-1", "node_load", labels.Everything()))},
				{name: "namespace object", wantValue: "7", wantObject: "default", get: value(c.RootScopedMetrics().GetForObject(schema.GroupKind{Kind: "Namespace"}, "default", "queue_depth", labels.Everything()))},
			}
			for _, tt := range objectTests {
				t.Run(tt.name, func(t *testing.T) {
					got, name, err := tt.get()
					if err != nil {
						t.Fatal(err)
					}
					if got != tt.wantValue || name != tt.wantObject {
						t.Errorf("got %s of %q, want %s of %q", got, name, tt.wantValue, tt.wantObject)
					}
				})
			}

			t.Run("pods by selector", func(t *testing.T) {
				list, err := c.NamespacedMetrics("default").GetForObjects(pod, web, "http_requests", metricSel)
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]string{}
				for _, item := range list.Items {
					got[item.DescribedObject.Name] = item.Value.String()
					if item.Metric.Name != "http_requests" || item.WindowSeconds == nil || *item.WindowSeconds != 120 || !item.Timestamp.Time.Equal(sampleTime) {
						t.Errorf("item %s: metric %q window %v timestamp %s", item.DescribedObject.Name, item.Metric.Name, item.WindowSeconds, item.Timestamp)
					}
					if item.Metric.Selector == nil || len(item.Metric.Selector.MatchLabels)+len(item.Metric.Selector.MatchExpressions) == 0 {
						t.Errorf("item %s: metric selector not echoed: %v", item.DescribedObject.Name, item.Metric.Selector)
					}
				}
				want := map[string]string{"pod-a": "1500m", "pod-b": "3"}
				if len(got) != len(want) || got["pod-a"] != want["pod-a"] || got["pod-b"] != want["pod-b"] {
					t.Errorf("values = %v, want %v (NaN pod dropped, other labels and namespaces excluded)", got, want)
				}
			})

			t.Run("unknown metric is a NotFound", func(t *testing.T) {
				_, err := c.NamespacedMetrics("default").GetForObject(pod, "pod-a", "nope", labels.Everything())
				if !apierrors.IsNotFound(err) {
					t.Errorf("err = %v, want NotFound", err)
				}
			})
			t.Run("only NaN is a NotFound, never 0", func(t *testing.T) {
				_, err := c.NamespacedMetrics("default").GetForObject(pod, "pod-a", "nan_only", labels.Everything())
				if !apierrors.IsNotFound(err) {
					t.Errorf("err = %v, want NotFound", err)
				}
			})
		})
	}
}

// contentTypes records the Content-Type of every response a client gets.
type contentTypes struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (c *contentTypes) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		if err == nil {
			c.mu.Lock()
			if c.seen == nil {
				c.seen = map[string]bool{}
			}
			c.seen[resp.Header.Get("Content-Type")] = true
			c.mu.Unlock()
		}
		return resp, err
	})
}

func (c *contentTypes) has(ct string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[ct]
}

func (c *contentTypes) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for ct := range c.seen {
		out = append(out, ct)
	}
	return out
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// value adapts a client call result for the table above.
func value(v *cmv1beta2.MetricValue, err error) func() (string, string, error) {
	return func() (string, string, error) {
		if err != nil {
			return "", "", err
		}
		return v.Value.String(), v.DescribedObject.Name, nil
	}
}

// TestExternalMetricsClientCompatibility drives the server with
// k8s.io/metrics' external metrics client.
func TestExternalMetricsClientCompatibility(t *testing.T) {
	for _, ct := range []string{"application/json", protobufType} {
		t.Run(ct, func(t *testing.T) {
			cfg := newTLSServer(t)
			cfg.ContentType = ct
			cfg.AcceptContentTypes = ct + ",application/json"
			seen := &contentTypes{}
			cfg.Wrap(seen.wrap)
			c, err := externalclient.NewForConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			testExternalClient(t, c)
			if !seen.has(ct) {
				t.Errorf("response content types %v, want %s", seen.list(), ct)
			}
		})
	}
}

func testExternalClient(t *testing.T, c externalclient.ExternalMetricsClient) {
	tests := []struct {
		name     string
		selector labels.Selector
		want     map[string]string
		wantErr  func(error) bool
	}{
		{name: "all series", selector: labels.Everything(), want: map[string]string{"orders": "30", "billing": "12500m"}},
		{name: "one series", selector: labels.SelectorFromSet(labels.Set{"queue": "orders"}), want: map[string]string{"orders": "30"}},
		{name: "only NaN", selector: labels.SelectorFromSet(labels.Set{"queue": "broken"}), wantErr: apierrors.IsNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := c.NamespacedMetrics("default").List("queue_messages_ready", tt.selector)
			if tt.wantErr != nil {
				if !tt.wantErr(err) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, item := range list.Items {
				got[item.MetricLabels["queue"]] = item.Value.String()
				if item.WindowSeconds == nil || *item.WindowSeconds != 60 || !item.Timestamp.Time.Equal(sampleTime) {
					t.Errorf("series %v: window %v timestamp %s", item.MetricLabels, item.WindowSeconds, item.Timestamp)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("series = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("series %q = %s, want %s", k, got[k], v)
				}
			}
		})
	}
	t.Run("unknown metric", func(t *testing.T) {
		_, err := c.NamespacedMetrics("default").List("nope", labels.Everything())
		var se *apierrors.StatusError
		if !errors.As(err, &se) || se.Status().Code != http.StatusNotFound {
			t.Errorf("err = %v, want a 404 Status", err)
		}
	})
}
