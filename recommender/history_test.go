package recommender

import (
	"reflect"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

func TestRecordScaleEvent(t *testing.T) {
	behavior := &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleUp: &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 60},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 120},
		}},
	}
	tests := []struct {
		name       string
		history    History
		behavior   *autoscalingv2.HorizontalPodAutoscalerBehavior
		prev, next int32
		want       History
	}{
		{
			name:     "no behavior records nothing",
			behavior: nil, prev: 2, next: 4,
			want: History{},
		},
		{
			name:     "first scale-up is appended",
			behavior: behavior, prev: 2, next: 5,
			want: History{ScaleUpEvents: []ScaleEvent{{ReplicaChange: 3, Timestamp: testNow}}},
		},
		{
			name:     "scale-down uses the default scale-down rules (15 s period)",
			behavior: behavior, prev: 5, next: 2,
			history: History{ScaleDownEvents: []ScaleEvent{{ReplicaChange: 1, Timestamp: ago(10 * time.Second)}, {ReplicaChange: 2, Timestamp: ago(20 * time.Second)}}},
			want: History{ScaleDownEvents: []ScaleEvent{
				{ReplicaChange: 1, Timestamp: ago(10 * time.Second)},
				{ReplicaChange: 3, Timestamp: testNow},
			}},
		},
		{
			name:     "events older than the longest period are marked and the last one reused",
			behavior: behavior, prev: 4, next: 6,
			history: History{ScaleUpEvents: []ScaleEvent{
				{ReplicaChange: 1, Timestamp: ago(5 * time.Minute)},
				{ReplicaChange: 1, Timestamp: ago(3 * time.Minute)},
				{ReplicaChange: 1, Timestamp: ago(90 * time.Second)},
			}},
			want: History{ScaleUpEvents: []ScaleEvent{
				{ReplicaChange: 1, Timestamp: ago(5 * time.Minute), Outdated: true},
				{ReplicaChange: 2, Timestamp: testNow},
				{ReplicaChange: 1, Timestamp: ago(90 * time.Second)},
			}},
		},
		{
			name:     "no change records nothing",
			behavior: behavior, prev: 3, next: 3,
			want: History{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.history.clone()
			got := RecordScaleEvent(tt.history, tt.behavior, tt.prev, tt.next, testNow)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("history = %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(tt.history, before) {
				t.Errorf("input history was modified: %+v", tt.history)
			}
		})
	}
}

func TestBoundedAppend(t *testing.T) {
	var list []int
	for i := range MaxHistory + 10 {
		list = boundedAppend(list, i)
	}
	if len(list) != MaxHistory || list[0] != 10 || list[len(list)-1] != MaxHistory+9 {
		t.Errorf("len %d first %d last %d, want %d entries from 10", len(list), list[0], list[len(list)-1], MaxHistory)
	}
}

func TestDefaultSpec(t *testing.T) {
	tests := []struct {
		name  string
		spec  autoscalingv2.HorizontalPodAutoscalerSpec
		check func(t *testing.T, s autoscalingv2.HorizontalPodAutoscalerSpec)
	}{
		{
			name: "empty spec gets minReplicas 1 and cpu at 80%",
			spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 3},
			check: func(t *testing.T, s autoscalingv2.HorizontalPodAutoscalerSpec) {
				if *s.MinReplicas != 1 || len(s.Metrics) != 1 || *s.Metrics[0].Resource.Target.AverageUtilization != 80 || s.Behavior != nil {
					t.Errorf("spec = %+v", s)
				}
			},
		},
		{
			name: "partial behavior is completed and keeps what was set",
			spec: autoscalingv2.HorizontalPodAutoscalerSpec{Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleDown: &autoscalingv2.HPAScalingRules{SelectPolicy: ptr(autoscalingv2.MinChangePolicySelect)},
			}},
			check: func(t *testing.T, s autoscalingv2.HorizontalPodAutoscalerSpec) {
				up, down := s.Behavior.ScaleUp, s.Behavior.ScaleDown
				if *up.StabilizationWindowSeconds != 0 || *up.SelectPolicy != autoscalingv2.MaxChangePolicySelect || len(up.Policies) != 2 {
					t.Errorf("scaleUp = %+v", up)
				}
				if *down.StabilizationWindowSeconds != 120 || *down.SelectPolicy != autoscalingv2.MinChangePolicySelect || len(down.Policies) != 1 || down.Policies[0].Value != 100 {
					t.Errorf("scaleDown = %+v", down)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, DefaultSpec(tt.spec, 2*time.Minute))
		})
	}
}
