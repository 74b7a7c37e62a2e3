package charts

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/hpa-engine/hpa-engine/adapter/config"
	"github.com/hpa-engine/hpa-engine/scaler"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const (
	// generatedCRD is the Autoscaler CRD controller-gen writes; the chart
	// ships a copy because Helm installs crds/ only from inside the chart.
	generatedCRD = "../scaler/apis/v1alpha1/crd/autoscaling.hpa-engine.io_autoscalers.yaml"
	chartCRD     = chartDir + "/crds/autoscaling.hpa-engine.io_autoscalers.yaml"
	// controllerRBAC is the controller's minimal RBAC the e2e tests run with.
	controllerRBAC = "../test/rbac/controller.yaml"
	// defaultGolden is the rendering of the default values.
	defaultGolden = "testdata/default.golden.yaml"
	// dashboardsTemplate renders a ConfigMap per file in dashboards/, which
	// another target fills; the golden file leaves it out so that it holds
	// with or without them.
	dashboardsTemplate = chartDir + "/templates/dashboards.yaml"
)

func TestCRDCopyMatchesGenerated(t *testing.T) {
	if !bytes.Equal(readFile(t, chartCRD), readFile(t, generatedCRD)) {
		t.Errorf("%s differs from %s: copy the generated CRD into the chart (cp %s %s)",
			chartCRD, generatedCRD, strings.TrimPrefix(generatedCRD, "../"), "charts/"+chartCRD)
	}
}

func TestLint(t *testing.T) {
	kv, err := common.ParseKubeVersion(kubeVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, vf := range valuesFiles(t) {
		t.Run(caseName(vf), func(t *testing.T) {
			res := lint.RunAll(chartDir, readValues(t, vf), releaseNamespace, lint.WithKubeVersion(kv))
			for _, m := range res.Messages {
				// An icon is only a recommendation (INFO); warnings and
				// errors fail, as `helm lint --strict` does.
				if m.Severity >= support.WarningSev {
					t.Errorf("lint: %v", m)
				}
			}
		})
	}
}

// generatedTLS matches the lines that hold a generated certificate or key,
// which differ on every rendering.
var generatedTLS = regexp.MustCompile(`(?m)^(\s+(?:ca\.crt|tls\.crt|tls\.key|caBundle)): \S+$`)

func TestRenderDefaultGolden(t *testing.T) {
	r := render(t, "")
	got := generatedTLS.ReplaceAll(r.manifest(dashboardsTemplate), []byte("$1: <generated>"))
	if *update {
		if err := os.WriteFile(defaultGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readFile(t, defaultGolden)
	if !bytes.Equal(got, want) {
		t.Errorf("the default rendering differs from %s (run go test ./charts -run TestRenderDefaultGolden -update and review the diff):\n%s",
			defaultGolden, firstDifference(string(want), string(got)))
	}
}

// firstDifference shows the first line where two texts differ.
func firstDifference(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, w, g)
		}
	}
	return "(same lines)"
}

func TestEveryObjectIsWellFormedAndLabelled(t *testing.T) {
	required := []string{
		"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
		"app.kubernetes.io/managed-by", "app.kubernetes.io/part-of", "helm.sh/chart",
	}
	clusterScoped := []string{"ClusterRole", "ClusterRoleBinding", "APIService", "Namespace", "CustomResourceDefinition"}
	for _, vf := range valuesFiles(t) {
		t.Run(caseName(vf), func(t *testing.T) {
			r := render(t, vf)
			if len(r.objects) == 0 {
				t.Fatal("nothing rendered")
			}
			seen := map[string]bool{}
			for _, o := range r.objects {
				id := fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
				if o.GetAPIVersion() == "" || o.GetKind() == "" || o.GetName() == "" {
					t.Errorf("%s: apiVersion, kind and name are required", id)
				}
				if seen[id] {
					t.Errorf("%s rendered twice", id)
				}
				seen[id] = true
				if len(o.GetName()) > 63 {
					t.Errorf("%s: name longer than 63 characters", id)
				}
				for _, l := range required {
					if o.GetLabels()[l] == "" {
						t.Errorf("%s: no label %s", id, l)
					}
				}
				if o.GetLabels()["app.kubernetes.io/instance"] != releaseName {
					t.Errorf("%s: app.kubernetes.io/instance %q, want %q", id, o.GetLabels()["app.kubernetes.io/instance"], releaseName)
				}
				namespaced := !slices.Contains(clusterScoped, o.GetKind())
				if namespaced && o.GetNamespace() == "" {
					t.Errorf("%s: a namespaced object needs its namespace", id)
				}
				if !namespaced && o.GetNamespace() != "" {
					t.Errorf("%s: a cluster-scoped object has namespace %q", id, o.GetNamespace())
				}
			}
		})
	}
}

func TestDeployments(t *testing.T) {
	for _, vf := range valuesFiles(t) {
		t.Run(caseName(vf), func(t *testing.T) {
			r := render(t, vf)
			vals := readValues(t, vf)
			services := r.find("Service")
			for _, u := range r.find("Deployment") {
				var d appsv1.Deployment
				fromUnstructured(t, u, &d)
				checkDeployment(t, &d)
				// The component's Service selects its pods.
				component := d.Spec.Template.Labels["app.kubernetes.io/component"]
				found := false
				for _, su := range services {
					var s corev1.Service
					fromUnstructured(t, su, &s)
					if s.Labels["app.kubernetes.io/component"] == component && selects(s.Spec.Selector, d.Spec.Template.Labels) {
						found = true
					}
				}
				if !found {
					t.Errorf("Deployment %s: no Service selects its pods", d.Name)
				}
			}
			// Each PodDisruptionBudget selects one Deployment's pods.
			for _, p := range r.find("PodDisruptionBudget") {
				sel, _, _ := unstructured.NestedStringMap(p.Object, "spec", "selector", "matchLabels")
				n := 0
				for _, u := range r.find("Deployment") {
					var d appsv1.Deployment
					fromUnstructured(t, u, &d)
					if selects(sel, d.Spec.Template.Labels) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("PodDisruptionBudget %s selects the pods of %d Deployments, want 1", p.GetName(), n)
				}
			}
			if c, ok := vals["controller"].(map[string]any); ok {
				if rep, ok := c["replicas"].(float64); ok && rep > 1 {
					d := r.get(t, "Deployment", "hpa-engine-controller")
					args := containerArgs(t, d)
					if !slices.Contains(args, "--leader-elect") {
						t.Errorf("controller with %v replicas runs without --leader-elect", rep)
					}
				}
			}
		})
	}
}

// checkDeployment checks what every pod of the chart promises: a selector
// matching its template, the secure defaults, resources and probes.
func checkDeployment(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	if d.Spec.Selector == nil || !selects(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
		t.Errorf("Deployment %s: selector does not match the pod template's labels", d.Name)
	}
	ps := d.Spec.Template.Spec.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot {
		t.Errorf("Deployment %s: pod must set runAsNonRoot", d.Name)
	}
	if ps == nil || ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("Deployment %s: pod must use the RuntimeDefault seccomp profile", d.Name)
	}
	if d.Spec.Template.Spec.ServiceAccountName == "" {
		t.Errorf("Deployment %s: no service account", d.Name)
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		id := d.Name + "/" + c.Name
		sc := c.SecurityContext
		switch {
		case sc == nil:
			t.Errorf("%s: no securityContext", id)
		case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
			t.Errorf("%s: root filesystem must be read-only", id)
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			t.Errorf("%s: privilege escalation must be off", id)
		case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL"):
			t.Errorf("%s: capabilities must drop ALL", id)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			t.Errorf("%s: cpu and memory requests and a memory limit are required", id)
		}
		for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
			if p == nil || p.HTTPGet == nil {
				t.Errorf("%s: no HTTP %s probe", id, name)
			}
		}
		if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path != "/readyz" {
			t.Errorf("%s: readiness probe path %q, want /readyz", id, c.ReadinessProbe.HTTPGet.Path)
		}
		if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && c.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Errorf("%s: liveness probe path %q, want /healthz", id, c.LivenessProbe.HTTPGet.Path)
		}
		if c.Name == "adapter" && c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Scheme != corev1.URISchemeHTTPS {
			t.Errorf("%s: the adapter serves HTTPS only; probes must use it", id)
		}
		// Every volume mount names a volume of the pod, and none is nested
		// in another: a mount point inside a ConfigMap or Secret volume
		// fights the kubelet's atomic updates of that volume.
		for i, m := range c.VolumeMounts {
			if !slices.ContainsFunc(d.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name }) {
				t.Errorf("%s: mount %q has no volume", id, m.Name)
			}
			for _, o := range c.VolumeMounts[i+1:] {
				a, b := strings.TrimSuffix(m.MountPath, "/")+"/", strings.TrimSuffix(o.MountPath, "/")+"/"
				if strings.HasPrefix(a, b) || strings.HasPrefix(b, a) {
					t.Errorf("%s: mounts %s and %s are nested", id, m.MountPath, o.MountPath)
				}
			}
		}
	}
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func fromUnstructured(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
}

// containerArgs returns the args of a Deployment's only container.
func containerArgs(t *testing.T, u *unstructured.Unstructured) []string {
	t.Helper()
	var d appsv1.Deployment
	fromUnstructured(t, u, &d)
	if len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("Deployment %s: %d containers, want 1", d.Name, len(d.Spec.Template.Spec.Containers))
	}
	return d.Spec.Template.Spec.Containers[0].Args
}

// readFlags reads a golden list of a subcommand's flags, one a line.
func readFlags(t *testing.T, subcommand string) []string {
	t.Helper()
	var flags []string
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, filepath.Join("testdata", "flags", subcommand+".txt"))))
	for sc.Scan() {
		if f := strings.TrimSpace(sc.Text()); f != "" {
			flags = append(flags, f)
		}
	}
	return flags
}

// TestFlagsExist checks every flag the Deployments pass is one the binary
// has: testdata/flags/<subcommand>.txt lists `hpa-engine <subcommand>
// --help`'s flags, and the integration test keeps that list in step with the
// binary.
func TestFlagsExist(t *testing.T) {
	known := map[string][]string{"adapter": readFlags(t, "adapter"), "controller": readFlags(t, "controller")}
	for _, vf := range valuesFiles(t) {
		t.Run(caseName(vf), func(t *testing.T) {
			r := render(t, vf)
			for _, d := range r.find("Deployment") {
				args := containerArgs(t, d)
				if len(args) == 0 {
					t.Fatalf("Deployment %s: no args", d.GetName())
				}
				sub := args[0]
				flags, ok := known[sub]
				if !ok {
					t.Fatalf("Deployment %s runs subcommand %q, want adapter or controller", d.GetName(), sub)
				}
				seen := map[string]bool{}
				for _, a := range args[1:] {
					if !strings.HasPrefix(a, "-") {
						t.Errorf("Deployment %s: argument %q is not a flag", d.GetName(), a)
						continue
					}
					name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
					if !slices.Contains(flags, name) {
						t.Errorf("Deployment %s: hpa-engine %s has no flag --%s", d.GetName(), sub, name)
					}
					// Repeatable flags aside, a flag given twice means a
					// value and a default both render it.
					if seen[name] && name != "prometheus-header" {
						t.Errorf("Deployment %s: --%s given twice", d.GetName(), name)
					}
					seen[name] = true
				}
			}
		})
	}
}

// TestConfigLoads loads every rendered configuration with the engine's own
// strict loader: a rule the chart or a values file gets wrong would
// otherwise fail only when the pods start.
func TestConfigLoads(t *testing.T) {
	for _, vf := range valuesFiles(t) {
		t.Run(caseName(vf), func(t *testing.T) {
			r := render(t, vf)
			cms := r.find("ConfigMap")
			var cfg string
			for _, cm := range cms {
				if c, ok, _ := unstructured.NestedString(cm.Object, "data", "config.yaml"); ok {
					cfg = c
				}
			}
			if cfg == "" {
				t.Fatal("no ConfigMap with config.yaml")
			}
			loaded, err := config.Load([]byte(cfg))
			if err != nil {
				t.Fatalf("config.yaml does not load: %v\n%s", err, cfg)
			}
			vals := readValues(t, vf)
			rules, _ := vals["rules"].(map[string]any)
			if def, ok := rules["default"].(bool); (!ok || def) && vals["config"] == nil && len(loaded.Rules) == 0 {
				t.Error("rules.default is on but the configuration has no rules")
			}
		})
	}
}

func TestDefaultRulesAreDropIn(t *testing.T) {
	// The metric names of prometheus-adapter's default rules, derived from
	// cAdvisor and application series; an HPA written against them must
	// find them here.
	r := render(t, "")
	var cfg string
	for _, cm := range r.find("ConfigMap") {
		if c, ok, _ := unstructured.NestedString(cm.Object, "data", "config.yaml"); ok {
			cfg = c
		}
	}
	var file config.File
	if err := yaml.Unmarshal([]byte(cfg), &file); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, series, want string
	}{
		{name: "cpu seconds", series: "container_cpu_usage_seconds_total", want: "cpu_usage"},
		{name: "container counter", series: "container_network_receive_bytes_total", want: "network_receive_bytes"},
		{name: "container gauge", series: "container_memory_working_set_bytes", want: "memory_working_set_bytes"},
		{name: "app counter", series: "http_requests_total", want: "http_requests"},
		{name: "app gauge", series: "queue_length", want: "queue_length"},
		{name: "app seconds", series: "job_duration_seconds_total", want: "job_duration"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var names []string
			for _, rule := range file.Rules {
				if n, ok := ruleName(t, rule, tc.series); ok {
					names = append(names, n)
				}
			}
			if !slices.Contains(names, tc.want) {
				t.Errorf("series %s becomes %v, want %s among them", tc.series, names, tc.want)
			}
		})
	}
}

// ruleName applies a rule's implicit name filters and its name mapping as
// prometheus-adapter documents them: seriesFilters, then name.matches with
// `as` defaulting to $1 with one capture group and $0 without.
func ruleName(t *testing.T, rule config.DiscoveryRule, series string) (string, bool) {
	t.Helper()
	selector := regexp.MustCompile(`__name__=~"([^"]+)"`).FindStringSubmatch(rule.SeriesQuery)
	if selector != nil && !regexp.MustCompile(selector[1]).MatchString(series) {
		return "", false
	}
	if neg := regexp.MustCompile(`__name__!~"([^"]+)"`).FindStringSubmatch(rule.SeriesQuery); neg != nil && regexp.MustCompile(neg[1]).MatchString(series) {
		return "", false
	}
	for _, f := range rule.SeriesFilters {
		if f.Is != "" && !regexp.MustCompile(f.Is).MatchString(series) {
			return "", false
		}
		if f.IsNot != "" && regexp.MustCompile(f.IsNot).MatchString(series) {
			return "", false
		}
	}
	matches := rule.Name.Matches
	if matches == "" {
		matches = ".*"
	}
	re := regexp.MustCompile(matches)
	m := re.FindStringSubmatchIndex(series)
	if m == nil {
		return "", false
	}
	as := rule.Name.As
	if as == "" {
		as = "$0"
		if re.NumSubexp() == 1 {
			as = "$1"
		}
	}
	return string(re.ExpandString(nil, as, series, m)), true
}

// TestAPIServicesTrustTheServingCertificate checks that the aggregator can
// verify the adapter: each APIService's caBundle is the CA of the Secret
// the adapter serves with, and that CA signed a certificate for the
// adapter Service's name.
func TestAPIServicesTrustTheServingCertificate(t *testing.T) {
	const serviceName = "hpa-engine-adapter." + releaseNamespace + ".svc"
	for _, vf := range valuesFiles(t) {
		t.Run(caseName(vf), func(t *testing.T) {
			r := render(t, vf)
			apis := r.find("APIService")
			if !hasAdapter(r) {
				if len(apis) != 0 {
					t.Fatalf("%d APIServices rendered without the adapter", len(apis))
				}
				return
			}
			var got []string
			for _, a := range apis {
				got = append(got, a.GetName())
			}
			slices.Sort(got)
			want := []string{"v1beta1.custom.metrics.k8s.io", "v1beta1.external.metrics.k8s.io", "v1beta2.custom.metrics.k8s.io"}
			if !slices.Equal(got, want) {
				t.Fatalf("APIServices %v, want %v", got, want)
			}
			vals := readValues(t, vf)
			tls, _ := vals["tls"].(map[string]any)
			var caPEM []byte
			if existing, _ := tls["existingSecret"].(string); existing != "" {
				// The Secret is the user's; the caBundle is the CA they gave.
				caPEM = []byte(tls["ca"].(string))
				d := r.get(t, "Deployment", "hpa-engine-adapter")
				if !slices.ContainsFunc(podVolumes(t, d), func(v corev1.Volume) bool {
					return v.Secret != nil && v.Secret.SecretName == existing
				}) {
					t.Errorf("the adapter does not mount Secret %s", existing)
				}
			} else {
				s := r.get(t, "Secret", "hpa-engine-adapter-tls")
				if s.Object["type"] != string(corev1.SecretTypeTLS) {
					t.Errorf("Secret type %v, want %s", s.Object["type"], corev1.SecretTypeTLS)
				}
				caPEM = secretData(t, s, "ca.crt")
				verifyServing(t, caPEM, secretData(t, s, "tls.crt"), serviceName)
			}
			for _, a := range apis {
				b64, _, _ := unstructured.NestedString(a.Object, "spec", "caBundle")
				bundle, err := base64.StdEncoding.DecodeString(b64)
				if err != nil {
					t.Fatalf("APIService %s caBundle: %v", a.GetName(), err)
				}
				if !bytes.Equal(bytes.TrimSpace(bundle), bytes.TrimSpace(caPEM)) {
					t.Errorf("APIService %s: caBundle is not the serving certificate's CA", a.GetName())
				}
				if svc, _, _ := unstructured.NestedString(a.Object, "spec", "service", "name"); svc != "hpa-engine-adapter" {
					t.Errorf("APIService %s points at Service %q", a.GetName(), svc)
				}
			}
		})
	}
}

func hasAdapter(r *rendering) bool {
	return slices.ContainsFunc(r.find("Deployment"), func(u *unstructured.Unstructured) bool { return u.GetName() == "hpa-engine-adapter" })
}

func podVolumes(t *testing.T, u *unstructured.Unstructured) []corev1.Volume {
	t.Helper()
	var d appsv1.Deployment
	fromUnstructured(t, u, &d)
	return d.Spec.Template.Spec.Volumes
}

func secretData(t *testing.T, s *unstructured.Unstructured, key string) []byte {
	t.Helper()
	b64, _, _ := unstructured.NestedString(s.Object, "data", key)
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) == 0 {
		t.Fatalf("Secret %s: key %s missing or not base64 (%v)", s.GetName(), key, err)
	}
	return b
}

// verifyServing checks that caPEM signed certPEM for dnsName.
func verifyServing(t *testing.T, caPEM, certPEM []byte, dnsName string) {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.crt holds no certificate")
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatal("tls.crt holds no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: dnsName, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("tls.crt does not verify for %s against ca.crt: %v", dnsName, err)
	}
}

// TestControllerRBACCoversTestRBAC keeps the chart's controller roles in
// step with test/rbac/controller.yaml, the rules the e2e tests prove
// sufficient: everything they grant, the chart grants.
func TestControllerRBACCoversTestRBAC(t *testing.T) {
	var wantCluster, wantLeader []rbacv1.PolicyRule
	for _, doc := range bytes.Split(readFile(t, controllerRBAC), []byte("\n---\n")) {
		var obj struct {
			Kind  string              `json:"kind"`
			Rules []rbacv1.PolicyRule `json:"rules"`
		}
		if err := yaml.Unmarshal(doc, &obj); err != nil {
			t.Fatal(err)
		}
		switch obj.Kind {
		case "ClusterRole":
			wantCluster = append(wantCluster, obj.Rules...)
		case "Role":
			wantLeader = append(wantLeader, obj.Rules...)
		}
	}
	r := render(t, "")
	var gotCluster, gotLeader []rbacv1.PolicyRule
	var cr rbacv1.ClusterRole
	fromUnstructured(t, r.get(t, "ClusterRole", "hpa-engine-controller"), &cr)
	gotCluster = cr.Rules
	var role rbacv1.Role
	fromUnstructured(t, r.get(t, "Role", "hpa-engine-controller-leader-election"), &role)
	gotLeader = role.Rules
	if role.Namespace != releaseNamespace {
		t.Errorf("leader election Role in %q, want the release namespace", role.Namespace)
	}
	// The chart's Lease is <fullname>-controller, scaler.DefaultLeaseName
	// for the release name hpa-engine, as in test/rbac.
	args := containerArgs(t, r.get(t, "Deployment", "hpa-engine-controller"))
	if !slices.Contains(args, "--leader-elect-resource-name="+scaler.DefaultLeaseName) ||
		!slices.Contains(args, "--leader-elect-resource-namespace="+releaseNamespace) {
		t.Errorf("controller args %v do not name the Lease the Role grants", args)
	}
	for _, set := range []struct {
		name      string
		want, got []rbacv1.PolicyRule
	}{
		{"ClusterRole", wantCluster, gotCluster},
		{"leader election Role", wantLeader, gotLeader},
	} {
		for _, w := range set.want {
			for _, g := range w.APIGroups {
				for _, res := range w.Resources {
					for _, v := range w.Verbs {
						names := w.ResourceNames
						if len(names) == 0 {
							names = []string{""}
						}
						for _, n := range names {
							if !allows(set.got, g, res, v, n) {
								t.Errorf("%s: test/rbac grants %s on %q in group %q (name %q); the chart does not", set.name, v, res, g, n)
							}
						}
					}
				}
			}
		}
	}
	// The chart grants no more than test/rbac: no writes to workloads,
	// Autoscaler specs or Leases cluster-wide.
	for _, forbidden := range []struct{ group, resource, verb string }{
		{"apps", "deployments", "update"},
		{"autoscaling.hpa-engine.io", "autoscalers", "update"},
		{"coordination.k8s.io", "leases", "update"},
		{"", "secrets", "get"},
	} {
		if allows(gotCluster, forbidden.group, forbidden.resource, forbidden.verb, "") {
			t.Errorf("the controller's ClusterRole allows %s on %s", forbidden.verb, forbidden.resource)
		}
	}
}

// allows reports whether rules grant verb on resource (a "*/scale" rule
// grants every scale subresource; "*" anything).
func allows(rules []rbacv1.PolicyRule, group, resource, verb, name string) bool {
	match := func(list []string, v string) bool { return slices.Contains(list, v) || slices.Contains(list, "*") }
	matchResource := func(list []string) bool {
		if match(list, resource) {
			return true
		}
		for _, r := range list {
			if sub, ok := strings.CutPrefix(r, "*/"); ok && strings.HasSuffix(resource, "/"+sub) {
				return true
			}
		}
		return false
	}
	for _, r := range rules {
		if match(r.APIGroups, group) && matchResource(r.Resources) && match(r.Verbs, verb) &&
			(len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, name)) {
			return true
		}
	}
	return false
}

func TestAdapterRBAC(t *testing.T) {
	r := render(t, "")
	var delegator rbacv1.ClusterRoleBinding
	fromUnstructured(t, r.get(t, "ClusterRoleBinding", "hpa-engine-adapter:system:auth-delegator"), &delegator)
	if delegator.RoleRef.Name != "system:auth-delegator" || !boundTo(delegator.Subjects, "hpa-engine-adapter", releaseNamespace) {
		t.Errorf("auth-delegator binding %+v, want system:auth-delegator for the adapter", delegator)
	}
	var reader rbacv1.RoleBinding
	fromUnstructured(t, r.get(t, "RoleBinding", "hpa-engine-adapter-auth-reader"), &reader)
	if reader.Namespace != "kube-system" || reader.RoleRef.Name != "extension-apiserver-authentication-reader" || !boundTo(reader.Subjects, "hpa-engine-adapter", releaseNamespace) {
		t.Errorf("auth reader binding %+v, want kube-system/extension-apiserver-authentication-reader for the adapter", reader)
	}
	var metricsReader rbacv1.ClusterRole
	fromUnstructured(t, r.get(t, "ClusterRole", "hpa-engine-adapter-metrics-reader"), &metricsReader)
	for _, g := range []string{"custom.metrics.k8s.io", "external.metrics.k8s.io"} {
		for _, v := range []string{"get", "list"} {
			if !allows(metricsReader.Rules, g, "pods", v, "") {
				t.Errorf("the HPA controller cannot %s %s", v, g)
			}
		}
	}
	var metricsBinding rbacv1.ClusterRoleBinding
	fromUnstructured(t, r.get(t, "ClusterRoleBinding", "hpa-engine-adapter-metrics-reader"), &metricsBinding)
	if !boundTo(metricsBinding.Subjects, "horizontal-pod-autoscaler", "kube-system") {
		t.Errorf("metrics reader bound to %+v, want kube-system/horizontal-pod-autoscaler", metricsBinding.Subjects)
	}
	var objects rbacv1.ClusterRole
	fromUnstructured(t, r.get(t, "ClusterRole", "hpa-engine-object-reader"), &objects)
	for _, res := range []struct{ group, resource string }{{"", "pods"}, {"", "services"}, {"", "namespaces"}, {"apps", "deployments"}} {
		for _, v := range []string{"list", "watch"} {
			if !allows(objects.Rules, res.group, res.resource, v, "") {
				t.Errorf("object reader cannot %s %s", v, res.resource)
			}
		}
	}
	var objectsBinding rbacv1.ClusterRoleBinding
	fromUnstructured(t, r.get(t, "ClusterRoleBinding", "hpa-engine-object-reader"), &objectsBinding)
	if !boundTo(objectsBinding.Subjects, "hpa-engine-adapter", releaseNamespace) || !boundTo(objectsBinding.Subjects, "hpa-engine-controller", releaseNamespace) {
		t.Errorf("object reader bound to %+v, want both components", objectsBinding.Subjects)
	}
	aggregated := map[string][]string{
		"hpa-engine-autoscalers-edit": {"rbac.authorization.k8s.io/aggregate-to-admin", "rbac.authorization.k8s.io/aggregate-to-edit"},
		"hpa-engine-autoscalers-view": {"rbac.authorization.k8s.io/aggregate-to-view"},
	}
	for name, labels := range aggregated {
		o := r.get(t, "ClusterRole", name)
		for _, l := range labels {
			if o.GetLabels()[l] != "true" {
				t.Errorf("ClusterRole %s lacks label %s", name, l)
			}
		}
	}
}

func boundTo(subjects []rbacv1.Subject, name, namespace string) bool {
	return slices.ContainsFunc(subjects, func(s rbacv1.Subject) bool {
		return s.Kind == rbacv1.ServiceAccountKind && s.Name == name && s.Namespace == namespace
	})
}

// TestDashboards requires one ConfigMap per dashboards/*.json file in the
// chart, labelled for Grafana's sidecar and holding the file unchanged.
func TestDashboards(t *testing.T) {
	files := dashboardFiles(t)
	for _, vf := range valuesFiles(t) {
		t.Run(caseName(vf), func(t *testing.T) {
			r := render(t, vf)
			var got []*unstructured.Unstructured
			for _, cm := range r.find("ConfigMap") {
				if cm.GetLabels()["grafana_dashboard"] != "" {
					got = append(got, cm)
				}
			}
			if len(got) != len(files) {
				t.Fatalf("%d dashboard ConfigMaps for %d files in %s/dashboards", len(got), len(files), chartDir)
			}
			for _, f := range files {
				key := filepath.Base(f)
				idx := slices.IndexFunc(got, func(cm *unstructured.Unstructured) bool {
					_, ok, _ := unstructured.NestedString(cm.Object, "data", key)
					return ok
				})
				if idx < 0 {
					t.Errorf("no ConfigMap holds %s", key)
					continue
				}
				cm := got[idx]
				if cm.GetLabels()["grafana_dashboard"] != "1" {
					t.Errorf("ConfigMap %s: grafana_dashboard=%q, want \"1\"", cm.GetName(), cm.GetLabels()["grafana_dashboard"])
				}
				data, _, _ := unstructured.NestedString(cm.Object, "data", key)
				if !json.Valid([]byte(data)) {
					t.Errorf("ConfigMap %s: %s is not valid JSON", cm.GetName(), key)
				}
				if strings.TrimSpace(data) != strings.TrimSpace(string(readFile(t, f))) {
					t.Errorf("ConfigMap %s: %s differs from the file", cm.GetName(), key)
				}
			}
		})
	}
}

func TestServiceMonitor(t *testing.T) {
	r := render(t, filepath.Join(chartDir, "ci", "servicemonitor-values.yaml"))
	sms := r.find("ServiceMonitor")
	if len(sms) != 2 {
		t.Fatalf("%d ServiceMonitors, want one per component", len(sms))
	}
	for _, sm := range sms {
		if sm.GetLabels()["release"] != "kube-prometheus-stack" {
			t.Errorf("ServiceMonitor %s: the values' labels are missing", sm.GetName())
		}
		sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
		n := 0
		for _, s := range r.find("Service") {
			if selects(sel, s.GetLabels()) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("ServiceMonitor %s selects %d Services, want 1", sm.GetName(), n)
		}
		endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
		if len(endpoints) != 1 {
			t.Fatalf("ServiceMonitor %s: %d endpoints", sm.GetName(), len(endpoints))
		}
		ep := endpoints[0].(map[string]any)
		if sm.GetName() == "hpa-engine-adapter" {
			secret, _, _ := unstructured.NestedString(ep, "tlsConfig", "ca", "secret", "name")
			if ep["scheme"] != "https" || secret != "hpa-engine-adapter-tls" {
				t.Errorf("adapter endpoint %v: want https verified by the serving CA", ep)
			}
		}
	}
	if len(render(t, "").find("ServiceMonitor")) != 0 {
		t.Error("ServiceMonitors rendered by default; prometheus-operator's CRD may not be installed")
	}
}

func TestNotes(t *testing.T) {
	for _, vf := range valuesFiles(t) {
		t.Run(caseName(vf), func(t *testing.T) {
			notes := render(t, vf).notes()
			if !strings.Contains(notes, "hpa-engine") || strings.Contains(notes, "<no value>") {
				t.Errorf("NOTES.txt:\n%s", notes)
			}
		})
	}
}

// TestValuesRejected checks that values.schema.json and the templates'
// own checks refuse values that would install something broken.
func TestValuesRejected(t *testing.T) {
	tests := []struct {
		name    string
		values  string
		wantErr string
	}{
		{name: "unknown top-level key", values: "listenPort: 6443", wantErr: "listenPort"},
		{name: "unknown nested key", values: "adapter: {replica: 2}", wantErr: "replica"},
		{name: "bad verb", values: "prometheus: {verb: PUT}", wantErr: "verb"},
		{name: "bad duration", values: "metricsRelistInterval: 1 minute", wantErr: "metricsRelistInterval"},
		{name: "two controllers without leader election", values: "controller: {replicas: 2, leaderElection: {enabled: false}}", wantErr: "leaderElection"},
		{name: "inline TLS without key", values: "tls: {enable: true, ca: abc, certificate: def}", wantErr: "tls.key"},
		{name: "existing secret without CA", values: "tls: {existingSecret: mine}", wantErr: "tls.ca"},
		{name: "extra arg not a flag", values: "adapter: {extraArgs: [foo]}", wantErr: "extraArgs"},
		{name: "digest without algorithm", values: "image: {digest: abc}", wantErr: "digest"},
	}
	c := loadChart(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vals, err := common.ReadValues([]byte(tc.values))
			if err != nil {
				t.Fatal(err)
			}
			_, err = renderValues(c, vals.AsMap())
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}

// TestValuesAccepted checks values that must keep working: a migrating
// prometheus-adapter values file, and the overrides the README shows.
func TestValuesAccepted(t *testing.T) {
	tests := []struct {
		name   string
		values string
		check  func(t *testing.T, r *rendering)
	}{
		{
			name:   "prometheus-adapter values",
			values: "prometheus: {url: http://prometheus.default.svc, port: 9090, path: ''}\nlogLevel: 4\nmetricsRelistInterval: 1m\nrules: {default: false, custom: [], external: [], resource: {}, existing: }\n",
			check: func(t *testing.T, r *rendering) {
				args := containerArgs(t, r.get(t, "Deployment", "hpa-engine-adapter"))
				for _, want := range []string{"--prometheus-url=http://prometheus.default.svc:9090", "--v=4", "--metrics-relist-interval=1m"} {
					if !slices.Contains(args, want) {
						t.Errorf("args %v lack %s", args, want)
					}
				}
			},
		},
		{
			name:   "existing rules ConfigMap",
			values: "rules: {existing: my-rules}",
			check: func(t *testing.T, r *rendering) {
				for _, cm := range r.find("ConfigMap") {
					if _, ok, _ := unstructured.NestedString(cm.Object, "data", "config.yaml"); ok {
						t.Errorf("ConfigMap %s rendered although rules.existing is set", cm.GetName())
					}
				}
				if !slices.ContainsFunc(podVolumes(t, r.get(t, "Deployment", "hpa-engine-controller")), func(v corev1.Volume) bool {
					return v.ConfigMap != nil && v.ConfigMap.Name == "my-rules"
				}) {
					t.Error("the controller does not mount ConfigMap my-rules")
				}
			},
		},
		{
			name:   "fullnameOverride",
			values: "fullnameOverride: metrics",
			check: func(t *testing.T, r *rendering) {
				r.get(t, "Deployment", "metrics-adapter")
				r.get(t, "Deployment", "metrics-controller")
				api := r.get(t, "APIService", "v1beta2.custom.metrics.k8s.io")
				if svc, _, _ := unstructured.NestedString(api.Object, "spec", "service", "name"); svc != "metrics-adapter" {
					t.Errorf("APIService points at %q", svc)
				}
			},
		},
		{
			name:   "image digest",
			values: "image: {digest: sha256:" + strings.Repeat("a", 64) + "}",
			check: func(t *testing.T, r *rendering) {
				var d appsv1.Deployment
				fromUnstructured(t, r.get(t, "Deployment", "hpa-engine-adapter"), &d)
				if img := d.Spec.Template.Spec.Containers[0].Image; !strings.HasSuffix(img, "@sha256:"+strings.Repeat("a", 64)) {
					t.Errorf("image %q, want the digest", img)
				}
			},
		},
		{
			name:   "insecure APIService",
			values: "apiService: {insecureSkipTLSVerify: true, external: false}",
			check: func(t *testing.T, r *rendering) {
				apis := r.find("APIService")
				if len(apis) != 2 {
					t.Fatalf("%d APIServices, want the two custom ones", len(apis))
				}
				for _, a := range apis {
					if skip, _, _ := unstructured.NestedBool(a.Object, "spec", "insecureSkipTLSVerify"); !skip {
						t.Errorf("APIService %s verifies TLS", a.GetName())
					}
					if _, ok, _ := unstructured.NestedString(a.Object, "spec", "caBundle"); ok {
						t.Errorf("APIService %s has both caBundle and insecureSkipTLSVerify", a.GetName())
					}
				}
			},
		},
	}
	c := loadChart(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vals, err := common.ReadValues([]byte(tc.values))
			if err != nil {
				t.Fatal(err)
			}
			r, err := renderValues(c, vals.AsMap())
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
}

// TestREADMEListsEveryValue keeps the chart README's values table complete:
// every key values.schema.json defines (down to the objects passed through
// whole, such as resources) appears in it as `key`.
func TestREADMEListsEveryValue(t *testing.T) {
	var schema schemaNode
	if err := json.Unmarshal(readFile(t, filepath.Join(chartDir, "values.schema.json")), &schema); err != nil {
		t.Fatal(err)
	}
	readme := string(readFile(t, filepath.Join(chartDir, "README.md")))
	var keys []string
	schema.leaves("", &keys)
	if len(keys) < 50 {
		t.Fatalf("only %d keys found in values.schema.json", len(keys))
	}
	for _, k := range keys {
		if !strings.Contains(readme, "| `"+k+"` |") {
			t.Errorf("README.md's values table has no row for `%s`", k)
		}
	}
}

// schemaNode is the part of a JSON schema the README test walks.
type schemaNode struct {
	Type       any                    `json:"type"`
	Properties map[string]*schemaNode `json:"properties"`
}

// passedWhole are objects the templates copy into a manifest as they are.
var passedWhole = []string{"resources", "strategy"}

func (n *schemaNode) leaves(prefix string, out *[]string) {
	last := prefix[strings.LastIndex(prefix, ".")+1:]
	if len(n.Properties) == 0 || slices.Contains(passedWhole, last) {
		if prefix != "" && prefix != "global" {
			*out = append(*out, prefix)
		}
		return
	}
	for k, child := range n.Properties {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		child.leaves(p, out)
	}
}
