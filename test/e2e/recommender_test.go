//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/test/testbed"
)

// TestRecommendationsAgreeWithKubeControllerManager runs `hpa-engine
// controller` beside the real kube-controller-manager: for a native HPA on
// the adapter's metrics, the recommendation served over REST must agree with
// the desiredReplicas the HPA controller sets, at every step of a scripted
// load change.
func TestRecommendationsAgreeWithKubeControllerManager(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	_, restURL := startController(ctx, t, "hpa-engine-controller")

	ns := cp.CreateNamespace(ctx, t, "e2e-agree")
	createDeployment(ctx, t, ns, "web", 2)
	pusher := startPusher(t, ns)
	pusher.SetPodLoad("web", 10)
	createHPA(ctx, t, ns, "web", 1, 8, autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: "e2e_pod_load"}, Target: averageValue("10"),
	}})

	steps := []struct {
		name string
		load float64
		want int32
	}{
		{name: "on target: hold", load: 10, want: 2},
		{name: "2.5x: scale up", load: 25, want: 5},
		{name: "4x: capped at maxReplicas", load: 40, want: 8},
		{name: "0.3x: scale down", load: 3, want: 3},
		{name: "within tolerance: hold", load: 10.5, want: 3},
	}
	prev := int32(2)
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			pusher.SetPodLoad("web", st.load)
			// Every value hpa-engine recommends on the way must be the one
			// it came from or the one the HPA controller settles on.
			seen := map[int32]bool{}
			testbed.Eventually(ctx, t, "the REST recommendation agrees with the HPA controller", func() error {
				rec, err := getRecommendation(ctx, restURL, ns, "HorizontalPodAutoscaler", "web")
				if err != nil {
					return err
				}
				seen[rec.Result.DesiredReplicas] = true
				h, err := cp.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "web", metav1.GetOptions{})
				if err != nil {
					return err
				}
				d, err := cp.Client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
				if err != nil {
					return err
				}
				if d.Status.ReadyReplicas != st.want || h.Status.DesiredReplicas != st.want ||
					rec.Result.DesiredReplicas != h.Status.DesiredReplicas || rec.Result.CurrentReplicas != h.Status.CurrentReplicas {
					return fmt.Errorf("deployment ready=%d; hpa current=%d desired=%d; hpa-engine current=%d desired=%d (error %q)",
						d.Status.ReadyReplicas, h.Status.CurrentReplicas, h.Status.DesiredReplicas, rec.Result.CurrentReplicas, rec.Result.DesiredReplicas, rec.Error)
				}
				return nil
			})
			for v := range seen {
				if v != prev && v != st.want {
					t.Errorf("hpa-engine recommended %d on the way from %d to %d", v, prev, st.want)
				}
			}
			prev = st.want
		})
	}
}

// recommendation is the part of the REST answer the test compares.
type recommendation struct {
	Error  string `json:"error"`
	Result struct {
		CurrentReplicas int32 `json:"currentReplicas"`
		DesiredReplicas int32 `json:"desiredReplicas"`
	} `json:"result"`
}

func getRecommendation(ctx context.Context, base, ns, kind, name string) (recommendation, error) {
	var rec recommendation
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/v1/recommendations/%s/%s/%s", base, ns, kind, name), nil)
	if err != nil {
		return rec, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return rec, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return rec, err
	}
	if resp.StatusCode != http.StatusOK {
		return rec, fmt.Errorf("%s: %s", resp.Status, body)
	}
	return rec, json.Unmarshal(body, &rec)
}

// startController runs `hpa-engine controller`, labelled name in the logs,
// with the adapter's configuration, a 1 s sync period, the REST API on a free
// port and extra flags; it returns the process and the REST API's base URL.
// The process stops when the test ends.
func startController(ctx context.Context, t *testing.T, name string, extra ...string) (*testbed.Process, string) {
	t.Helper()
	bin, err := env.BuildEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(env.Dir, "controller-config.yaml")
	if err := os.WriteFile(cfgFile, []byte(adapterConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	p, err := env.StartProcess(ctx, testbed.ProcessOptions{
		Name: name,
		Path: bin,
		Args: append([]string{
			"controller",
			"--kubeconfig=" + cp.AdminKubeconfig,
			"--config=" + cfgFile,
			"--prometheus-url=" + prom.URL,
			"--metrics-relist-interval=1s",
			"--sync-period=1s",
			"--rest-address=127.0.0.1:" + strconv.Itoa(port),
			"--v=2",
		}, extra...),
		Ready: testbed.HTTPReady(base + "/readyz"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p, base
}
