package stats

import (
	"encoding/json"
	"math"
)

// Float is a float64 that encodes NaN and infinities as JSON null (the
// figure could not be measured) instead of failing the whole document.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON implements json.Unmarshaler; null decodes to NaN.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// MarshalJSON encodes a Spread with NaN fields as null.
func (s Spread) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		N      int   `json:"n"`
		Median Float `json:"median"`
		Min    Float `json:"min"`
		Max    Float `json:"max"`
	}{s.N, Float(s.Median), Float(s.Min), Float(s.Max)})
}

// UnmarshalJSON decodes what MarshalJSON writes.
func (s *Spread) UnmarshalJSON(b []byte) error {
	var v struct {
		N      int   `json:"n"`
		Median Float `json:"median"`
		Min    Float `json:"min"`
		Max    Float `json:"max"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Spread{N: v.N, Median: float64(v.Median), Min: float64(v.Min), Max: float64(v.Max)}
	return nil
}
