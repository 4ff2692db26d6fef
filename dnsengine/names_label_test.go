package dnsengine_test

import (
	"strings"
	"testing"

	"github.com/meshdns/meshdns/dnsengine"
)

// TestIsLabel: IsLDH checks the letters only; IsLabel adds RFC 1123's
// length and ends.
func TestIsLabel(t *testing.T) {
	for _, tc := range []struct {
		s          string
		ldh, label bool
	}{
		{"", true, false},
		{"a", true, true},
		{"web-1", true, true},
		{"0abc", true, true},
		{"-a", true, false},
		{"a-", true, false},
		{"-", true, false},
		{strings.Repeat("a", 63), true, true},
		{strings.Repeat("a", 64), true, false},
		{"Web", false, false},
		{"a_b", false, false},
		{"a.b", false, false},
		{"é", false, false},
	} {
		if got := dnsengine.IsLDH(tc.s); got != tc.ldh {
			t.Errorf("IsLDH(%q) = %v, want %v", tc.s, got, tc.ldh)
		}
		if got := dnsengine.IsLabel(tc.s); got != tc.label {
			t.Errorf("IsLabel(%q) = %v, want %v", tc.s, got, tc.label)
		}
	}
}
