//go:build integration

package charts

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/hpa-engine/hpa-engine/test/testbed"
)

// The shared environment: one kube-apiserver (with etcd), nothing else; the
// chart's objects are only applied in dry-run, so nothing needs to run them.
var (
	env *testbed.Env
	cp  *testbed.ControlPlane
)

// serviceMonitorCRD stands in for prometheus-operator's CRD, for the values
// files that enable the ServiceMonitor.
const serviceMonitorCRD = "testdata/servicemonitor-crd.yaml"

func TestMain(m *testing.M) {
	os.Exit(testbed.Main(m, func(e *testbed.Env) error {
		env = e
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		var err error
		cp, err = e.StartControlPlane(ctx, testbed.ControlPlaneOptions{})
		return err
	}))
}

// TestChartAppliesServerSide installs the chart's CRD for real, creates the
// release namespace, then applies every object of every rendering (the
// defaults and each ci/*-values.yaml) with server-side apply in dry-run, as
// `helm install` would send it, with strict field validation: the API server
// must accept every object, with no unknown or duplicate field.
func TestChartAppliesServerSide(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	crds := []string{chartCRD}
	needsServiceMonitor := false
	renderings := map[string]*rendering{}
	for _, vf := range valuesFiles(t) {
		r := render(t, vf)
		renderings[caseName(vf)] = r
		if len(r.find("ServiceMonitor")) > 0 {
			needsServiceMonitor = true
		}
	}
	if !needsServiceMonitor {
		t.Fatal("no values file enables the ServiceMonitor; ci/servicemonitor-values.yaml should")
	}
	crds = append(crds, serviceMonitorCRD)
	for _, path := range crds {
		installCRD(ctx, t, path)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: releaseNamespace}}
	if _, err := cp.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}

	disc, err := discovery.NewDiscoveryClientForConfig(cp.Admin)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := restmapper.GetAPIGroupResources(disc)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDiscoveryRESTMapper(groups)
	dyn, err := dynamic.NewForConfig(cp.Admin)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(renderings))
	for name := range renderings {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			r := renderings[name]
			for _, o := range r.objects {
				id := fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
				gvk := o.GroupVersionKind()
				m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
				if err != nil {
					t.Errorf("%s: the API server does not serve %s: %v", id, gvk, err)
					continue
				}
				body, err := json.Marshal(o.Object)
				if err != nil {
					t.Fatal(err)
				}
				got, err := dyn.Resource(m.Resource).Namespace(o.GetNamespace()).Patch(ctx, o.GetName(), types.ApplyPatchType, body, metav1.PatchOptions{
					DryRun:          []string{metav1.DryRunAll},
					FieldManager:    "helm",
					Force:           new(true),
					FieldValidation: metav1.FieldValidationStrict,
				})
				if err != nil {
					t.Errorf("%s rejected: %v", id, err)
					continue
				}
				checkAccepted(t, id, o, got)
			}
		})
	}
}

// checkAccepted checks what the API server returned kept what was sent: a
// field the server drops (a pruned CRD field, a wrong type coerced) would
// mean the chart asks for something it will not get.
func checkAccepted(t *testing.T, id string, sent, got *unstructured.Unstructured) {
	t.Helper()
	if got.GetName() != sent.GetName() || got.GetNamespace() != sent.GetNamespace() {
		t.Errorf("%s: server answered for %s/%s", id, got.GetNamespace(), got.GetName())
	}
	for k, v := range sent.GetLabels() {
		if got.GetLabels()[k] != v {
			t.Errorf("%s: label %s=%q not kept (got %q)", id, k, v, got.GetLabels()[k])
		}
	}
	switch sent.GetKind() {
	case "Deployment":
		sentArgs, _, _ := unstructured.NestedSlice(sent.Object, "spec", "template", "spec", "containers")
		gotArgs, _, _ := unstructured.NestedSlice(got.Object, "spec", "template", "spec", "containers")
		if len(sentArgs) != len(gotArgs) {
			t.Errorf("%s: %d containers sent, %d kept", id, len(sentArgs), len(gotArgs))
		}
	case "APIService":
		want, _, _ := unstructured.NestedString(sent.Object, "spec", "caBundle")
		have, _, _ := unstructured.NestedString(got.Object, "spec", "caBundle")
		if want != have {
			t.Errorf("%s: caBundle not kept", id)
		}
	case "ServiceMonitor":
		want, _, _ := unstructured.NestedSlice(sent.Object, "spec", "endpoints")
		have, _, _ := unstructured.NestedSlice(got.Object, "spec", "endpoints")
		wb, _ := json.Marshal(want)
		hb, _ := json.Marshal(have)
		if string(wb) != string(hb) {
			t.Errorf("%s: endpoints sent %s, kept %s", id, wb, hb)
		}
	}
}

// installCRD creates a CRD for real and waits until it is established.
func installCRD(ctx context.Context, t *testing.T, path string) {
	t.Helper()
	objs, err := parseManifests(string(readFile(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	client, err := apiextensionsclient.NewForConfig(cp.Admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		var crd apiextensionsv1.CustomResourceDefinition
		fromUnstructured(t, o, &crd)
		if _, err := client.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("%s: create CRD %s: %v", path, crd.Name, err)
		}
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			got, err := client.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			for _, c := range got.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			t.Fatalf("CRD %s not established: %v", crd.Name, err)
		}
	}
	// Discovery lags the Established condition by a moment.
	disc, err := discovery.NewDiscoveryClientForConfig(cp.Admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		plural, _, _ := unstructured.NestedString(o.Object, "spec", "names", "plural")
		versions, _, _ := unstructured.NestedSlice(o.Object, "spec", "versions")
		version, _ := versions[0].(map[string]any)["name"].(string)
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
			list, err := disc.ServerResourcesForGroupVersion(group + "/" + version)
			if err != nil {
				return false, nil
			}
			return slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == plural }), nil
		})
		if err != nil {
			t.Fatalf("%s.%s/%s not discoverable: %v", plural, group, version, err)
		}
	}
}

// flagName matches a flag at the start of a --help line: "  -v, --v Level",
// "      --config string".
var flagName = regexp.MustCompile(`(?m)^\s+(?:-[a-z], )?--([a-z0-9-]+)`)

// TestFlagListsMatchTheBinary keeps testdata/flags/*.txt, which the unit
// tests check the Deployments' args against, equal to what the binary's
// subcommands accept.
func TestFlagListsMatchTheBinary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin, err := env.BuildEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"adapter", "controller"} {
		t.Run(sub, func(t *testing.T) {
			out, err := exec.CommandContext(ctx, bin, sub, "--help").CombinedOutput()
			if err != nil {
				t.Fatalf("hpa-engine %s --help: %v\n%s", sub, err, out)
			}
			var got []string
			for _, m := range flagName.FindAllStringSubmatch(string(out), -1) {
				if !slices.Contains(got, m[1]) {
					got = append(got, m[1])
				}
			}
			slices.Sort(got)
			want := readFlags(t, sub)
			if !slices.Equal(got, want) {
				t.Errorf("hpa-engine %s flags differ from %s:\n got  %s\n want %s\n(rewrite the file from --help and check the chart's args)",
					sub, filepath.Join("testdata", "flags", sub+".txt"), strings.Join(got, " "), strings.Join(want, " "))
			}
		})
	}
}

// TestUpgradeKeepsGeneratedCertificate renders against the cluster, as
// `helm upgrade` does, after the first install's Secret exists: the chart
// must reuse that CA and certificate rather than generate new ones, or every
// upgrade would break the aggregator's trust until the pods restart.
func TestUpgradeKeepsGeneratedCertificate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: releaseNamespace}}
	if _, err := cp.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	c := loadChart(t)
	first, err := renderValues(c, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	var secret corev1.Secret
	fromUnstructured(t, first.get(t, "Secret", "hpa-engine-adapter-tls"), &secret)
	if _, err := cp.Client.CoreV1().Secrets(releaseNamespace).Create(ctx, &secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cp.Client.CoreV1().Secrets(releaseNamespace).Delete(context.Background(), secret.Name, metav1.DeleteOptions{})
	})

	eng := engine.New(cp.Admin)
	eng.Strict = true
	second, err := renderWith(eng, c, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	s := second.get(t, "Secret", "hpa-engine-adapter-tls")
	for _, key := range []string{"ca.crt", "tls.crt", "tls.key"} {
		if !bytes.Equal(secretData(t, s, key), secret.Data[key]) {
			t.Errorf("upgrade rendered a new %s", key)
		}
	}
	for _, a := range second.find("APIService") {
		bundle, _, _ := unstructured.NestedString(a.Object, "spec", "caBundle")
		if bundle != base64.StdEncoding.EncodeToString(secret.Data["ca.crt"]) {
			t.Errorf("APIService %s: caBundle is not the installed CA", a.GetName())
		}
	}
}

// TestRenderedPodsStart runs the binary with each rendered Deployment's
// args, as the pod would, against the test bed: the configuration and the
// serving certificate are the rendered ConfigMap's and Secret's, written
// where the pod mounts them would be; only what a pod gets from its
// environment is replaced (in-cluster config by --kubeconfig, the ports by
// free ones on 127.0.0.1, the Prometheus URL by the test bed's). Each must
// become ready: flags the binary refuses, a configuration it cannot load or
// a certificate it cannot serve fail here.
func TestRenderedPodsStart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin, err := env.BuildEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prom, err := env.StartPrometheus(ctx, testbed.PrometheusOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer prom.Stop()
	// The Lease lives in the release namespace.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: releaseNamespace}}
	if _, err := cp.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, vf := range valuesFiles(t) {
		t.Run(caseName(vf), func(t *testing.T) {
			r := render(t, vf)
			dir := t.TempDir()
			files := podFiles(t, r, dir)
			for _, d := range r.find("Deployment") {
				args := containerArgs(t, d)
				sub := args[0]
				port := freePort(t)
				out := []string{sub, "--kubeconfig=" + cp.AdminKubeconfig}
				for _, a := range args[1:] {
					name, _, _ := strings.Cut(a, "=")
					switch name {
					case "--secure-port":
						a = fmt.Sprintf("--secure-port=%d", port)
						out = append(out, "--bind-address=127.0.0.1")
					case "--rest-address":
						a = fmt.Sprintf("--rest-address=127.0.0.1:%d", port)
					case "--prometheus-url":
						a = "--prometheus-url=" + prom.URL
					case "--config", "--tls-cert-file", "--tls-private-key-file":
						_, path, _ := strings.Cut(a, "=")
						local, ok := files[path]
						if !ok {
							t.Fatalf("Deployment %s: %s names %s, which no rendered volume provides", d.GetName(), name, path)
						}
						a = name + "=" + local
					}
					out = append(out, a)
				}
				scheme := "http"
				if sub == "adapter" {
					scheme = "https"
				}
				p, err := env.StartProcess(ctx, testbed.ProcessOptions{
					Name:  fmt.Sprintf("%s-%s", caseName(vf), d.GetName()),
					Path:  bin,
					Args:  out,
					Ready: testbed.HTTPReady(fmt.Sprintf("%s://127.0.0.1:%d/readyz", scheme, port)),
				})
				if err != nil {
					t.Errorf("Deployment %s: hpa-engine %s did not become ready: %v", d.GetName(), strings.Join(out, " "), err)
					continue
				}
				p.Stop()
			}
		})
	}
}

// podFiles writes the files the rendered pods mount (config.yaml from the
// chart's ConfigMap, tls.crt and tls.key from its Secret) under dir, and
// maps each path in the pod to its copy.
func podFiles(t *testing.T, r *rendering, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	write := func(podPath string, data []byte) {
		local := filepath.Join(dir, filepath.Base(podPath))
		if err := os.WriteFile(local, data, 0o600); err != nil {
			t.Fatal(err)
		}
		files[podPath] = local
	}
	for _, d := range r.find("Deployment") {
		var dep appsv1.Deployment
		fromUnstructured(t, d, &dep)
		for _, m := range dep.Spec.Template.Spec.Containers[0].VolumeMounts {
			for _, v := range dep.Spec.Template.Spec.Volumes {
				if v.Name != m.Name {
					continue
				}
				switch {
				case v.ConfigMap != nil:
					cm := r.get(t, "ConfigMap", v.ConfigMap.Name)
					data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
					for k, val := range data {
						write(m.MountPath+"/"+k, []byte(val))
					}
				case v.Secret != nil:
					rendered := false
					for _, s := range r.find("Secret") {
						if s.GetName() != v.Secret.SecretName {
							continue
						}
						rendered = true
						for _, k := range []string{"tls.crt", "tls.key", "ca.crt"} {
							write(m.MountPath+"/"+k, secretData(t, s, k))
						}
					}
					if !rendered {
						// tls.existingSecret: the user's Secret, here holding
						// the throwaway certificate of provided-tls-values.yaml,
						// which existing-secret-values.yaml's tls.ca signed.
						tls := readValues(t, filepath.Join(chartDir, "ci", "provided-tls-values.yaml"))["tls"].(map[string]any)
						write(m.MountPath+"/tls.crt", []byte(tls["certificate"].(string)))
						write(m.MountPath+"/tls.key", []byte(tls["key"].(string)))
						write(m.MountPath+"/ca.crt", []byte(tls["ca"].(string)))
					}
				}
			}
		}
	}
	return files
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
