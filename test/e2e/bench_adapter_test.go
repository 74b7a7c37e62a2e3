//go:build integration

package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/hpa-engine/hpa-engine/test/testbed"
)

// BenchmarkAdapterPodsMetric measures what the adapter adds to Prometheus for
// the request an HPA's Pods metric makes (`pods/*` with the workload's
// selector): per selection size, the adapter's latency beside the very PromQL
// it sent (read back from Prometheus' query log) sent straight to Prometheus,
// their ratio, and the query's size in bytes.
func BenchmarkAdapterPodsMetric(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			ns := benchNamespace(ctx, b, n)
			path := fmt.Sprintf("/apis/custom.metrics.k8s.io/v1beta2/namespaces/%s/pods/*/e2e_pod_load?labelSelector=%s", ns, url.QueryEscape("app=bench"))
			client := benchClient()

			// Warm up (authentication and authorization caches) and learn the query.
			if err := adapterGet(ctx, client, path, n); err != nil {
				b.Fatal(err)
			}
			query, err := lastLoggedQuery(ns)
			if err != nil {
				b.Fatal(err)
			}

			// Each iteration: the adapter as JSON, the adapter as protobuf
			// (what kube-controller-manager's client asks for), and the same
			// PromQL straight to Prometheus.
			var jsonTime, protoTime, promTime time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if err := adapterGet(ctx, client, path, n); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := adapterGetProto(ctx, client, path); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				if err := promQuery(ctx, client, query); err != nil {
					b.Fatal(err)
				}
				jsonTime += t1.Sub(t0)
				protoTime += t2.Sub(t1)
				promTime += time.Since(t2)
			}
			b.StopTimer()
			b.ReportMetric(float64(jsonTime.Nanoseconds())/float64(b.N), "adapter-json-ns/op")
			b.ReportMetric(float64(protoTime.Nanoseconds())/float64(b.N), "adapter-proto-ns/op")
			b.ReportMetric(float64(promTime.Nanoseconds())/float64(b.N), "prometheus-ns/op")
			b.ReportMetric(float64(jsonTime)/float64(promTime), "ratio-json")
			b.ReportMetric(float64(protoTime)/float64(promTime), "ratio-proto")
			b.ReportMetric(float64(len(query)), "query-bytes")
		})
	}
}

var benchNamespaces sync.Map // pod count -> namespace

// benchNamespace creates (once per count) a namespace with n pods labelled
// app=bench, which the fake kubelet leaves Pending, and pushes e2e_pod_load
// for each; it waits until the adapter serves all n.
func benchNamespace(ctx context.Context, b *testing.B, n int) string {
	if ns, ok := benchNamespaces.Load(n); ok {
		return ns.(string)
	}
	cfg := rest.CopyConfig(cp.Admin)
	cfg.QPS, cfg.Burst = 2000, 4000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	nsObj, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: fmt.Sprintf("bench-%d-", n)}}, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ns := nsObj.Name
	if err := cp.WaitForServiceAccount(ctx, ns); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	names := make(chan int)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range names {
				_, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-%05d", i), Labels: map[string]string{"app": "bench", testbed.UnmanagedLabel: "true"}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.invalid/app:1"}}},
				}, metav1.CreateOptions{})
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		names <- i
	}
	close(names)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	now := time.Now()
	var samples []testbed.Sample
	for i := 0; i < n; i++ {
		samples = append(samples, testbed.Sample{Labels: map[string]string{"__name__": "e2e_pod_load", "namespace": ns, "pod": fmt.Sprintf("bench-%05d", i)}, Value: float64(i % 50), Time: now})
	}
	if err := prom.Push(ctx, samples...); err != nil {
		b.Fatal(err)
	}
	path := fmt.Sprintf("/apis/custom.metrics.k8s.io/v1beta2/namespaces/%s/pods/*/e2e_pod_load?labelSelector=%s", ns, url.QueryEscape("app=bench"))
	client := benchClient()
	var last error
	for ctx.Err() == nil {
		if last = adapterGet(ctx, client, path, n); last == nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if last != nil {
		b.Fatal(last)
	}
	b.Logf("%d pods created and served in %s", n, time.Since(start).Round(time.Millisecond))
	benchNamespaces.Store(n, ns)
	return ns
}

func benchClient() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cp.PKI.CAPEM)
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 4}}
}

// adapterGet asks the adapter, as the HPA would, and wants want items.
func adapterGet(ctx context.Context, client *http.Client, path string, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, adapterURL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken())
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("adapter: %s: %.300s", resp.Status, body)
	}
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return err
	}
	if len(list.Items) != want {
		return fmt.Errorf("adapter served %d items, want %d", len(list.Items), want)
	}
	return nil
}

// adapterGetProto asks the adapter for protobuf, as kube-controller-manager's
// metrics client does, and reads the whole answer.
func adapterGetProto(ctx context.Context, client *http.Client, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, adapterURL+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken())
	req.Header.Set("Accept", "application/vnd.kubernetes.protobuf, */*")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/vnd.kubernetes.protobuf" || len(body) == 0 {
		return fmt.Errorf("adapter (protobuf): %s %s: %.100q", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	return nil
}

// promQuery sends query straight to Prometheus' instant query API, as a POST
// like the adapter's client does, and reads the whole answer.
func promQuery(ctx context.Context, client *http.Client, query string) error {
	form := url.Values{"query": {query}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, prom.URL+"/api/v1/query", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return err
	}
	if out.Status != "success" {
		return fmt.Errorf("prometheus: %s", out.Status)
	}
	return nil
}

// lastLoggedQuery returns the last query in Prometheus' query log that
// mentions the namespace.
func lastLoggedQuery(ns string) (string, error) {
	f, err := os.Open(queryLog)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	last := ""
	for sc.Scan() {
		var entry struct {
			Params struct {
				Query string `json:"query"`
			} `json:"params"`
		}
		if json.Unmarshal(sc.Bytes(), &entry) == nil && strings.Contains(entry.Params.Query, ns) {
			last = entry.Params.Query
		}
	}
	if last == "" {
		return "", fmt.Errorf("no query for %s in %s", ns, queryLog)
	}
	return last, sc.Err()
}
