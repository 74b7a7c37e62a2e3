package testbed

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// UnmanagedLabel marks pods the fake kubelet leaves alone (Pending, unbound):
// benchmarks create thousands of pods that only need to exist.
const UnmanagedLabel = "testbed.hpa-engine.io/unmanaged"

// fakeNodeName is the node every pod is bound to. No Node object exists: the
// controllers the test bed runs do not need one.
const fakeNodeName = "testbed-node"

// fakeKubelet plays the kubelet's part for pods: it binds unscheduled pods,
// marks them Running and Ready (podIP, startTime, conditions, container
// statuses) and finishes graceful deletions, without which Terminating pods
// would stay Ready and the HPA would count them.
type fakeKubelet struct {
	client kubernetes.Interface
	lister cache.Indexer
	queue  workqueue.TypedRateLimitingInterface[cache.ObjectName]
}

func (e *Env) startFakeKubelet(ctx context.Context, cp *ControlPlane) error {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	factory := informers.NewSharedInformerFactory(cp.Client, 0)
	inf := factory.Core().V1().Pods().Informer()
	k := &fakeKubelet{
		client: cp.Client,
		lister: inf.GetIndexer(),
		queue:  workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[cache.ObjectName]()),
	}
	enqueue := func(obj any) {
		if name, err := cache.ObjectToName(obj); err == nil {
			k.queue.Add(name)
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	}); err != nil {
		cancel()
		return err
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		cancel()
		return fmt.Errorf("fake kubelet: pod cache did not sync")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for k.next(ctx) {
		}
	}()
	e.OnClose(func() {
		cancel()
		k.queue.ShutDown()
		factory.Shutdown()
		<-done
	})
	return nil
}

func (k *fakeKubelet) next(ctx context.Context) bool {
	name, quit := k.queue.Get()
	if quit {
		return false
	}
	defer k.queue.Done(name)
	if err := k.sync(ctx, name); err != nil && ctx.Err() == nil {
		k.queue.AddRateLimited(name)
		return true
	}
	k.queue.Forget(name)
	return true
}

func (k *fakeKubelet) sync(ctx context.Context, name cache.ObjectName) error {
	obj, exists, err := k.lister.GetByKey(name.String())
	if err != nil || !exists {
		return err
	}
	pod := obj.(*corev1.Pod)
	if _, ok := pod.Labels[UnmanagedLabel]; ok {
		return nil
	}
	pods := k.client.CoreV1().Pods(pod.Namespace)
	switch {
	case pod.DeletionTimestamp != nil:
		// A kubelet stops the containers, then removes the pod for good.
		uid := pod.UID
		err := pods.Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: new(int64),
			Preconditions:      &metav1.Preconditions{UID: &uid},
		})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil
		}
		return err
	case pod.Spec.NodeName == "":
		err := pods.Bind(ctx, &corev1.Binding{
			ObjectMeta: metav1.ObjectMeta{Name: pod.Name, UID: pod.UID},
			Target:     corev1.ObjectReference{Kind: "Node", Name: fakeNodeName},
		}, metav1.CreateOptions{})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil
		}
		return err // the status follows on the update event of the binding
	case pod.Status.Phase == corev1.PodRunning:
		return nil
	}
	now := metav1.NewTime(time.Now())
	pod = pod.DeepCopy()
	pod.Status.Phase = corev1.PodRunning
	pod.Status.HostIP, pod.Status.PodIP = "127.0.0.1", "127.0.0.1"
	pod.Status.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
	pod.Status.PodIPs = []corev1.PodIP{{IP: "127.0.0.1"}}
	pod.Status.StartTime = &now
	pod.Status.Conditions = nil
	for _, t := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	pod.Status.ContainerStatuses = nil
	started := true
	for _, c := range pod.Spec.Containers {
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: "testbed://" + c.Image,
			ContainerID: "testbed://" + pod.Name + "/" + c.Name,
			Ready:       true, Started: &started,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	_, err = pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // a newer version is on its way through the informer
	}
	return err
}
