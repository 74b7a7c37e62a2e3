package metrics

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// cannedClient is an api.Client that answers every request with one status
// and body, so that client_golang's own decoding can be run on any answer.
type cannedClient struct {
	code int
	body []byte
}

var _ api.Client = (*cannedClient)(nil)

func (c *cannedClient) URL(ep string, _ map[string]string) *url.URL {
	return &url.URL{Scheme: "http", Host: "prometheus", Path: ep}
}

func (c *cannedClient) Do(_ context.Context, req *http.Request) (*http.Response, []byte, error) {
	return &http.Response{StatusCode: c.code, Request: req}, c.body, nil
}

// referenceQuery is what Client.Query did before decode.go: client_golang's
// promv1 API decodes the answer into a model.Value, which is converted to
// Samples. It returns the classified error so that outcomes can be compared.
func referenceQuery(code int, body []byte) ([]Sample, error) {
	v, _, _, err := promv1.NewAPI(&cannedClient{code: code, body: body}).Query(context.Background(), "q", time.Time{})
	if err != nil {
		return nil, classify(err, code)
	}
	switch r := v.(type) {
	case model.Vector:
		out := make([]Sample, len(r))
		for i, s := range r {
			if s == nil {
				// The old conversion dereferenced it and panicked.
				return nil, errors.New("null sample")
			}
			value := float64(s.Value)
			if s.Histogram != nil {
				value = math.NaN()
			}
			labels := make(map[string]string, len(s.Metric))
			for k, v := range s.Metric {
				labels[string(k)] = string(v)
			}
			out[i] = Sample{Labels: labels, Value: value, Timestamp: s.Timestamp.Time()}
		}
		return out, nil
	case *model.Scalar:
		return []Sample{{Labels: map[string]string{}, Value: float64(r.Value), Timestamp: r.Timestamp.Time()}}, nil
	default:
		return nil, fmt.Errorf("result type %s, want vector or scalar: %w", valueType(v), ErrUnexpectedResult)
	}
}

// equalSamples compares samples exactly: labels, value bits (any NaN equals
// any NaN) and the timestamp's instant.
func equalSamples(a, b []Sample) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d samples, want %d", len(a), len(b))
	}
	for i := range a {
		if !reflect.DeepEqual(a[i].Labels, b[i].Labels) {
			return fmt.Errorf("sample %d: labels %q, want %q", i, a[i].Labels, b[i].Labels)
		}
		if a[i].Value != b[i].Value && !(math.IsNaN(a[i].Value) && math.IsNaN(b[i].Value)) {
			return fmt.Errorf("sample %d: value %v, want %v", i, a[i].Value, b[i].Value)
		}
		if !a[i].Timestamp.Equal(b[i].Timestamp) {
			return fmt.Errorf("sample %d: timestamp %v, want %v", i, a[i].Timestamp, b[i].Timestamp)
		}
	}
	return nil
}

// compareWithReference is the differential check: what client_golang
// rejects must be rejected; what both accept must decode the same; errors
// that both report must classify the same, unless this decoder refused the
// body as one it does not understand (it is stricter on purpose).
func compareWithReference(t *testing.T, code int, body []byte) {
	t.Helper()
	want, wantErr := referenceQuery(code, body)
	got, _, err := decodeQueryResponse(code, body)
	if err != nil {
		err = classify(err, code)
	}
	var refused *decodeError
	switch {
	case err == nil && wantErr != nil:
		t.Fatalf("accepted an answer client_golang rejects (%v): %d %q", wantErr, code, body)
	case err == nil:
		if diff := equalSamples(got, want); diff != nil {
			t.Fatalf("%v\nbody: %q", diff, body)
		}
	case errors.As(err, &refused):
		// Stricter than client_golang: allowed.
	case wantErr == nil:
		t.Fatalf("error %v for an answer client_golang accepts: %d %q", err, code, body)
	default:
		if got, want := Outcome(err), Outcome(wantErr); got != want {
			t.Fatalf("outcome %s (%v), client_golang %s (%v): %d %q", got, err, want, wantErr, code, body)
		}
		var gotAPI, wantAPI *promv1.Error
		if errors.As(err, &gotAPI) && errors.As(wantErr, &wantAPI) && *gotAPI != *wantAPI {
			t.Fatalf("error %#v, client_golang %#v: %d %q", *gotAPI, *wantAPI, code, body)
		}
	}
}

// FuzzDecodeQuery compares decodeQueryResponse with client_golang's decoding
// of the same answer (see compareWithReference). Seeds are in
// testdata/fuzz/FuzzDecodeQuery.
func FuzzDecodeQuery(f *testing.F) {
	f.Fuzz(func(t *testing.T, code uint16, body []byte) {
		if code < 200 || code > 599 {
			code = 200
		}
		compareWithReference(t, int(code), body)
	})
}

func TestDecodeQueryResponse(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	tests := []struct {
		name string
		code int
		body string
		want []Sample
		// wantErr is matched with errors.Is; wantAPI with the API error.
		wantErr     error
		wantAPI     *promv1.Error
		wantRefused bool
		wantWarn    []string
	}{
		{
			name: "vector",
			body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","pod":"a"},"value":[1700000000.123,"1.5"]},{"metric":{},"value":[1700000000,"2"]}]}}`,
			want: []Sample{
				{Labels: map[string]string{"__name__": "up", "pod": "a"}, Value: 1.5, Timestamp: time.UnixMilli(1700000000123)},
				{Labels: map[string]string{}, Value: 2, Timestamp: ts},
			},
		},
		{
			name:     "whitespace, unknown fields, warnings and infos",
			body:     " {\n\t\"status\" : \"success\", \"extra\": {\"a\":[1,true,null,\"x\\n\"]}, \"data\" : {\"result\" : [ { \"metric\" : { \"pod\" : \"a\" } , \"value\" : [ 1700000000 , \"1\" ] , \"exemplars\": [] } ], \"resultType\" : \"vector\", \"stats\": {}}, \"warnings\":[\"w1\",null], \"infos\":[\"i\"]}\r\n",
			want:     []Sample{{Labels: map[string]string{"pod": "a"}, Value: 1, Timestamp: ts}},
			wantWarn: []string{"w1", ""},
		},
		{
			name: "escapes, surrogate pairs and invalid UTF-8 in labels",
			body: "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"p\\u006fd\":\"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\",\"lone\":\"\\ud800x\",\"bad\":\"\xff\",\"ok\":\"é\"},\"value\":[1700000000,\"1\"]}]}}",
			want: []Sample{{Labels: map[string]string{"pod": "a\"b\\c/\né😀", "lone": "\uFFFDx", "bad": "\uFFFD", "ok": "é"}, Value: 1, Timestamp: ts}},
		},
		{
			name: "NaN, infinities and a hexadecimal float stay values",
			body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"p":"n"},"value":[1700000000,"NaN"]},{"metric":{"p":"i"},"value":[1700000000,"+Inf"]},{"metric":{"p":"m"},"value":[1700000000,"-Inf"]},{"metric":{"p":"h"},"value":[1700000000,"0x1p-2"]}]}}`,
			want: []Sample{
				{Labels: map[string]string{"p": "n"}, Value: math.NaN(), Timestamp: ts},
				{Labels: map[string]string{"p": "i"}, Value: math.Inf(1), Timestamp: ts},
				{Labels: map[string]string{"p": "m"}, Value: math.Inf(-1), Timestamp: ts},
				{Labels: map[string]string{"p": "h"}, Value: 0.25, Timestamp: ts},
			},
		},
		{
			name: "timestamps: truncated past milliseconds, negative, digits after an exponent-free fraction",
			body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1.9999,"1"]},{"metric":{"a":"2"},"value":[-1.5,"1"]},{"metric":{"a":"3"},"value":[-0.25,"1"]},{"metric":{"a":"4"},"value":[0,"1"]}]}}`,
			want: []Sample{
				{Labels: map[string]string{"a": "1"}, Value: 1, Timestamp: time.UnixMilli(1999)},
				{Labels: map[string]string{"a": "2"}, Value: 1, Timestamp: time.UnixMilli(-1500)},
				{Labels: map[string]string{"a": "3"}, Value: 1, Timestamp: time.UnixMilli(-250)},
				{Labels: map[string]string{"a": "4"}, Value: 1, Timestamp: time.Unix(0, 0)},
			},
		},
		{
			name: "histogram sample is NaN at its own timestamp",
			body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"p":"h"},"histogram":[1700000000.5,{"count":"2","sum":"3.5","buckets":[[0,"0","1","2"],[3,"-1","0","0"]]}]}]}}`,
			want: []Sample{{Labels: map[string]string{"p": "h"}, Value: math.NaN(), Timestamp: time.UnixMilli(1700000000500)}},
		},
		{
			name: "scalar value is unescaped",
			body: `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"4\u0032"]}}`,
			want: []Sample{{Labels: map[string]string{}, Value: 42, Timestamp: ts}},
		},
		{
			name: "result before resultType",
			body: `{"status":"success","data":{"result":[{"metric":{"p":"a"},"value":[1700000000,"1"]}],"resultType":"vector"}}`,
			want: []Sample{{Labels: map[string]string{"p": "a"}, Value: 1, Timestamp: ts}},
		},
		{
			name: "keys match case-insensitively, as encoding/json matches them",
			body: `{"STATUS":"success","Data":{"ResultType":"vector","RESULT":[{"Metric":{"p":"a"},"VALUE":[1700000000,"1"]}]}}`,
			want: []Sample{{Labels: map[string]string{"p": "a"}, Value: 1, Timestamp: ts}},
		},
		{
			name: "empty vector",
			body: `{"status":"success","data":{"resultType":"vector","result":[]}}`,
			want: []Sample{},
		},
		{name: "matrix", body: `{"status":"success","data":{"resultType":"matrix","result":[]}}`, wantErr: ErrUnexpectedResult},
		{name: "no data", body: `{"status":"success"}`, wantErr: ErrUnexpectedResult},
		{name: "null data", body: `{"status":"success","data":null}`, wantErr: ErrUnexpectedResult},
		{name: "string result", body: `{"status":"success","data":{"resultType":"string","result":[1,"x"]}}`, wantRefused: true},
		{name: "unknown status", body: `{"status":"partial","data":{"resultType":"vector","result":[]}}`, wantRefused: true},
		{name: "no status", body: `{"data":{"resultType":"vector","result":[]}}`, wantRefused: true},
		{name: "sample without value", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}}`, wantRefused: true},
		{name: "sample without metric", body: `{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]}]}}`, wantRefused: true},
		{name: "null sample", body: `{"status":"success","data":{"resultType":"vector","result":[null]}}`, wantRefused: true},
		{name: "null result", body: `{"status":"success","data":{"resultType":"vector","result":null}}`, wantRefused: true},
		{name: "value and histogram", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"],"histogram":[1,{}]}]}}`, wantRefused: true},
		{name: "duplicate label", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1","a":"2"},"value":[1,"1"]}]}}`, wantRefused: true},
		{name: "duplicate data", body: `{"status":"success","data":null,"data":{"resultType":"vector","result":[]}}`, wantRefused: true},
		{name: "extra pair element", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1",2]}]}}`, wantRefused: true},
		{name: "null timestamp", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[null,"1"]}]}}`, wantRefused: true},
		{name: "exponent timestamp", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1e9,"1"]}]}}`, wantRefused: true},
		{name: "unquoted value", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,1]}]}}`, wantRefused: true},
		{name: "escaped vector value", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"\u0031"]}]}}`, wantRefused: true},
		{name: "value out of range", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1e400"]}]}}`, wantRefused: true},
		{name: "label value not a string", body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"1"]}]}}`, wantRefused: true},
		{name: "truncated", body: `{"status":"success","data":{"resultType":"vector","result":[`, wantRefused: true},
		{name: "trailing garbage", body: `{"status":"success","data":{"resultType":"vector","result":[]}} x`, wantRefused: true},
		{name: "invalid JSON in a skipped field", body: `{"status":"success","x":[01],"data":{"resultType":"vector","result":[]}}`, wantRefused: true},
		{name: "control character in a string", body: "{\"status\":\"success\",\"x\":\"a\tb\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}", wantRefused: true},
		{name: "too deep", body: `{"status":"success","x":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `,"data":{"resultType":"vector","result":[]}}`, wantRefused: true},
		{name: "empty body", body: ``, wantRefused: true},
		{
			name:    "error answer in a 200",
			body:    `{"status":"error","errorType":"bad_data","error":"parse error","warnings":["w"]}`,
			wantAPI: &promv1.Error{Type: promv1.ErrBadData, Msg: "parse error"}, wantErr: ErrBadQuery,
		},
		{
			name: "400 with Prometheus' error", code: 400,
			body:    `{"status":"error","errorType":"bad_data","error":"parse error at char 3"}`,
			wantAPI: &promv1.Error{Type: promv1.ErrBadData, Msg: "parse error at char 3"}, wantErr: ErrBadQuery,
		},
		{
			name: "422 without error fields gets client_golang's defaults", code: 422,
			body:    `{"status":"error","data":{"anything":[1]}}`,
			wantAPI: &promv1.Error{Type: promv1.ErrClient, Msg: "client error: 422"}, wantErr: ErrBadQuery,
		},
		{
			name: "400 claiming success", code: 400,
			body:    `{"status":"success","data":{}}`,
			wantAPI: &promv1.Error{Type: promv1.ErrBadResponse, Msg: "inconsistent body for response code"}, wantErr: ErrBadQuery,
		},
		{
			name: "400 that is not JSON", code: 400,
			body:    `bad request`,
			wantAPI: &promv1.Error{Type: promv1.ErrClient, Msg: "client error: 400", Detail: "bad request"}, wantErr: ErrBadQuery,
		},
		{
			name: "503 keeps the body as detail", code: 503,
			body:    `{"status":"error","errorType":"timeout","error":"query timed out"}`,
			wantAPI: &promv1.Error{Type: promv1.ErrServer, Msg: "server error: 503", Detail: `{"status":"error","errorType":"timeout","error":"query timed out"}`}, wantErr: ErrUnavailable,
		},
		{
			name: "302 is a bad response", code: 302,
			body:    `moved`,
			wantAPI: &promv1.Error{Type: promv1.ErrBadResponse, Msg: "bad response code 302", Detail: "moved"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := tt.code
			if code == 0 {
				code = http.StatusOK
			}
			compareWithReference(t, code, []byte(tt.body))
			got, warnings, err := decodeQueryResponse(code, []byte(tt.body))
			switch {
			case tt.wantRefused:
				var refused *decodeError
				if !errors.As(err, &refused) {
					t.Fatalf("error = %v, want a refusal", err)
				}
				if Outcome(classify(err, code)) != OutcomeError {
					t.Errorf("refusal classified as %s, want %s", Outcome(classify(err, code)), OutcomeError)
				}
				return
			case tt.wantAPI != nil:
				var apiErr *promv1.Error
				if !errors.As(err, &apiErr) || *apiErr != *tt.wantAPI {
					t.Fatalf("error = %#v, want %#v", err, tt.wantAPI)
				}
				if tt.wantErr != nil && !errors.Is(classify(err, code), tt.wantErr) {
					t.Errorf("classified error %v, want %v", classify(err, code), tt.wantErr)
				}
				return
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if diff := equalSamples(got, tt.want); diff != nil {
				t.Error(diff)
			}
			if got == nil {
				t.Error("nil samples, want a non-nil slice")
			}
			if tt.wantWarn != nil && !reflect.DeepEqual(warnings, tt.wantWarn) {
				t.Errorf("warnings %q, want %q", warnings, tt.wantWarn)
			}
		})
	}
}

func TestParseMillis(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int64
		ok   bool
	}{
		{name: "seconds", in: "1700000000", want: 1700000000000, ok: true},
		{name: "one decimal", in: "1.5", want: 1500, ok: true},
		{name: "two decimals", in: "1.25", want: 1250, ok: true},
		{name: "truncated, not rounded", in: "1.9999", want: 1999, ok: true},
		{name: "negative fraction", in: "-1.5", want: -1500, ok: true},
		{name: "negative zero with a fraction", in: "-0.001", want: -1, ok: true},
		{name: "exponent", in: "1e3", ok: false},
		{name: "exponent after three decimals is dropped with them", in: "1.123e5", want: 1123, ok: true},
		{name: "exponent within three decimals", in: "1.1e5", ok: false},
		{name: "overflow", in: "99999999999999999999", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseMillis(tt.in)
			if ok != tt.ok || (ok && got != tt.want) {
				t.Fatalf("parseMillis(%q) = %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
			var ref model.Time
			refErr := ref.UnmarshalJSON([]byte(tt.in))
			if (refErr == nil) != ok || (ok && int64(ref) != got) {
				t.Errorf("model.Time says %d, %v", int64(ref), refErr)
			}
		})
	}
}

// BenchmarkDecodeQueryResponse measures the decoder alone beside
// client_golang's decoding and conversion of the same body.
func BenchmarkDecodeQueryResponse(b *testing.B) {
	for _, n := range []int{10, 1000} {
		var sb strings.Builder
		sb.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
		for i := range n {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"metric":{"namespace":"default","pod":"web-%d"},"value":[1700000000.123,"%d.5"]}`, i, i)
		}
		sb.WriteString(`]}}`)
		body := []byte(sb.String())
		b.Run(fmt.Sprintf("series=%d/decoder", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if s, _, err := decodeQueryResponse(200, body); err != nil || len(s) != n {
					b.Fatalf("%d samples, %v", len(s), err)
				}
			}
		})
		b.Run(fmt.Sprintf("series=%d/client_golang", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if s, err := referenceQuery(200, body); err != nil || len(s) != n {
					b.Fatalf("%d samples, %v", len(s), err)
				}
			}
		})
	}
}
