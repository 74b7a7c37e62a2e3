package recommender

import (
	corev1 "k8s.io/api/core/v1"
)

// PodFromV1 keeps the part of a pod the algorithm reads: what upstream's
// replica calculator looks at through its pod lister.
func PodFromV1(p *corev1.Pod) Pod {
	out := Pod{
		Name:        p.Name,
		Phase:       p.Status.Phase,
		Terminating: p.DeletionTimestamp != nil,
		Overhead:    p.Spec.Overhead.DeepCopy(),
	}
	for _, c := range p.Status.Conditions {
		// Upstream reads the first Ready condition.
		if c.Type == corev1.PodReady {
			out.Ready = &PodReadyCondition{Status: c.Status, LastTransitionTime: c.LastTransitionTime.Time}
			break
		}
	}
	if p.Status.StartTime != nil {
		t := p.Status.StartTime.Time
		out.StartTime = &t
	}
	for _, c := range p.Spec.Containers {
		out.Containers = append(out.Containers, Container{Name: c.Name, Requests: c.Resources.Requests.DeepCopy()})
	}
	for _, c := range p.Spec.InitContainers {
		out.InitContainers = append(out.InitContainers, Container{
			Name:        c.Name,
			Requests:    c.Resources.Requests.DeepCopy(),
			Restartable: c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways,
		})
	}
	if p.Spec.Resources != nil {
		out.Requests = p.Spec.Resources.Requests.DeepCopy()
	}
	return out
}
