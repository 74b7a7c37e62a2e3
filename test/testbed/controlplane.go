package testbed

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ControlPlaneOptions choose what runs beside kube-apiserver.
type ControlPlaneOptions struct {
	// ControllerManager starts kube-controller-manager with the service
	// account, deployment, replicaset, statefulset, garbage collector and
	// horizontal-pod-autoscaler controllers.
	ControllerManager bool
	// HPASyncPeriod is the HPA controller's sync period (default 2s: a
	// scaling step then takes about 2s).
	HPASyncPeriod time.Duration
	// HPADownscaleStabilization is the controller-wide scale-down window
	// (default upstream's 5m; HPAs with behavior set their own).
	HPADownscaleStabilization time.Duration
	// FakeKubelet runs an in-process kubelet stand-in that marks pods Running
	// and Ready and finishes their deletion.
	FakeKubelet bool
}

// ControlPlane is a running etcd + kube-apiserver (+ controller manager and
// fake kubelet) on 127.0.0.1.
type ControlPlane struct {
	PKI *PKI
	// URL is kube-apiserver's https://127.0.0.1:<port>.
	URL string
	// AdminKubeconfig is a kubeconfig file for a system:masters user.
	AdminKubeconfig string
	// Admin is a client config for a system:masters user.
	Admin *rest.Config
	// User is a client config for UserName, authenticated but bound to no
	// role: what it may do is what the test grants.
	User *rest.Config
	// Client is a clientset for Admin.
	Client kubernetes.Interface

	apiserver *process
	kcm       *process
	// dir holds the files the control plane writes (kubeconfigs).
	dir string
}

// StartControlPlane starts etcd and kube-apiserver configured for the
// aggregation layer as a real cluster is, then what opts ask for, and waits
// until each is ready.
func (e *Env) StartControlPlane(ctx context.Context, opts ControlPlaneOptions) (*ControlPlane, error) {
	etcdBin, err := binary(binEtcd)
	if err != nil {
		return nil, err
	}
	apiserverBin, err := binary(binKubeAPIServer)
	if err != nil {
		return nil, err
	}
	kcmBin := ""
	if opts.ControllerManager {
		if kcmBin, err = binary(binKubeControllerManager); err != nil {
			return nil, err
		}
	}
	if opts.HPASyncPeriod == 0 {
		opts.HPASyncPeriod = 2 * time.Second
	}
	if opts.HPADownscaleStabilization == 0 {
		opts.HPADownscaleStabilization = 5 * time.Minute
	}
	pki, err := newPKI(filepath.Join(e.Dir, "pki"))
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}

	etcdURL, err := e.startEtcd(ctx, etcdBin)
	if err != nil {
		return nil, err
	}

	cp := &ControlPlane{PKI: pki}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cp.URL = "https://" + hostPort(port)
	cp.apiserver = &process{
		name:    "kube-apiserver",
		path:    apiserverBin,
		logFile: filepath.Join(e.Dir, "kube-apiserver.log"),
		args: []string{
			"--bind-address=127.0.0.1",
			"--advertise-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(port),
			"--etcd-servers=" + etcdURL,
			"--tls-cert-file=" + pki.ServingCertFile,
			"--tls-private-key-file=" + pki.ServingKeyFile,
			"--client-ca-file=" + pki.CAFile,
			"--token-auth-file=" + pki.TokenFile,
			"--service-account-issuer=https://kubernetes.default.svc",
			"--service-account-key-file=" + pki.SAPubFile,
			"--service-account-signing-key-file=" + pki.SAKeyFile,
			"--authorization-mode=RBAC",
			// A loopback range is accepted; EndpointSlices may not hold
			// loopback addresses, so servers of ours are reached through
			// ExternalName Services instead (see RegisterAPIService).
			"--service-cluster-ip-range=127.0.100.0/24",
			"--endpoint-reconciler-type=none",
			"--requestheader-client-ca-file=" + pki.FrontProxyCAFile,
			"--requestheader-allowed-names=front-proxy-client",
			"--requestheader-username-headers=X-Remote-User",
			"--requestheader-group-headers=X-Remote-Group",
			"--requestheader-extra-headers-prefix=X-Remote-Extra-",
			"--proxy-client-cert-file=" + pki.FrontProxyCertFile,
			"--proxy-client-key-file=" + pki.FrontProxyKeyFile,
			// The aggregator reaches an ExternalName Service only without
			// endpoint routing.
			"--enable-aggregator-routing=false",
			"--v=1",
		},
		stopGrace: 5 * time.Second,
	}
	e.addProcess(cp.apiserver)
	if err := cp.apiserver.start(); err != nil {
		return nil, err
	}

	cp.Admin = cp.tokenConfig(adminToken)
	cp.User = cp.tokenConfig(userToken)
	cp.dir = e.Dir
	cp.AdminKubeconfig = filepath.Join(e.Dir, "admin.kubeconfig")
	if err := writeKubeconfig(cp.AdminKubeconfig, cp.URL, pki.CAFile, "admin", adminToken); err != nil {
		return nil, err
	}
	if cp.Client, err = kubernetes.NewForConfig(cp.Admin); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := waitFor(ctx, "kube-apiserver /readyz", 60*time.Second, cp.apiserver,
		httpOK(insecureClient(), cp.URL+"/readyz", http.Header{"Authorization": {"Bearer " + adminToken}})); err != nil {
		return nil, err
	}
	logf("kube-apiserver ready at %s in %s", cp.URL, time.Since(start).Round(time.Millisecond))

	if opts.ControllerManager {
		if err := e.startControllerManager(ctx, cp, kcmBin, opts); err != nil {
			return nil, err
		}
	}
	if opts.FakeKubelet {
		if err := e.startFakeKubelet(ctx, cp); err != nil {
			return nil, err
		}
	}
	return cp, nil
}

func (e *Env) startEtcd(ctx context.Context, bin string) (string, error) {
	clientPort, err := freePort()
	if err != nil {
		return "", err
	}
	peerPort, err := freePort()
	if err != nil {
		return "", err
	}
	url := "http://" + hostPort(clientPort)
	p := &process{
		name:    "etcd",
		path:    bin,
		logFile: filepath.Join(e.Dir, "etcd.log"),
		args: []string{
			"-data-dir=" + filepath.Join(e.Dir, "etcd"),
			"-listen-client-url=" + url,
			"-listen-peer-url=http://" + hostPort(peerPort),
		},
		stopSignal: syscall.SIGINT,
	}
	e.addProcess(p)
	if err := p.start(); err != nil {
		return "", err
	}
	if err := waitFor(ctx, "etcd /health", 30*time.Second, p, httpOK(http.DefaultClient, url+"/health", nil)); err != nil {
		return "", err
	}
	return url, nil
}

func (e *Env) startControllerManager(ctx context.Context, cp *ControlPlane, bin string, opts ControlPlaneOptions) error {
	kubeconfig := filepath.Join(e.Dir, "kcm.kubeconfig")
	if err := writeKubeconfig(kubeconfig, cp.URL, cp.PKI.CAFile, "kcm", kcmToken); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	cp.kcm = &process{
		name:    "kube-controller-manager",
		path:    bin,
		logFile: filepath.Join(e.Dir, "kube-controller-manager.log"),
		args: []string{
			"--kubeconfig=" + kubeconfig,
			"--authentication-kubeconfig=" + kubeconfig,
			"--authorization-kubeconfig=" + kubeconfig,
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(port),
			"--leader-elect=false",
			"--use-service-account-credentials=true",
			"--service-account-private-key-file=" + cp.PKI.SAKeyFile,
			"--root-ca-file=" + cp.PKI.CAFile,
			"--controllers=serviceaccount-controller,serviceaccount-token-controller,deployment-controller," +
				"replicaset-controller,statefulset-controller,garbage-collector-controller," +
				"horizontal-pod-autoscaler-controller",
			"--horizontal-pod-autoscaler-sync-period=" + opts.HPASyncPeriod.String(),
			"--horizontal-pod-autoscaler-downscale-stabilization=" + opts.HPADownscaleStabilization.String(),
			"--v=2",
		},
	}
	e.addProcess(cp.kcm)
	if err := cp.kcm.start(); err != nil {
		return err
	}
	start := time.Now()
	if err := waitFor(ctx, "kube-controller-manager /healthz", 60*time.Second, cp.kcm,
		httpOK(insecureClient(), "https://"+hostPort(port)+"/healthz", nil)); err != nil {
		return err
	}
	// ServiceAccount admission rejects pods until the namespace's default
	// ServiceAccount exists; the serviceaccount controller creates it.
	if err := waitFor(ctx, "default/default ServiceAccount", 30*time.Second, cp.kcm, func(ctx context.Context) error {
		_, err := cp.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err
	}); err != nil {
		return err
	}
	logf("kube-controller-manager ready in %s", time.Since(start).Round(time.Millisecond))
	return nil
}

// WaitForServiceAccount waits until namespace ns has its default
// ServiceAccount, which pods need before they can be created.
func (cp *ControlPlane) WaitForServiceAccount(ctx context.Context, ns string) error {
	return waitFor(ctx, ns+"/default ServiceAccount", 30*time.Second, nil, func(ctx context.Context) error {
		_, err := cp.Client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return errNotReady
		}
		return err
	})
}

// ControllerManagerRunning reports whether kube-controller-manager runs.
func (cp *ControlPlane) ControllerManagerRunning() bool { return cp.kcm != nil && cp.kcm.running() }

func (cp *ControlPlane) tokenConfig(token string) *rest.Config {
	return &rest.Config{
		Host:            cp.URL,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: cp.PKI.CAPEM},
		QPS:             100,
		Burst:           200,
	}
}

func writeKubeconfig(path, server, caFile, user, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: server, CertificateAuthority: caFile}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: user}
	cfg.CurrentContext = "local"
	return clientcmd.WriteToFile(*cfg, path)
}

func logf(format string, args ...any) {
	if os.Getenv("TESTBED_QUIET") != "" {
		return
	}
	fmt.Fprintf(os.Stderr, "testbed: "+format+"\n", args...)
}
