package recommender

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func cpu(s string) corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(s)}
}

func TestPodRequests(t *testing.T) {
	tests := []struct {
		name      string
		pod       Pod
		container string
		want      int64
		wantErr   string
	}{
		{
			name: "containers and sidecars are summed, plain init containers are not",
			pod: Pod{Name: "p",
				Containers:     []Container{{Name: "a", Requests: cpu("100m")}, {Name: "b", Requests: cpu("200m")}},
				InitContainers: []Container{{Name: "init", Requests: cpu("1")}, {Name: "side", Requests: cpu("50m"), Restartable: true}},
			},
			want: 350,
		},
		{
			name:      "a named container",
			pod:       Pod{Name: "p", Containers: []Container{{Name: "a", Requests: cpu("100m")}, {Name: "b", Requests: cpu("200m")}}},
			container: "b", want: 200,
		},
		{
			name:      "a named container that does not exist",
			pod:       Pod{Name: "p", Containers: []Container{{Name: "a", Requests: cpu("100m")}}},
			container: "c", wantErr: "container c not found in Pod p",
		},
		{
			name:    "a container without the request",
			pod:     Pod{Name: "p", Containers: []Container{{Name: "a", Requests: cpu("100m")}, {Name: "b"}}},
			wantErr: "missing request for cpu in container b of Pod p",
		},
		{
			name: "pod-level request wins, plus overhead",
			pod: Pod{Name: "p",
				Containers: []Container{{Name: "a", Requests: cpu("100m")}},
				Requests:   cpu("1"), Overhead: cpu("10m"),
			},
			want: 1010,
		},
		{
			name: "pod-level requests of another resource: containers count, with the largest init container",
			pod: Pod{Name: "p",
				Containers:     []Container{{Name: "a", Requests: cpu("100m")}},
				InitContainers: []Container{{Name: "side", Requests: cpu("50m"), Restartable: true}, {Name: "init", Requests: cpu("500m")}},
				Requests:       corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
			},
			want: 550,
		},
		{
			name: "pod-level requests are ignored for a named container",
			pod: Pod{Name: "p",
				Containers: []Container{{Name: "a", Requests: cpu("100m")}},
				Requests:   cpu("1"),
			},
			container: "a", want: 100,
		},
		{
			name: "pod-level requests of another resource and none for this one",
			pod: Pod{Name: "p",
				Containers: []Container{{Name: "a"}},
				Requests:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
			},
			wantErr: "missing pod-level request for cpu in Pod p",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := podRequests([]Pod{tt.pod}, tt.container, corev1.ResourceCPU)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got["p"] != tt.want {
				t.Errorf("request = %dm, want %dm", got["p"], tt.want)
			}
		})
	}
}

func TestPodFromV1(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	start := metav1.NewTime(ago(time.Hour))
	deleted := metav1.NewTime(ago(time.Second))
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", DeletionTimestamp: &deleted},
		Spec: corev1.PodSpec{
			Containers:     []corev1.Container{{Name: "a", Resources: corev1.ResourceRequirements{Requests: cpu("100m")}}},
			InitContainers: []corev1.Container{{Name: "side", RestartPolicy: &always, Resources: corev1.ResourceRequirements{Requests: cpu("50m")}}, {Name: "init"}},
			Resources:      &corev1.ResourceRequirements{Requests: cpu("1")},
			Overhead:       cpu("5m"),
		},
		Status: corev1.PodStatus{
			Phase:     corev1.PodRunning,
			StartTime: &start,
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
				{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: start},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue},
			},
		},
	}
	got := PodFromV1(p)
	if got.Name != "p" || got.Phase != corev1.PodRunning || !got.Terminating || !got.StartTime.Equal(start.Time) {
		t.Errorf("pod = %+v", got)
	}
	if got.Ready == nil || got.Ready.Status != corev1.ConditionFalse || !got.Ready.LastTransitionTime.Equal(start.Time) {
		t.Errorf("ready = %+v, want the first Ready condition", got.Ready)
	}
	if len(got.InitContainers) != 2 || !got.InitContainers[0].Restartable || got.InitContainers[1].Restartable {
		t.Errorf("init containers = %+v", got.InitContainers)
	}
	req, err := podLevelRequest(&got, corev1.ResourceCPU)
	if err != nil || req != 1005 {
		t.Errorf("pod-level request = %d, %v; want 1005", req, err)
	}
}
