package adapter_test

import (
	"math"
	"testing"

	"github.com/hpa-engine/hpa-engine/adapter"
)

func TestQuantity(t *testing.T) {
	tests := []struct {
		name   string
		in     float64
		want   string
		wantOK bool
	}{
		{name: "zero", in: 0, want: "0", wantOK: true},
		{name: "integer", in: 42, want: "42", wantOK: true},
		{name: "negative integer", in: -3, want: "-3", wantOK: true},
		{name: "fraction becomes milli", in: 1.5, want: "1500m", wantOK: true},
		{name: "small fraction", in: 0.25, want: "250m", wantOK: true},
		{name: "fraction rounds to milli", in: 0.0126, want: "13m", wantOK: true},
		{name: "negative fraction", in: -0.5, want: "-500m", wantOK: true},
		{name: "large integer", in: 1e15, want: "1P", wantOK: true},
		{name: "large fraction keeps its integer part", in: 123456789012.5, want: "123456789012500m", wantOK: true},
		{name: "beyond int64 milli-units", in: 1.2345678e17, want: "123456780e9", wantOK: true},
		{name: "beyond int64", in: 1e30, want: "1e30", wantOK: true},
		{name: "beyond int64 with digits", in: -1.25e25, want: "-12500e21", wantOK: true},
		{name: "NaN is missing", in: math.NaN()},
		{name: "+Inf is missing", in: math.Inf(1)},
		{name: "-Inf is missing", in: math.Inf(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, ok := adapter.Quantity(tt.in)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			if got := q.String(); got != tt.want {
				t.Errorf("Quantity(%v) = %s, want %s", tt.in, got, tt.want)
			}
			// Whatever the notation, the value must survive within float64
			// precision (milli-units for fractions).
			if got := q.AsApproximateFloat64(); math.Abs(got-tt.in) > math.Max(5e-4, math.Abs(tt.in)*1e-12) {
				t.Errorf("Quantity(%v) holds %v", tt.in, got)
			}
		})
	}
}
