package tcpstack

import "testing"

// TestQuestionEnd: the question a SERVFAIL echoes ends after its name,
// type and class; a message without one, or with a name the engine would
// not read, echoes none.
func TestQuestionEnd(t *testing.T) {
	hdr := func(qd byte) []byte { return []byte{0xab, 0xcd, 1, 0, 0, qd, 0, 0, 0, 0, 0, 0} }
	name := []byte{3, 'w', 'e', 'b', 7, 'd', 'e', 'f', 'a', 'u', 'l', 't', 0}
	q := append(append(hdr(1), name...), 0, 1, 0, 1)
	long := hdr(1)
	for range 5 {
		long = append(long, 63)
		long = append(long, make([]byte, 63)...)
	}
	long = append(long, 0, 0, 1, 0, 1)
	for _, tc := range []struct {
		name string
		m    []byte
		want int
	}{
		{"question", q, len(q)},
		{"question then more", append(append([]byte{}, q...), 0, 0, 41), len(q)},
		{"no question", hdr(0), 0},
		{"header only", hdr(1), 0},
		{"short header", q[:10], 0},
		{"no type and class", q[:len(q)-1], 0},
		{"name runs off", q[:15], 0},
		{"compressed", append(hdr(1), 0xc0, 12, 0, 1, 0, 1), 0},
		{"name over 255 bytes", long, 0},
	} {
		if got := questionEnd(tc.m); got != tc.want {
			t.Errorf("%s: questionEnd = %d, want %d", tc.name, got, tc.want)
		}
	}
}
