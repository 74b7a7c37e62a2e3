package v1alpha1

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"sigs.k8s.io/yaml"

	"github.com/hpa-engine/hpa-engine/recommender"
)

var t0 = time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// inUTC returns h with every timestamp in UTC, so that histories read back
// from JSON (which the API decodes in local time) compare with DeepEqual.
func inUTC(h recommender.History) recommender.History {
	out := recommender.History{}
	for _, r := range h.Recommendations {
		r.Timestamp = r.Timestamp.UTC()
		out.Recommendations = append(out.Recommendations, r)
	}
	for _, e := range h.ScaleUpEvents {
		e.Timestamp = e.Timestamp.UTC()
		out.ScaleUpEvents = append(out.ScaleUpEvents, e)
	}
	for _, e := range h.ScaleDownEvents {
		e.Timestamp = e.Timestamp.UTC()
		out.ScaleDownEvents = append(out.ScaleDownEvents, e)
	}
	return out
}

func recs(n int, step time.Duration) []recommender.TimestampedRecommendation {
	out := make([]recommender.TimestampedRecommendation, n)
	for i := range out {
		out[i] = recommender.TimestampedRecommendation{Replicas: int32(i%7 + 1), Timestamp: at(time.Duration(i) * step)}
	}
	return out
}

func TestMaxHistoryItemsFollowsRecommender(t *testing.T) {
	if MaxHistoryItems != recommender.MaxHistory {
		t.Fatalf("MaxHistoryItems = %d, recommender.MaxHistory = %d: change the constant and the MaxItems markers together", MaxHistoryItems, recommender.MaxHistory)
	}
}

func TestHistoryRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   recommender.History
		// want is what comes back; nil means the input itself.
		want *recommender.History
		// throughJSON also encodes the status and decodes it again, as the
		// API server stores it (MicroTime: microseconds).
		throughJSON bool
	}{
		{name: "empty"},
		{
			name: "recommendations to the nanosecond",
			in: recommender.History{Recommendations: []recommender.TimestampedRecommendation{
				{Replicas: 3, Timestamp: at(123456789 * time.Nanosecond)},
				{Replicas: 5, Timestamp: at(15*time.Second + 1)},
			}},
		},
		{
			name: "slots reused in place keep their order",
			in: recommender.History{Recommendations: []recommender.TimestampedRecommendation{
				{Replicas: 7, Timestamp: at(60 * time.Second)},
				{Replicas: 4, Timestamp: at(15 * time.Second)},
				{Replicas: 6, Timestamp: at(30 * time.Second)},
			}},
		},
		{
			name: "scale events, outdated ones kept",
			in: recommender.History{
				Recommendations: recs(3, 15*time.Second),
				ScaleUpEvents: []recommender.ScaleEvent{
					{ReplicaChange: 4, Timestamp: at(0), Outdated: true},
					{ReplicaChange: 2, Timestamp: at(45 * time.Second)},
				},
				ScaleDownEvents: []recommender.ScaleEvent{{ReplicaChange: 1, Timestamp: at(90 * time.Second)}},
			},
		},
		{
			name:        "through JSON at microsecond precision",
			throughJSON: true,
			in: recommender.History{
				Recommendations: []recommender.TimestampedRecommendation{{Replicas: 2, Timestamp: at(1234567 * time.Microsecond)}},
				ScaleDownEvents: []recommender.ScaleEvent{{ReplicaChange: 3, Timestamp: at(2 * time.Microsecond), Outdated: true}},
			},
		},
		{
			name:        "through JSON drops what is finer than a microsecond",
			throughJSON: true,
			in:          recommender.History{Recommendations: []recommender.TimestampedRecommendation{{Replicas: 2, Timestamp: at(1999 * time.Nanosecond)}}},
			want:        &recommender.History{Recommendations: []recommender.TimestampedRecommendation{{Replicas: 2, Timestamp: at(time.Microsecond)}}},
		},
		{
			name: "at the bound",
			in:   recommender.History{Recommendations: recs(MaxHistoryItems, time.Second)},
		},
		{
			name: "over the bound keeps the newest in order",
			in: recommender.History{
				// Slot reuse: the two oldest entries sit at the end.
				Recommendations: append(recs(MaxHistoryItems, time.Second)[2:],
					recommender.TimestampedRecommendation{Replicas: 9, Timestamp: at(-2 * time.Second)},
					recommender.TimestampedRecommendation{Replicas: 9, Timestamp: at(-1 * time.Second)},
					recommender.TimestampedRecommendation{Replicas: 8, Timestamp: at(time.Hour)},
					recommender.TimestampedRecommendation{Replicas: 8, Timestamp: at(2 * time.Hour)}),
				ScaleUpEvents: func() []recommender.ScaleEvent {
					out := make([]recommender.ScaleEvent, MaxHistoryItems+1)
					for i := range out {
						out[i] = recommender.ScaleEvent{ReplicaChange: 1, Timestamp: at(time.Duration(i) * time.Second)}
					}
					return out
				}(),
			},
			want: &recommender.History{
				Recommendations: append(recs(MaxHistoryItems, time.Second)[2:],
					recommender.TimestampedRecommendation{Replicas: 8, Timestamp: at(time.Hour)},
					recommender.TimestampedRecommendation{Replicas: 8, Timestamp: at(2 * time.Hour)}),
				ScaleUpEvents: func() []recommender.ScaleEvent {
					out := make([]recommender.ScaleEvent, MaxHistoryItems)
					for i := range out {
						out[i] = recommender.ScaleEvent{ReplicaChange: 1, Timestamp: at(time.Duration(i+1) * time.Second)}
					}
					return out
				}(),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.in
			if tt.want != nil {
				want = *tt.want
			}
			st := &AutoscalerStatus{History: HistoryToStatus(tt.in)}
			if h := st.History; h != nil {
				for _, n := range []int{len(h.Recommendations), len(h.ScaleUpEvents), len(h.ScaleDownEvents)} {
					if n > MaxHistoryItems {
						t.Fatalf("status history has a list of %d entries, more than %d", n, MaxHistoryItems)
					}
				}
			}
			if tt.throughJSON {
				b, err := json.Marshal(st)
				if err != nil {
					t.Fatal(err)
				}
				st = &AutoscalerStatus{}
				if err := json.Unmarshal(b, st); err != nil {
					t.Fatal(err)
				}
			}
			got := HistoryFromStatus(st)
			if !reflect.DeepEqual(inUTC(got), inUTC(want)) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestHistoryFromStatusWithoutHistory(t *testing.T) {
	for _, st := range []*AutoscalerStatus{nil, {}, {History: &AutoscalerHistory{}}} {
		if h := HistoryFromStatus(st); !reflect.DeepEqual(h, recommender.History{}) {
			t.Fatalf("HistoryFromStatus(%+v) = %+v, want an empty history", st, h)
		}
	}
}

// TestHPAManifestConverts decodes an HPA manifest as an HPA and, with only
// apiVersion and kind changed, strictly as an Autoscaler.
func TestHPAManifestConverts(t *testing.T) {
	b, err := os.ReadFile("testdata/hpa.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var hpa autoscalingv2.HorizontalPodAutoscaler
	if err := yaml.UnmarshalStrict(b, &hpa); err != nil {
		t.Fatalf("decode as HPA: %v", err)
	}
	converted := strings.Replace(string(b), "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n",
		"apiVersion: autoscaling.hpa-engine.io/v1alpha1\nkind: Autoscaler\n", 1)
	if converted == string(b) {
		t.Fatal("testdata/hpa.yaml does not start its object with autoscaling/v2 HorizontalPodAutoscaler")
	}
	var asc Autoscaler
	if err := yaml.UnmarshalStrict([]byte(converted), &asc); err != nil {
		t.Fatalf("decode as Autoscaler: %v", err)
	}
	if asc.APIVersion != SchemeGroupVersion.String() || asc.Kind != Kind {
		t.Fatalf("type meta = %v, want %v", asc.TypeMeta, GroupVersionKind)
	}
	if !reflect.DeepEqual(asc.Spec.ToHPASpec(), hpa.Spec) {
		t.Fatalf("spec differs:\nautoscaler %+v\n       hpa %+v", asc.Spec.ToHPASpec(), hpa.Spec)
	}
	if len(hpa.Spec.Metrics) != 5 || hpa.Spec.Behavior == nil || hpa.Spec.Behavior.ScaleDown.Tolerance == nil {
		t.Fatalf("testdata/hpa.yaml lost parts of the spec it should exercise: %+v", hpa.Spec)
	}

	from := FromHPA(&hpa)
	if !reflect.DeepEqual(from.Spec, asc.Spec) || from.Name != "web" || from.Namespace != "shop" || from.Labels["app"] != "web" {
		t.Fatalf("FromHPA = %+v, want the manifest's metadata and spec %+v", from, asc.Spec)
	}
	from.Spec.Metrics[0].Resource.Name = "memory"
	if hpa.Spec.Metrics[0].Resource.Name != "cpu" {
		t.Fatal("FromHPA shares the HPA's metrics")
	}
}

func TestHPAStatusRoundTrip(t *testing.T) {
	gen := int64(4)
	hpaStatus := autoscalingv2.HorizontalPodAutoscalerStatus{
		ObservedGeneration: &gen,
		CurrentReplicas:    3,
		DesiredReplicas:    5,
		Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{
			{Type: autoscalingv2.AbleToScale, Status: "True", Reason: "SucceededRescale"},
		},
	}
	hist := &AutoscalerHistory{Recommendations: []TimestampedRecommendation{{Replicas: 1}}}
	st := AutoscalerStatus{History: hist}
	st.SetHPAStatus(hpaStatus)
	if !reflect.DeepEqual(st.ToHPAStatus(), hpaStatus) {
		t.Fatalf("ToHPAStatus = %+v, want %+v", st.ToHPAStatus(), hpaStatus)
	}
	if st.History != hist {
		t.Fatal("SetHPAStatus replaced the history")
	}
}

func TestExplanationFromResult(t *testing.T) {
	window, limit := int32(300), int32(4)
	long := strings.Repeat("é", 600) // 1200 bytes
	tests := []struct {
		name string
		in   recommender.Result
		want Explanation
	}{
		{
			name: "rescale limited by a policy",
			in: recommender.Result{
				Rescale: true, RescaleReason: "pods metric qps above target",
				MetricDesiredReplicas: 9, Metric: "pods metric qps", MetricIndex: 1,
				Proposals: []recommender.Proposal{
					{Type: autoscalingv2.ResourceMetricSourceType, Name: "cpu", Replicas: 2, Rule: recommender.RuleWithinTolerance},
					{Type: autoscalingv2.PodsMetricSourceType, Name: "qps", Replicas: 9, Rule: recommender.RuleRatio},
				},
				Steps: []recommender.Step{{Kind: recommender.StepLimited, From: 9, To: 6, Reason: "ScaleUpLimit", Limit: &limit, Policy: "policy Pods 4 per 15 s"}},
			},
			want: Explanation{
				Metric: "pods metric qps", MetricIndex: 1, MetricDesiredReplicas: 9, Rescale: true,
				Message: "pods metric qps above target",
				Proposals: []ProposalSummary{
					{Type: autoscalingv2.ResourceMetricSourceType, Name: "cpu", Replicas: 2, Rule: "WithinTolerance"},
					{Type: autoscalingv2.PodsMetricSourceType, Name: "qps", Replicas: 9, Rule: "Ratio"},
				},
				Steps: []ExplanationStep{{Kind: "Limited", From: 9, To: 6, Reason: "ScaleUpLimit", Limit: &limit, Policy: "policy Pods 4 per 15 s"}},
			},
		},
		{
			name: "held by an error, long texts cut on rune boundaries",
			in: recommender.Result{
				Error: long, MetricDesiredReplicas: -1, MetricIndex: -1,
				Proposals: []recommender.Proposal{{Type: autoscalingv2.ExternalMetricSourceType, Name: long, Rule: recommender.RuleFailed, Error: long}},
				Steps:     []recommender.Step{{Kind: recommender.StepStabilized, From: 3, To: 5, WindowSeconds: &window}},
			},
			want: Explanation{
				MetricIndex: -1, MetricDesiredReplicas: -1,
				Message:   strings.Repeat("é", 512),
				Proposals: []ProposalSummary{{Type: autoscalingv2.ExternalMetricSourceType, Name: strings.Repeat("é", 256), Rule: "Failed", Error: strings.Repeat("é", 512)}},
				Steps:     []ExplanationStep{{Kind: "Stabilized", From: 3, To: 5, WindowSeconds: &window}},
			},
		},
		{
			name: "too many steps",
			in:   recommender.Result{MetricIndex: -1, Steps: make([]recommender.Step, 20)},
			want: Explanation{MetricIndex: -1, Steps: make([]ExplanationStep, maxExplanationSteps)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ExplanationFromResult(&tt.in)
			if !reflect.DeepEqual(*got, tt.want) {
				t.Fatalf("ExplanationFromResult:\n got %+v\nwant %+v", *got, tt.want)
			}
			for i, s := range got.Steps {
				if s.Limit != nil && s.Limit == tt.in.Steps[i].Limit {
					t.Fatal("the explanation shares the result's pointers")
				}
			}
		})
	}
}
