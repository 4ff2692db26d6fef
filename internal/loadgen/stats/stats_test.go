package stats

import (
	"encoding/json"
	"math"
	"testing"
)

func TestPercentile(t *testing.T) {
	hundred := make([]int64, 100)
	for i := range hundred {
		hundred[i] = int64(i + 1)
	}
	thousand, thousand2 := make([]int64, 1000), make([]int64, 2000)
	for i := range thousand2 {
		if i < 1000 {
			thousand[i] = int64(i + 1)
		}
		thousand2[i] = int64(i + 1)
	}
	tests := []struct {
		name   string
		sorted []int64
		p      float64
		want   int64
	}{
		{"empty", nil, 50, 0},
		{"one", []int64{7}, 99.9, 7},
		{"p50 of 100", hundred, 50, 50},
		{"p90 of 100", hundred, 90, 90},
		{"p99 of 100", hundred, 99, 99},
		{"p99.9 of 100 is the max", hundred, 99.9, 100},
		{"p0", hundred, 0, 1},
		{"p100", hundred, 100, 100},
		{"p50 of 4", []int64{1, 2, 3, 4}, 50, 2},
		{"p99.9 of 1000 is not the max", thousand, 99.9, 999},
		{"p99.9 of 2000", thousand2, 99.9, 1998},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%v) = %d, want %d", tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	s := []int64{3000, 1000, 2000, 4000} // ns
	l := Summarize(s)
	if l.N != 4 || l.P50 != 2 || l.Max != 4 || l.Mean != 2.5 {
		t.Errorf("Summarize = %+v", l)
	}
	if s[0] != 1000 {
		t.Errorf("samples not sorted in place: %v", s)
	}
	if z := Summarize(nil); z.N != 0 || z.P99 != 0 {
		t.Errorf("Summarize(nil) = %+v", z)
	}
}

// TestSummarizeThousand: 1..1000 ms, exact nearest-rank percentiles.
func TestSummarizeThousand(t *testing.T) {
	var ns []int64
	for i := 1000; i >= 1; i-- {
		ns = append(ns, int64(i)*1e6)
	}
	l := Summarize(ns)
	if l.P50 != 500_000 || l.P90 != 900_000 || l.P99 != 990_000 || l.P999 != 999_000 || l.Max != 1_000_000 {
		t.Errorf("percentiles %+v", l)
	}
	if l := Summarize([]int64{3e6}); l.P50 != 3000 || l.P999 != 3000 {
		t.Errorf("one: %+v", l)
	}
}

func TestSpreadOf(t *testing.T) {
	tests := []struct {
		name          string
		in            []float64
		med, min, max float64
		n             int
	}{
		{"odd", []float64{3, 1, 2}, 2, 1, 3, 3},
		{"even", []float64{4, 1, 2, 3}, 2.5, 1, 4, 4},
		{"nan ignored", []float64{math.NaN(), 5, 1}, 3, 1, 5, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := SpreadOf(tt.in)
			if s.Median != tt.med || s.Min != tt.min || s.Max != tt.max || s.N != tt.n {
				t.Errorf("SpreadOf(%v) = %+v", tt.in, s)
			}
		})
	}
	if s := SpreadOf([]float64{math.NaN()}); !math.IsNaN(s.Median) || s.N != 0 {
		t.Errorf("all-NaN spread = %+v", s)
	}
}

func TestSpreadJSON(t *testing.T) {
	for _, s := range []Spread{{N: 2, Median: 1.5, Min: 1, Max: 2}, SpreadOf(nil)} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", s, err)
		}
		var back Spread
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
		if back.N != s.N || !same(back.Median, s.Median) || !same(back.Min, s.Min) || !same(back.Max, s.Max) {
			t.Errorf("round trip %s: got %+v, want %+v", b, back, s)
		}
	}
}
