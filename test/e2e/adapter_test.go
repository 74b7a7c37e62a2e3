//go:build integration

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	cmv1beta1 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta1"
	cmv1beta2 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	emv1beta1 "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"

	"github.com/hpa-engine/hpa-engine/test/testbed"
)

// TestHPAScalesOnAdapterMetrics: real autoscaling/v2 HPAs, run by the real
// kube-controller-manager through the aggregator, scale Deployments up and
// back down on each kind of metric the adapter serves.
func TestHPAScalesOnAdapterMetrics(t *testing.T) {
	tests := []struct {
		name   string
		metric autoscalingv2.MetricSpec
		// high and low set the load; the HPA must reach upTo, then downTo.
		high, low    func(p *loadPusher)
		upTo, downTo int32
	}{
		{
			name: "pods metric",
			metric: autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: "e2e_pod_load"}, Target: averageValue("10"),
			}},
			// 1 pod at 30 -> ceil(30/10 x 1) = 3; 3 pods at 2 -> 1.
			high: func(p *loadPusher) { p.SetPodLoad("web", 30) },
			low:  func(p *loadPusher) { p.SetPodLoad("web", 2) },
			upTo: 3, downTo: 1,
		},
		{
			name: "object metric of a Service",
			metric: autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
				DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "v1", Kind: "Service", Name: "web"},
				Metric:          autoscalingv2.MetricIdentifier{Name: "e2e_service_rps"},
				Target:          averageValue("100"),
			}},
			// 300 rps at 100 per replica -> 3; 50 -> 1.
			high: func(p *loadPusher) { p.Set(map[string]string{"__name__": "e2e_service_rps", "service": "web"}, 300) },
			low:  func(p *loadPusher) { p.Set(map[string]string{"__name__": "e2e_service_rps", "service": "web"}, 50) },
			upTo: 3, downTo: 1,
		},
		{
			name: "external metric",
			metric: autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: "e2e_queue_length", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"queue": "jobs"}}},
				Target: averageValue("10"),
			}},
			// 40 messages at 10 per replica -> 4; 0 -> min 1.
			high: func(p *loadPusher) {
				p.Set(map[string]string{"__name__": "e2e_queue_length", "queue": "jobs"}, 40)
				p.Set(map[string]string{"__name__": "e2e_queue_length", "queue": "other"}, 1000)
			},
			low:  func(p *loadPusher) { p.Set(map[string]string{"__name__": "e2e_queue_length", "queue": "jobs"}, 0) },
			upTo: 4, downTo: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			ns := cp.CreateNamespace(ctx, t, "e2e-hpa")
			createHeadlessService(ctx, t, ns, "web")
			createDeployment(ctx, t, ns, "web", 1)
			pusher := startPusher(t, ns)
			tt.low(pusher)
			createHPA(ctx, t, ns, "web", 1, 4, tt.metric)
			waitReplicas(ctx, t, ns, "web", 1)
			testbed.Eventually(ctx, t, "ScalingActive=True", func() error {
				c, err := hpaCondition(ctx, ns, "web", autoscalingv2.ScalingActive)
				if err != nil {
					return err
				}
				if c.Status != corev1.ConditionTrue {
					return fmt.Errorf("%s: %s", c.Reason, c.Message)
				}
				return nil
			})

			start := time.Now()
			tt.high(pusher)
			waitReplicas(ctx, t, ns, "web", tt.upTo)
			t.Logf("scaled up to %d in %s", tt.upTo, time.Since(start).Round(100*time.Millisecond))

			start = time.Now()
			tt.low(pusher)
			waitReplicas(ctx, t, ns, "web", tt.downTo)
			t.Logf("scaled down to %d in %s", tt.downTo, time.Since(start).Round(100*time.Millisecond))
		})
	}
}

// TestHPAHoldsWhilePrometheusIsDown: with Prometheus stopped the adapter
// answers 503, the HPA reports ScalingActive=False and keeps its replicas; it
// recovers when Prometheus is back.
func TestHPAHoldsWhilePrometheusIsDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ns := cp.CreateNamespace(ctx, t, "e2e-promdown")
	createDeployment(ctx, t, ns, "web", 2)
	pusher := startPusher(t, ns)
	pusher.SetPodLoad("web", 10) // exactly on target: hold at 2
	createHPA(ctx, t, ns, "web", 1, 6, autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: "e2e_pod_load"}, Target: averageValue("10"),
	}})
	testbed.Eventually(ctx, t, "ScalingActive=True", func() error {
		c, err := hpaCondition(ctx, ns, "web", autoscalingv2.ScalingActive)
		if err != nil {
			return err
		}
		if c.Status != corev1.ConditionTrue {
			return fmt.Errorf("%s: %s", c.Reason, c.Message)
		}
		return nil
	})
	waitReplicas(ctx, t, ns, "web", 2)

	prom.Stop()
	restarted := false
	defer func() {
		if !restarted {
			_ = prom.Start(context.Background())
		}
	}()

	// The adapter answers 503 for the metric now.
	code, body := getAdapter(ctx, t, adminToken(), fmt.Sprintf("/apis/custom.metrics.k8s.io/v1beta2/namespaces/%s/pods/*/e2e_pod_load", ns))
	if code != http.StatusServiceUnavailable {
		t.Errorf("with Prometheus stopped: got %d %s, want 503", code, body)
	}
	testbed.Eventually(ctx, t, "ScalingActive=False while Prometheus is down", func() error {
		c, err := hpaCondition(ctx, ns, "web", autoscalingv2.ScalingActive)
		if err != nil {
			return err
		}
		if c.Status != corev1.ConditionFalse || c.Reason != "FailedGetPodsMetric" {
			return fmt.Errorf("ScalingActive=%s %s: %s", c.Status, c.Reason, c.Message)
		}
		return nil
	})
	// Several sync periods later nothing has moved: no scale to min.
	time.Sleep(6 * time.Second)
	d, err := cp.Client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 2 {
		t.Fatalf("replicas moved to %d while Prometheus was down", *d.Spec.Replicas)
	}

	if err := prom.Start(ctx); err != nil {
		t.Fatal(err)
	}
	restarted = true
	pusher.SetPodLoad("web", 25) // 2 pods at 25 -> ceil(2 x 2.5) = 5
	waitReplicas(ctx, t, ns, "web", 5)
	c, err := hpaCondition(ctx, ns, "web", autoscalingv2.ScalingActive)
	if err != nil || c.Status != corev1.ConditionTrue {
		t.Errorf("ScalingActive after recovery: %+v %v", c, err)
	}
}

// TestAdapterAuth: the adapter authenticates with delegated TokenReview and
// front-proxy certificates and authorizes with SubjectAccessReview.
func TestAdapterAuth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	path := "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/e2e_pod_load"
	if err := prom.Push(ctx, testbed.Sample{Labels: map[string]string{"__name__": "e2e_pod_load", "namespace": "default", "pod": "auth"}, Value: 1, Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	waitDiscovered(ctx, t, "custom.metrics.k8s.io/v1beta2", "pods/e2e_pod_load")
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{name: "no credentials", token: "", want: http.StatusUnauthorized},
		{name: "invalid token", token: "not-a-token", want: http.StatusUnauthorized},
		{name: "token without RBAC", token: cp.User.BearerToken, want: http.StatusForbidden},
		{name: "cluster admin", token: adminToken(), want: http.StatusOK},
		{name: "health is open", token: "", want: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := path
			if tt.name == "health is open" {
				p = "/healthz"
			}
			code, body := getAdapter(ctx, t, tt.token, p)
			if code != tt.want {
				t.Fatalf("GET %s: %d %s, want %d", p, code, body, tt.want)
			}
			if code >= 400 {
				var st metav1.Status
				if err := json.Unmarshal([]byte(body), &st); err != nil || st.Kind != "Status" || int(st.Code) != tt.want {
					t.Errorf("error body is not a Status with code %d: %s", tt.want, body)
				}
			}
		})
	}
	t.Run("through the aggregator as the unprivileged user", func(t *testing.T) {
		_, err := kubeGet(ctx, cp.User.BearerToken, path)
		if !apierrors.IsForbidden(err) {
			t.Fatalf("want forbidden, got %v", err)
		}
	})
}

// TestAdapterAgainstPrometheus checks what the adapter serves from a real
// Prometheus, through the aggregator, in every API version.
func TestAdapterAgainstPrometheus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := cp.CreateNamespace(ctx, t, "e2e-values")
	createHeadlessService(ctx, t, ns, "web")
	createHeadlessService(ctx, t, ns, "nan")
	now := time.Now()
	push := func(name string, labels map[string]string, v float64, at time.Time) {
		t.Helper()
		l := map[string]string{"__name__": name, "namespace": ns}
		for k, val := range labels {
			l[k] = val
		}
		if err := prom.Push(ctx, testbed.Sample{Labels: l, Value: v, Time: at}); err != nil {
			t.Fatal(err)
		}
	}
	createPod(ctx, t, ns, "p1")
	push("e2e_service_rps", map[string]string{"service": "web"}, 0.25, now)
	push("e2e_service_rps", map[string]string{"service": "nan"}, math.NaN(), now)
	push("e2e_queue_length", map[string]string{"queue": "jobs"}, 1500, now)
	// A counter over three minutes: 2 per second -> rate 2 over [2m].
	for i := 0; i <= 180; i += 15 {
		push("e2e_requests_total", map[string]string{"pod": "p1"}, float64(2*i), now.Add(time.Duration(i-180)*time.Second))
	}

	waitDiscovered(ctx, t, "custom.metrics.k8s.io/v1beta2", "services/e2e_service_rps", "pods/e2e_requests_per_second")
	waitDiscovered(ctx, t, "external.metrics.k8s.io/v1beta1", "e2e_queue_length")

	t.Run("v1beta2 object value, fractional, with a timestamp", func(t *testing.T) {
		body, err := kubeGet(ctx, adminToken(), fmt.Sprintf("/apis/custom.metrics.k8s.io/v1beta2/namespaces/%s/services/web/e2e_service_rps", ns))
		if err != nil {
			t.Fatal(err)
		}
		var list cmv1beta2.MetricValueList
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 1 {
			t.Fatalf("want 1 item: %s", body)
		}
		it := list.Items[0]
		if it.Value.String() != "250m" || it.DescribedObject.Kind != "Service" || it.DescribedObject.Name != "web" || it.Metric.Name != "e2e_service_rps" {
			t.Errorf("unexpected item: %s", body)
		}
		if d := time.Since(it.Timestamp.Time); it.Timestamp.IsZero() || d < -5*time.Second || d > time.Minute {
			t.Errorf("timestamp %v is not a recent sample time", it.Timestamp)
		}
	})
	t.Run("v1beta1 pods rate with windowSeconds from the rule's range", func(t *testing.T) {
		body, err := kubeGet(ctx, adminToken(), fmt.Sprintf("/apis/custom.metrics.k8s.io/v1beta1/namespaces/%s/pods/*/e2e_requests_per_second", ns))
		if err != nil {
			t.Fatal(err)
		}
		var list cmv1beta1.MetricValueList
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 1 || list.Items[0].WindowSeconds == nil || *list.Items[0].WindowSeconds != 120 || list.Items[0].Value.String() != "2" {
			t.Errorf("want one item of value 2 over 120s: %s", body)
		}
	})
	t.Run("external value sums the selected series", func(t *testing.T) {
		path := fmt.Sprintf("/apis/external.metrics.k8s.io/v1beta1/namespaces/%s/e2e_queue_length?labelSelector=queue%%3Djobs", ns)
		code, body := getAdapter(ctx, t, adminToken(), path)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		var list emv1beta1.ExternalMetricValueList
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 1 || list.Items[0].Value.String() != "1500" || list.Items[0].MetricLabels["queue"] != "jobs" {
			t.Errorf("unexpected: %s", body)
		}
	})
	errs := []struct {
		name string
		path string
		want int
	}{
		{name: "NaN is no data, not 0", path: fmt.Sprintf("/apis/custom.metrics.k8s.io/v1beta2/namespaces/%s/services/nan/e2e_service_rps", ns), want: 404},
		{name: "unknown object", path: fmt.Sprintf("/apis/custom.metrics.k8s.io/v1beta2/namespaces/%s/services/missing/e2e_service_rps", ns), want: 404},
		{name: "unknown metric", path: fmt.Sprintf("/apis/custom.metrics.k8s.io/v1beta2/namespaces/%s/services/web/nope", ns), want: 404},
		{name: "no data for external", path: fmt.Sprintf("/apis/external.metrics.k8s.io/v1beta1/namespaces/%s/e2e_queue_length?labelSelector=queue%%3Dnone", ns), want: 404},
		{name: "bad selector", path: fmt.Sprintf("/apis/custom.metrics.k8s.io/v1beta2/namespaces/%s/pods/*/e2e_pod_load?labelSelector=a%%3E%%3D%%3D", ns), want: 400},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			code, body := getAdapter(ctx, t, adminToken(), tt.path)
			if code != tt.want {
				t.Errorf("GET %s: %d %s, want %d", tt.path, code, body, tt.want)
			}
		})
	}
}

func createHeadlessService(ctx context.Context, t *testing.T, ns, name string) {
	t.Helper()
	_, err := cp.Client.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Selector:  map[string]string{"app": name},
			Ports:     []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// waitDiscovered waits until the adapter's discovery document, read through
// the aggregator, lists every name.
func waitDiscovered(ctx context.Context, t *testing.T, groupVersion string, names ...string) {
	t.Helper()
	testbed.Eventually(ctx, t, "discovery of "+strings.Join(names, ", "), func() error {
		body, err := kubeGet(ctx, adminToken(), "/apis/"+groupVersion)
		if err != nil {
			return err
		}
		var list metav1.APIResourceList
		if err := json.Unmarshal(body, &list); err != nil {
			return err
		}
		have := map[string]bool{}
		for _, r := range list.APIResources {
			have[r.Name] = true
		}
		for _, n := range names {
			if !have[n] {
				return fmt.Errorf("%s not in %s", n, body)
			}
		}
		return nil
	})
}

func createPod(ctx context.Context, t *testing.T, ns, name string) {
	t.Helper()
	_, err := cp.Client.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func adminToken() string { return cp.Admin.BearerToken }

// getAdapter sends a GET straight to the adapter (not through the
// aggregator), with a bearer token when one is given.
func getAdapter(ctx context.Context, t *testing.T, token, path string) (int, string) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cp.PKI.CAPEM)
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, adapterURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// kubeGet sends a GET through kube-apiserver (and so the aggregator).
func kubeGet(ctx context.Context, token, path string) ([]byte, error) {
	cfg := rest.CopyConfig(cp.Admin)
	cfg.BearerToken = token
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return cs.Discovery().RESTClient().Get().AbsPath(path).DoRaw(ctx)
}
