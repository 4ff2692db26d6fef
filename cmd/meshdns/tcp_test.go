package main

import "testing"

func TestByteSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"16MiB", 16 << 20, true},
		{"512KiB", 512 << 10, true},
		{"1GiB", 1 << 30, true},
		{"4000000", 4000000, true},
		{"16MB", 0, false},
		{"-1MiB", 0, false},
		{"", 0, false},
		{"99999999999GiB", 0, false},
	} {
		var b byteSize
		err := b.Set(c.in)
		if (err == nil) != c.ok || c.ok && int64(b) != c.want {
			t.Errorf("%q: %d %v, want %d ok %v", c.in, b, err, c.want, c.ok)
		}
	}
}
