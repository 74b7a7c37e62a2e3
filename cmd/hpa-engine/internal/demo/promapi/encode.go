package promapi

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// errHistogram is returned for native histogram results, which the demo
// never stores.
var errHistogram = errors.New("native histograms are not served by the demo's API")

// queryData is the data of a query response: {"resultType": ..., "result": ...}.
type queryData struct {
	ResultType parser.ValueType `json:"resultType"`
	Result     any              `json:"result"`
}

// point is [<unix seconds>, "<value>"], Prometheus' encoding of a sample:
// the value is a string so that NaN and infinities survive JSON.
type point struct {
	t int64
	v string
}

func (p point) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{json.Number(strconv.FormatFloat(float64(p.t)/1000, 'f', -1, 64)), p.v})
}

func floatPoint(t int64, f float64) point { return point{t: t, v: formatFloat(f)} }

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

type vectorSample struct {
	Metric map[string]string `json:"metric"`
	Value  point             `json:"value"`
}

type matrixSeries struct {
	Metric map[string]string `json:"metric"`
	Values []point           `json:"values"`
}

func metricMap(l labels.Labels) map[string]string {
	m := l.Map()
	if m == nil {
		m = map[string]string{}
	}
	return m
}

func encodeValue(v parser.Value) (queryData, error) {
	switch val := v.(type) {
	case promql.Vector:
		out := make([]vectorSample, 0, len(val))
		for _, s := range val {
			if s.H != nil {
				return queryData{}, errHistogram
			}
			out = append(out, vectorSample{Metric: metricMap(s.Metric), Value: floatPoint(s.T, s.F)})
		}
		return queryData{ResultType: parser.ValueTypeVector, Result: out}, nil
	case promql.Matrix:
		out := make([]matrixSeries, 0, len(val))
		for _, s := range val {
			if len(s.Histograms) > 0 {
				return queryData{}, errHistogram
			}
			ps := make([]point, 0, len(s.Floats))
			for _, p := range s.Floats {
				ps = append(ps, floatPoint(p.T, p.F))
			}
			out = append(out, matrixSeries{Metric: metricMap(s.Metric), Values: ps})
		}
		return queryData{ResultType: parser.ValueTypeMatrix, Result: out}, nil
	case promql.Scalar:
		return queryData{ResultType: parser.ValueTypeScalar, Result: floatPoint(val.T, val.V)}, nil
	case promql.String:
		return queryData{ResultType: parser.ValueTypeString, Result: point{t: val.T, v: val.V}}, nil
	}
	return queryData{}, errors.New("unknown result type")
}
