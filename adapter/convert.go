package adapter

import (
	"math"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cmv1beta1 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta1"
	cmv1beta2 "k8s.io/metrics/pkg/apis/custom_metrics/v1beta2"
	emv1beta1 "k8s.io/metrics/pkg/apis/external_metrics/v1beta1"
)

// exactIntLimit bounds the integers a float64 holds exactly (2^53).
const exactIntLimit = 1 << 53

// Quantity converts a sample into the Quantity the wire types carry: whole
// numbers stay whole, fractions become milli-units (the HPA compares
// MilliValue()s, so finer digits would be lost there anyway). It reports false
// for NaN and ±Inf, which are missing data, never 0.
func Quantity(v float64) (resource.Quantity, bool) {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return resource.Quantity{}, false
	case v == math.Trunc(v) && math.Abs(v) < exactIntLimit:
		return *resource.NewQuantity(int64(v), resource.DecimalSI), true
	case math.Abs(v)*1000 < exactIntLimit:
		return *resource.NewMilliQuantity(int64(math.Round(v*1000)), resource.DecimalSI), true
	}
	// Too large for an int64 of milli-units: the fraction is below float64's
	// resolution at this magnitude. The exponent form keeps every significant
	// digit; the plain decimal form of numbers past 2^63 is printed wrongly by
	// Quantity.String (1e30 came out as "1").
	s := strings.Replace(strconv.FormatFloat(v, 'e', -1, 64), "e+", "e", 1)
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return resource.Quantity{}, false
	}
	return q, true
}

// windowSeconds returns the wire form of a window: nil (omitted) for an
// instantaneous value.
func windowSeconds(w time.Duration) *int64 {
	if w <= 0 {
		return nil
	}
	s := int64(w / time.Second)
	if s == 0 {
		s = 1
	}
	return &s
}

// windows hands out the wire form of each sample's window. Every item of a
// list almost always has the same window, so items share one pointer rather
// than allocating one each: the lists are encoded and dropped, never
// modified.
type windows struct {
	last time.Duration
	ptr  *int64
	set  bool
}

func (w *windows) seconds(d time.Duration) *int64 {
	if !w.set || d != w.last {
		w.last, w.ptr, w.set = d, windowSeconds(d), true
	}
	return w.ptr
}

// The converters below fill each item in place in a list sized up front and
// share one copy of the metric selector among the items, for the same reason
// as windows: at 1,000 pods the per-item copies and allocations were a
// visible part of the edge's cost.

func customV1beta2(values []CustomMetricValue, metric string, selector *metav1.LabelSelector) *cmv1beta2.MetricValueList {
	out := &cmv1beta2.MetricValueList{Items: make([]cmv1beta2.MetricValue, len(values))}
	id := cmv1beta2.MetricIdentifier{Name: metric, Selector: selector.DeepCopy()}
	var w windows
	n := 0
	for _, v := range values {
		q, ok := Quantity(v.Value)
		if !ok {
			continue
		}
		it := &out.Items[n]
		it.DescribedObject = v.DescribedObject
		it.Metric = id
		it.Timestamp = metav1.NewTime(v.Timestamp)
		it.WindowSeconds = w.seconds(v.Window)
		it.Value = q
		n++
	}
	out.Items = out.Items[:n]
	return out
}

func customV1beta1(values []CustomMetricValue, metric string, selector *metav1.LabelSelector) *cmv1beta1.MetricValueList {
	out := &cmv1beta1.MetricValueList{Items: make([]cmv1beta1.MetricValue, len(values))}
	sel := selector.DeepCopy()
	var w windows
	n := 0
	for _, v := range values {
		q, ok := Quantity(v.Value)
		if !ok {
			continue
		}
		it := &out.Items[n]
		it.DescribedObject = v.DescribedObject
		it.MetricName = metric
		it.Timestamp = metav1.NewTime(v.Timestamp)
		it.WindowSeconds = w.seconds(v.Window)
		it.Value = q
		it.Selector = sel
		n++
	}
	out.Items = out.Items[:n]
	return out
}

func externalV1beta1(values []ExternalMetricValue, metric string) *emv1beta1.ExternalMetricValueList {
	out := &emv1beta1.ExternalMetricValueList{Items: make([]emv1beta1.ExternalMetricValue, len(values))}
	var w windows
	var empty map[string]string
	n := 0
	for _, v := range values {
		q, ok := Quantity(v.Value)
		if !ok {
			continue
		}
		labels := v.Labels
		if labels == nil {
			// The wire type has no omitempty: send {} rather than null so
			// strict clients see the same shape for every item.
			if empty == nil {
				empty = map[string]string{}
			}
			labels = empty
		}
		it := &out.Items[n]
		it.MetricName = metric
		it.MetricLabels = labels
		it.Timestamp = metav1.NewTime(v.Timestamp)
		it.WindowSeconds = w.seconds(v.Window)
		it.Value = q
		n++
	}
	out.Items = out.Items[:n]
	return out
}
