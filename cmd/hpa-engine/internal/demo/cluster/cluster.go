package cluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/uuid"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	"k8s.io/client-go/restmapper"
	"k8s.io/klog/v2"

	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
)

// Defaults of Config.
const (
	DefaultReadyAfter = 2 * time.Second
	DefaultSyncPeriod = 250 * time.Millisecond
)

var (
	podsGVR     = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	servicesGVR = schema.GroupVersionResource{Version: "v1", Resource: "services"}
)

// Workload is one demo Deployment with a Service of the same name selecting
// its pods.
type Workload struct {
	Name     string
	Replicas int32
}

// Config describes the stand-in's content.
type Config struct {
	// Namespace holds every object.
	Namespace string
	// Workloads are the Deployments (and Services) to create.
	Workloads []Workload
	// Autoscalers are created in the dynamic client.
	Autoscalers []*v1alpha1.Autoscaler
	// ReadyAfter is how long a new pod takes to become Ready;
	// DefaultReadyAfter when zero, so that scale-ups show pods starting.
	ReadyAfter time.Duration
	// SyncPeriod is how often the controller reconciles pods;
	// DefaultSyncPeriod when zero.
	SyncPeriod time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Cluster is the fake API server's content and its controller.
type Cluster struct {
	// Kube serves the typed API: Deployments, Services, Pods, Events, Leases.
	Kube *kubefake.Clientset
	// Metadata mirrors Pods and Services as metadata only, for the
	// adapter's object cache.
	Metadata *metadatafake.FakeMetadataClient
	// Dynamic serves the Autoscalers.
	Dynamic *dynamicfake.FakeDynamicClient
	// Discovery lists the resources above.
	Discovery *fakediscovery.FakeDiscovery
	// Mapper maps the kinds above to their resources.
	Mapper meta.RESTMapper

	cfg Config
	// mu serialises the controller's reconcile with scale updates, so a
	// scale write is never lost between a read and an update of the
	// Deployment.
	mu  sync.Mutex
	seq int
}

// New creates the objects of cfg in fresh fake clients.
func New(cfg Config) (*Cluster, error) {
	if cfg.Namespace == "" {
		return nil, fmt.Errorf("cluster: %w", ErrNoNamespace)
	}
	if cfg.ReadyAfter <= 0 {
		cfg.ReadyAfter = DefaultReadyAfter
	}
	if cfg.SyncPeriod <= 0 {
		cfg.SyncPeriod = DefaultSyncPeriod
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Cluster{cfg: cfg}

	objs := []runtime.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cfg.Namespace}}}
	metaObjs := []runtime.Object{}
	for _, w := range cfg.Workloads {
		d, svc := workloadObjects(cfg.Namespace, w)
		objs = append(objs, d, svc)
		metaObjs = append(metaObjs, partial("Service", svc.ObjectMeta))
	}
	c.Kube = kubefake.NewClientset(objs...)
	c.Metadata = metadatafake.NewSimpleMetadataClient(metadataScheme(), metaObjs...)

	dynObjs := make([]runtime.Object, 0, len(cfg.Autoscalers))
	for _, a := range cfg.Autoscalers {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(a)
		if err != nil {
			return nil, fmt.Errorf("autoscaler %s: %w", a.Name, err)
		}
		obj := &unstructured.Unstructured{Object: u}
		obj.SetGroupVersionKind(v1alpha1.GroupVersionKind)
		if obj.GetNamespace() == "" {
			obj.SetNamespace(cfg.Namespace)
		}
		// The API server would set these; the scaler keys its memory by
		// UID and checks the generation a recommendation was made for.
		if obj.GetUID() == "" {
			obj.SetUID(uuid.NewUUID())
		}
		if obj.GetGeneration() == 0 {
			obj.SetGeneration(1)
		}
		dynObjs = append(dynObjs, obj)
	}
	c.Dynamic = dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{v1alpha1.GroupVersionResource: v1alpha1.Kind + "List"}, dynObjs...)

	c.Discovery = &fakediscovery.FakeDiscovery{Fake: &c.Kube.Fake}
	c.Kube.Resources = apiResources()
	groups, err := restmapper.GetAPIGroupResources(c.Discovery)
	if err != nil {
		return nil, fmt.Errorf("cluster discovery: %w", err)
	}
	c.Mapper = restmapper.NewDiscoveryRESTMapper(groups)

	// The workloads have been running for a while: their first pods are
	// Ready from the start, so that their series exist at once.
	ctx := context.Background()
	for _, w := range cfg.Workloads {
		d, err := c.Kube.AppsV1().Deployments(cfg.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("get deployment %s: %w", w.Name, err)
		}
		for range w.Replicas {
			p, err := c.createPod(ctx, d, cfg.Now().Add(-cfg.ReadyAfter))
			if err != nil {
				return nil, err
			}
			c.seq++
			markReady(p, cfg.Now(), c.seq)
			if _, err := c.Kube.CoreV1().Pods(cfg.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
				return nil, fmt.Errorf("update pod %s status: %w", p.Name, err)
			}
		}
	}
	return c, nil
}

// workloadObjects are a Deployment whose pods carry app=<name> and the
// Service selecting them.
func workloadObjects(namespace string, w Workload) (*appsv1.Deployment, *corev1.Service) {
	lbls := map[string]string{"app": w.Name}
	replicas := w.Replicas
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: w.Name, Labels: lbls, Generation: 1, UID: uuid.NewUUID()},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: lbls},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbls},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: w.Name, Image: "hpa-engine.io/demo/" + w.Name}}},
			},
		},
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: w.Name, Labels: lbls, UID: uuid.NewUUID()},
		Spec:       corev1.ServiceSpec{Selector: lbls, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	return d, svc
}

func metadataScheme() *runtime.Scheme {
	s := metadatafake.NewTestScheme()
	for _, kind := range []string{"Pod", "Service"} {
		s.AddKnownTypeWithName(schema.GroupVersionKind{Version: "v1", Kind: kind}, &metav1.PartialObjectMetadata{})
	}
	return s
}

func partial(kind string, om metav1.ObjectMeta) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: kind}, ObjectMeta: om}
}

// apiResources is what discovery lists: what the engine reads and writes
// in the demo.
func apiResources() []*metav1.APIResourceList {
	rw := metav1.Verbs{"get", "list", "watch", "create", "update", "patch", "delete"}
	return []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "namespaces", Kind: "Namespace", Verbs: rw},
			{Name: "pods", Namespaced: true, Kind: "Pod", Verbs: rw},
			{Name: "services", Namespaced: true, Kind: "Service", Verbs: rw},
			{Name: "events", Namespaced: true, Kind: "Event", Verbs: rw},
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			{Name: "deployments", Namespaced: true, Kind: "Deployment", Verbs: rw},
			{Name: "deployments/scale", Namespaced: true, Group: "autoscaling", Version: "v1", Kind: "Scale", Verbs: metav1.Verbs{"get", "update", "patch"}},
		}},
		{GroupVersion: v1alpha1.SchemeGroupVersion.String(), APIResources: []metav1.APIResource{
			{Name: v1alpha1.Resource, Namespaced: true, Kind: v1alpha1.Kind, Verbs: rw},
			{Name: v1alpha1.Resource + "/status", Namespaced: true, Kind: v1alpha1.Kind, Verbs: metav1.Verbs{"get", "update", "patch"}},
		}},
	}
}

// Run reconciles every SyncPeriod until ctx is done.
func (c *Cluster) Run(ctx context.Context) error {
	t := time.NewTicker(c.cfg.SyncPeriod)
	defer t.Stop()
	for {
		if err := c.Reconcile(ctx); err != nil && ctx.Err() == nil {
			klog.ErrorS(err, "Demo cluster reconcile")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Reconcile does one pass of the deployment controller and the kubelet:
// pods are created or deleted to match spec.replicas, pods past ReadyAfter
// become Running and Ready, and each Deployment's status is updated.
func (c *Cluster) Reconcile(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ds, err := c.Kube.AppsV1().Deployments(c.cfg.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list deployments: %w", err)
	}
	for i := range ds.Items {
		if err := c.reconcileDeployment(ctx, &ds.Items[i]); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) reconcileDeployment(ctx context.Context, d *appsv1.Deployment) error {
	pods, err := c.podsOf(ctx, d)
	if err != nil {
		return err
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	now := c.cfg.Now()
	// Ready pods sort first and, among equals, the oldest: surplus pods are
	// taken from the end (not ready first, then the youngest), as the
	// ReplicaSet controller ranks them.
	slices.SortFunc(pods, func(a, b corev1.Pod) int {
		if ra, rb := IsReady(&a), IsReady(&b); ra != rb {
			if ra {
				return -1
			}
			return 1
		}
		return a.CreationTimestamp.Compare(b.CreationTimestamp.Time)
	})
	for len(pods) > int(want) {
		victim := pods[len(pods)-1]
		pods = pods[:len(pods)-1]
		if err := c.Kube.CoreV1().Pods(d.Namespace).Delete(ctx, victim.Name, metav1.DeleteOptions{}); err != nil {
			return fmt.Errorf("delete pod %s: %w", victim.Name, err)
		}
		if err := c.Metadata.Resource(podsGVR).Namespace(d.Namespace).Delete(ctx, victim.Name, metav1.DeleteOptions{}); err != nil {
			return fmt.Errorf("delete pod %s metadata: %w", victim.Name, err)
		}
	}
	for len(pods) < int(want) {
		p, err := c.createPod(ctx, d, now)
		if err != nil {
			return err
		}
		pods = append(pods, *p)
	}
	var ready int32
	for i := range pods {
		p := &pods[i]
		if !IsReady(p) && now.Sub(p.CreationTimestamp.Time) >= c.cfg.ReadyAfter {
			c.seq++
			markReady(p, now, c.seq)
			if _, err := c.Kube.CoreV1().Pods(d.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("update pod %s status: %w", p.Name, err)
			}
		}
		if IsReady(p) {
			ready++
		}
	}
	st := appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation,
		Replicas:           int32(len(pods)),
		UpdatedReplicas:    int32(len(pods)),
		ReadyReplicas:      ready,
		AvailableReplicas:  ready,
	}
	if equality.Semantic.DeepEqual(d.Status, st) {
		return nil
	}
	d.Status = st
	if _, err := c.Kube.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update deployment %s status: %w", d.Name, err)
	}
	return nil
}

func (c *Cluster) podsOf(ctx context.Context, d *appsv1.Deployment) ([]corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("selector of deployment %s: %w", d.Name, err)
	}
	list, err := c.Kube.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("list pods of %s: %w", d.Name, err)
	}
	return list.Items, nil
}

func (c *Cluster) createPod(ctx context.Context, d *appsv1.Deployment, now time.Time) (*corev1.Pod, error) {
	c.seq++
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:         d.Namespace,
			Name:              fmt.Sprintf("%s-%s", d.Name, podSuffix(c.seq)),
			Labels:            maps.Clone(d.Spec.Template.Labels),
			UID:               uuid.NewUUID(),
			CreationTimestamp: metav1.NewTime(now),
		},
		Spec:   *d.Spec.Template.Spec.DeepCopy(),
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
	created, err := c.Kube.CoreV1().Pods(d.Namespace).Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create pod %s: %w", p.Name, err)
	}
	if _, err := c.Metadata.Resource(podsGVR).Namespace(d.Namespace).(metadatafake.MetadataClient).CreateFake(partial("Pod", p.ObjectMeta), metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create pod %s metadata: %w", p.Name, err)
	}
	return created, nil
}

// podSuffix gives pods short distinct names, like the ReplicaSet
// controller's random suffixes but reproducible.
func podSuffix(n int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	s := []byte{}
	for n = n*7919 + 104729; n > 0; n /= len(alphabet) {
		s = append(s, alphabet[n%len(alphabet)])
	}
	return string(s)
}

func markReady(p *corev1.Pod, now time.Time, seq int) {
	t := metav1.NewTime(now)
	start := metav1.NewTime(p.CreationTimestamp.Time)
	p.Status = corev1.PodStatus{
		Phase:     corev1.PodRunning,
		StartTime: &start,
		PodIP:     "10.244.0." + strconv.Itoa(seq%250+2),
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: start},
			{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: t},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: t},
		},
	}
}

// IsReady reports whether p is Running with a true Ready condition.
func IsReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// ReadyPods returns the names of the Ready pods of Deployment name, sorted.
func (c *Cluster) ReadyPods(ctx context.Context, namespace, name string) ([]string, error) {
	list, err := c.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(labels.Set{"app": name}).String()})
	if err != nil {
		return nil, fmt.Errorf("list pods of %s: %w", name, err)
	}
	var out []string
	for i := range list.Items {
		if IsReady(&list.Items[i]) {
			out = append(out, list.Items[i].Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Replicas returns Deployment name's spec.replicas and ready replicas.
func (c *Cluster) Replicas(ctx context.Context, namespace, name string) (spec, ready int32, err error) {
	d, err := c.Kube.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return 0, 0, fmt.Errorf("get deployment %s: %w", name, err)
	}
	spec = 1
	if d.Spec.Replicas != nil {
		spec = *d.Spec.Replicas
	}
	return spec, d.Status.ReadyReplicas, nil
}
