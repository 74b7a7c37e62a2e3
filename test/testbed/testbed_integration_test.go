//go:build integration

package testbed_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/test/testbed"
)

var (
	cp       *testbed.ControlPlane
	prom     *testbed.Prometheus
	exported = prometheus.NewGauge(prometheus.GaugeOpts{Name: "testbed_exporter_value", Help: "A value the smoke test scrapes."})
)

func TestMain(m *testing.M) {
	os.Exit(testbed.Main(m, func(env *testbed.Env) error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		// A test exporter on the loopback for Prometheus to scrape.
		reg := prometheus.NewRegistry()
		reg.MustRegister(exported)
		exporter := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		env.OnClose(exporter.Close)

		var err error
		if cp, err = env.StartControlPlane(ctx, testbed.ControlPlaneOptions{ControllerManager: true, FakeKubelet: true}); err != nil {
			return err
		}
		prom, err = env.StartPrometheus(ctx, testbed.PrometheusOptions{Config: testbed.DefaultPrometheusConfig + fmt.Sprintf(`
scrape_configs:
- job_name: exporter
  static_configs:
  - targets: [%q]
`, exporter.Listener.Addr().String())})
		return err
	}))
}

func TestDeploymentScaledThroughScaleSubresource(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ns := cp.CreateNamespace(ctx, t, "smoke-scale")
	labels := map[string]string{"app": "web"}
	_, err := cp.Client.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		replicas int32
	}{
		{name: "up to 3", replicas: 3},
		{name: "down to 1", replicas: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cp.Client.AppsV1().Deployments(ns).UpdateScale(ctx, "web", &autoscalingv1.Scale{
				ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
				Spec:       autoscalingv1.ScaleSpec{Replicas: tt.replicas},
			}, metav1.UpdateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			testbed.Eventually(ctx, t, fmt.Sprintf("%d Ready pods and no others", tt.replicas), func() error {
				pods, err := cp.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
				if err != nil {
					return err
				}
				ready := 0
				for _, p := range pods.Items {
					if p.Status.Phase == corev1.PodRunning && isReady(&p) && p.Status.PodIP != "" && p.Status.StartTime != nil {
						ready++
					}
				}
				if ready != int(tt.replicas) || len(pods.Items) != int(tt.replicas) {
					return fmt.Errorf("%d pods, %d ready", len(pods.Items), ready)
				}
				d, err := cp.Client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
				if err != nil {
					return err
				}
				if d.Status.AvailableReplicas != tt.replicas {
					return fmt.Errorf("deployment has %d available", d.Status.AvailableReplicas)
				}
				return nil
			})
		})
	}
}

func TestPrometheusAnswers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	exported.Set(42.5)
	now := time.Now()
	if err := prom.Push(ctx,
		testbed.Sample{Labels: map[string]string{"__name__": "testbed_pushed", "pod": "a"}, Value: 1.25, Time: now.Add(-10 * time.Second)},
		testbed.Sample{Labels: map[string]string{"__name__": "testbed_pushed", "pod": "a"}, Value: 7.75, Time: now},
	); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		query string
		want  float64
	}{
		{name: "pushed sample", query: `testbed_pushed{pod="a"}`, want: 7.75},
		{name: "scraped sample", query: `testbed_exporter_value{job="exporter"}`, want: 42.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testbed.Eventually(ctx, t, tt.query, func() error {
				v, _, _, err := prom.API.Query(ctx, tt.query, time.Now())
				if err != nil {
					return err
				}
				vec, ok := v.(model.Vector)
				if !ok || len(vec) != 1 {
					return fmt.Errorf("want one sample, got %v", v)
				}
				if float64(vec[0].Value) != tt.want {
					return fmt.Errorf("value %v, want %v", vec[0].Value, tt.want)
				}
				return nil
			})
		})
	}
}

func TestAPIServiceThroughAggregator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// A tiny aggregated API server on the loopback, with a serving
	// certificate from the cluster CA so the APIService can verify it.
	certFile, keyFile, err := cp.PKI.ServingCert("smoke-server", testbed.ServiceDNSName(testbed.DefaultAPIServiceNamespace, "smoke"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string // X-Remote-User of requests that came through the front proxy
	mux := http.NewServeMux()
	mux.HandleFunc("/apis/smoke.testbed.io/v1", func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && r.TLS.PeerCertificates[0].Subject.CommonName == "front-proxy-client" {
			mu.Lock()
			seen = append(seen, r.Header.Get("X-Remote-User"))
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(metav1.APIResourceList{
			TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
			GroupVersion: "smoke.testbed.io/v1",
			APIResources: []metav1.APIResource{{Name: "things", Namespaced: true, Kind: "Thing", Verbs: []string{"get"}}},
		})
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	_, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)

	if err := cp.RegisterAPIService(ctx, testbed.APIServiceOptions{
		Group: "smoke.testbed.io", Version: "v1", Port: port, CABundle: cp.PKI.CAPEM, Service: "smoke",
	}); err != nil {
		t.Fatal(err)
	}

	body, err := cp.Client.Discovery().RESTClient().Get().AbsPath("/apis/smoke.testbed.io/v1").DoRaw(ctx)
	if err != nil {
		t.Fatalf("GET through the aggregator: %v", err)
	}
	var list metav1.APIResourceList
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if list.GroupVersion != "smoke.testbed.io/v1" || len(list.APIResources) != 1 || list.APIResources[0].Name != "things" {
		t.Errorf("unexpected answer through the aggregator: %s", body)
	}
	mu.Lock()
	defer mu.Unlock()
	found := false
	for _, u := range seen {
		if u == "admin" {
			found = true
		}
	}
	if !found {
		t.Errorf("no request from the front proxy carried X-Remote-User=admin; saw %q", seen)
	}
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }
