//go:build integration

package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/hpa-engine/hpa-engine/dashboards"
	"github.com/hpa-engine/hpa-engine/test/testbed"
)

// dashboardsDir holds the committed dashboards, relative to this package.
const dashboardsDir = "../../dashboards"

// TestDashboardsQueriesReturnData runs a Prometheus of its own scraping the
// adapter and a controller every second, makes an Autoscaler scale a
// Deployment and the adapter answer requests (one refused), then requires
// every variable of every committed dashboard to have values and every
// panel's query, with the variables set to real values, to return data.
func TestDashboardsQueriesReturnData(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	installAutoscalerCRD(ctx, t)
	ns := cp.CreateNamespace(ctx, t, "e2e-dashboards")
	createDeployment(ctx, t, ns, "web", 2)
	pusher := startPusher(t, ns)
	pusher.SetPodLoad("web", 10)
	createAutoscaler(ctx, t, ns, "web", podLoadAutoscaler(autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}, 1, 6, nil))
	_, controllerURL := startController(ctx, t, "hpa-engine-controller-dashboards")

	// A Prometheus of this test's own (the shared one holds pushed test
	// data and no scrape jobs), in an environment of its own so that its
	// data directory is its own.
	promCfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
- job_name: hpa-engine-adapter
  scheme: https
  tls_config:
    insecure_skip_verify: true
  static_configs:
  - targets: [%q]
- job_name: hpa-engine-controller
  static_configs:
  - targets: [%q]
`, strings.TrimPrefix(adapterURL, "https://"), strings.TrimPrefix(controllerURL, "http://"))
	scraper, err := testbed.New(t).StartPrometheus(ctx, testbed.PrometheusOptions{Config: promCfg})
	if err != nil {
		t.Fatal(err)
	}
	testbed.Eventually(ctx, t, "both engine processes scraped", func() error {
		v, err := instantQuery(ctx, scraper, `sum(up{job=~"hpa-engine-.*"})`)
		if err != nil {
			return err
		}
		if len(v) != 1 || v[0].Value != 2 {
			return fmt.Errorf("sum(up) = %v, want 2", v)
		}
		return nil
	})

	// A scale the scaler makes, and adapter requests: served ones and one
	// refused (no credentials), for the errors-by-code panel.
	pusher.SetPodLoad("web", 25)
	waitAutoscaled(ctx, t, deploymentsGVR, ns, "web", 6)
	for range 3 {
		if code, body := getAdapter(ctx, t, adminToken(), "/apis/custom.metrics.k8s.io/v1beta2/namespaces/"+ns+"/pods/*/e2e_pod_load"); code != 200 {
			t.Fatalf("adapter answered %d: %s", code, body)
		}
	}
	if code, _ := getAdapter(ctx, t, "", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/"+ns+"/pods/*/e2e_pod_load"); code < 400 {
		t.Fatalf("adapter answered %d to a request without credentials, want 401 or 403", code)
	}

	for _, f := range dashboards.Files() {
		t.Run(f.Name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dashboardsDir, f.Name))
			if err != nil {
				t.Fatal(err)
			}
			queries, err := dashboards.Queries(raw)
			if err != nil {
				t.Fatal(err)
			}
			// The variables this test picks, as a user would; the others
			// take every value they have ("All" with each value listed).
			picks := map[string]string{"namespace": ns, "target": "web"}
			vars := map[string]string{}
			for k, v := range picks {
				vars[k] = promRegexp(v)
			}
			for _, q := range queries {
				if !q.Variable {
					continue
				}
				name := strings.TrimPrefix(q.Panel, "variable ")
				sel := substituteVars(q.Expr, vars)
				var values []string
				testbed.Eventually(ctx, t, fmt.Sprintf("values of variable %s (%s)", name, sel), func() error {
					values, err = labelValues(ctx, scraper, q.Label, sel)
					if err != nil {
						return err
					}
					if len(values) == 0 {
						return fmt.Errorf("label_values(%s, %s) is empty", sel, q.Label)
					}
					return nil
				})
				if want, picked := picks[name]; picked {
					if !slices.Contains(values, want) {
						t.Errorf("variable %s: values %v do not include %s", name, values, want)
					}
					continue
				}
				quoted := make([]string, len(values))
				for i, v := range values {
					quoted[i] = promRegexp(v)
				}
				vars[name] = strings.Join(quoted, "|")
			}
			for _, q := range queries {
				if q.Variable {
					continue
				}
				expr := substituteVars(q.Expr, vars)
				t.Run(fmt.Sprintf("panel %d %s", q.PanelID, q.Panel), func(t *testing.T) {
					qctx, cancel := context.WithTimeout(ctx, 45*time.Second)
					defer cancel()
					testbed.Eventually(qctx, t, "data for "+expr, func() error {
						v, err := instantQuery(qctx, scraper, expr)
						if err != nil {
							return err
						}
						if len(v) == 0 {
							return fmt.Errorf("%s: empty result", expr)
						}
						return nil
					})
				})
			}
		})
	}
}

// substituteVars sets Grafana's variables in expr: $__rate_interval to a
// minute (sixty scrapes here), $name to vars[name].
func substituteVars(expr string, vars map[string]string) string {
	pairs := []string{"$__rate_interval", "1m"}
	// Longer names first, so that $namespace is not read as $name + space.
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	for _, n := range names {
		pairs = append(pairs, "$"+n, vars[n])
	}
	return strings.NewReplacer(pairs...).Replace(expr)
}

// promRegexp is value as a regular expression inside a PromQL string, as
// Grafana writes a multi-value variable's values: regexp metacharacters
// escaped, and the escapes escaped again for the string literal.
func promRegexp(value string) string {
	return strings.ReplaceAll(regexp.QuoteMeta(value), `\`, `\\`)
}

// instantQuery evaluates expr now and returns its vector, a scalar as a
// one-sample vector.
func instantQuery(ctx context.Context, p *testbed.Prometheus, expr string) (model.Vector, error) {
	v, warnings, _, err := p.API.Query(ctx, expr, time.Now())
	if err != nil {
		return nil, fmt.Errorf("query %q: %w (warnings %v)", expr, err, warnings)
	}
	switch r := v.(type) {
	case model.Vector:
		return r, nil
	case *model.Scalar:
		return model.Vector{{Value: r.Value, Timestamp: r.Timestamp}}, nil
	}
	return nil, fmt.Errorf("query %q: a %s, want a vector", expr, v.Type())
}

// labelValues is what Grafana's label_values(selector, label) asks
// Prometheus: the values of label on the series selector matches.
func labelValues(ctx context.Context, p *testbed.Prometheus, label, selector string) ([]string, error) {
	vals, _, _, err := p.API.LabelValues(ctx, label, []string{selector}, time.Now().Add(-time.Hour), time.Now())
	if err != nil {
		return nil, fmt.Errorf("label values of %s on %s: %w", label, url.QueryEscape(selector), err)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out, nil
}
