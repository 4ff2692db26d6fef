package wire

import (
	"fmt"
	"strings"
	"testing"
)

// refAppendName is AppendName as it was before its one-pass rewrite,
// label by label: the rewrite must give the same bytes and errors.
func refAppendName(dst []byte, s string) ([]byte, error) {
	name := strings.TrimSuffix(s, ".")
	s = name
	start := len(dst)
	out := dst
	if s == "" {
		return append(out, 0), nil
	}
	for len(s) > 0 {
		label := s
		rest := ""
		if i := strings.IndexByte(s, '.'); i >= 0 {
			label, rest = s[:i], s[i+1:]
			if rest == "" {
				return dst, fmt.Errorf("name %q: %w", name, ErrEmptyLabel)
			}
		}
		if label == "" {
			return dst, fmt.Errorf("name %q: %w", name, ErrEmptyLabel)
		}
		if len(label) > 63 {
			return dst, fmt.Errorf("name %q: label longer than 63 bytes", name)
		}
		out = append(out, byte(len(label)))
		for i := 0; i < len(label); i++ {
			out = append(out, Lower(label[i]))
		}
		s = rest
	}
	out = append(out, 0)
	if len(out)-start > MaxNameLen {
		return dst, fmt.Errorf("name %q: longer than 255 bytes", name)
	}
	return out, nil
}

// checkAppendName fails t if AppendName and refAppendName differ on s,
// appended after prefix.
func checkAppendName(t *testing.T, prefix []byte, s string) {
	t.Helper()
	got, gerr := AppendName(append([]byte(nil), prefix...), s)
	want, werr := refAppendName(append([]byte(nil), prefix...), s)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) || string(got) != string(want) {
		t.Fatalf("AppendName(%q, %q) = %q, %v; want %q, %v", prefix, s, got, gerr, want, werr)
	}
}

func TestAppendName(t *testing.T) {
	l63, l64 := strings.Repeat("a", 63), strings.Repeat("b", 64)
	long := strings.Repeat(l63+".", 4) // 256 bytes: one too many in wire form
	cases := []string{
		"", ".", "..", "a", "a.", "a..", ".a", "a..b", "Foo.Example.COM", "foo.example.com.",
		"10-0-0-1.svc-0.ns-0.svc.cluster.local.", l63, l63 + ".", l64, l64 + ".", l64 + "..",
		"x." + l64 + ".y", "x..y." + l64, l64 + "..y", long, long[:len(long)-1], long[:len(long)-3],
		long[:len(long)-2] + "..", "*.wild.example", "_http._tcp.svc.ns.svc.cluster.local",
	}
	for _, s := range cases {
		for _, prefix := range [][]byte{nil, []byte("\x03abc")} {
			checkAppendName(t, prefix, s)
		}
	}
}

func FuzzAppendName(f *testing.F) {
	for _, s := range []string{"a.b", "A..b.", strings.Repeat("x", 70) + ".y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkAppendName(t, []byte("\x01p"), s) })
}

// BenchmarkAppendName encodes an endpoint's name, as a table build does
// for each of its records.
func BenchmarkAppendName(b *testing.B) {
	buf := make([]byte, 0, MaxNameLen)
	for b.Loop() {
		buf, _ = AppendName(buf[:0], "10-128-0-1.svc-1234.ns-1234.svc.cluster.local.")
	}
}
