package checksum_test

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/meshdns/meshdns/dnsengine/checksum"
)

// naive is RFC 1071's reference: 16-bit words, folded at every step.
func naive(s uint16, b []byte) uint16 {
	acc := uint32(s)
	for i := 0; i < len(b); i += 2 {
		w := uint32(b[i]) << 8
		if i+1 < len(b) {
			w |= uint32(b[i+1])
		}
		acc += w
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}

// same compares one's-complement sums, which have two zeros (0, 0xffff).
func same(a, b uint16) bool {
	return a == b || a|b == 0xffff && a&b == 0 && (a == 0 || b == 0)
}

// TestRFC1071Example: the worked example of RFC 1071 section 3.
func TestRFC1071Example(t *testing.T) {
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := checksum.Fold(checksum.Sum(0, b)); got != 0xddf2 {
		t.Fatalf("sum %#04x, want 0xddf2", got)
	}
}

// TestIPv4Header: a header's checksum, then the header verifies.
func TestIPv4Header(t *testing.T) {
	h := []byte{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7}
	ck := checksum.IPv4Header(h)
	if ck != 0xb861 {
		t.Fatalf("checksum %#04x, want 0xb861", ck)
	}
	if checksum.HeaderValid(h) {
		t.Fatal("a zero checksum field verified")
	}
	binary.BigEndian.PutUint16(h[10:], ck)
	if !checksum.HeaderValid(h) {
		t.Fatal("header with its checksum does not verify")
	}
	h[8]--
	if checksum.HeaderValid(h) {
		t.Fatal("altered header verified")
	}
}

// TestSumMatchesNaive: the 8-byte-at-a-time sum equals the reference for
// every length (odd ones padded), and chains over even pieces.
func TestSumMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 200; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		want := naive(0, b)
		if got := checksum.Fold(checksum.Sum(0, b)); !same(got, want) {
			t.Fatalf("len %d: %#04x, want %#04x", n, got, want)
		}
		cut := n / 2 &^ 1
		if a, b := checksum.Fold(checksum.Sum(checksum.Sum(0, b[:cut]), b[cut:])), checksum.Fold(checksum.Sum(0, b)); a != b {
			t.Fatalf("len %d: chained %#04x, whole %#04x", n, a, b)
		}
	}
}

// TestTransport: a UDP segment over IPv4 and a TCP segment over IPv6 get a
// checksum that TransportValid accepts, and a flipped bit is caught.
func TestTransport(t *testing.T) {
	for _, c := range []struct {
		name     string
		src, dst []byte
		proto    uint8
		seg      []byte
		off      int
	}{
		{"udp4", []byte{10, 0, 0, 1}, []byte{10, 0, 0, 10}, 17,
			[]byte{0xc3, 0x50, 0, 53, 0, 13, 0, 0, 1, 2, 3, 4, 5}, 6},
		{"tcp6", append(make([]byte, 15), 1), append(make([]byte, 15), 2), 6,
			append([]byte{0xc3, 0x50, 0, 53, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0}, 9), 16},
	} {
		t.Run(c.name, func(t *testing.T) {
			ck := checksum.Transport(c.src, c.dst, c.proto, c.seg)
			binary.BigEndian.PutUint16(c.seg[c.off:], ck)
			if !checksum.TransportValid(c.src, c.dst, c.proto, c.seg) {
				t.Fatal("segment with its checksum does not verify")
			}
			// The pseudo-header counts: the same segment to another address fails.
			other := append([]byte(nil), c.dst...)
			other[len(other)-1]++
			if checksum.TransportValid(c.src, other, c.proto, c.seg) {
				t.Fatal("verified under another pseudo-header")
			}
			c.seg[len(c.seg)-1] ^= 1
			if checksum.TransportValid(c.src, c.dst, c.proto, c.seg) {
				t.Fatal("flipped bit verified")
			}
		})
	}
}

// TestAllocs: the allocation budget of the package is zero.
func TestAllocs(t *testing.T) {
	src, dst := []byte{10, 0, 0, 1}, []byte{10, 0, 0, 10}
	seg := make([]byte, 1400)
	h := make([]byte, 20)
	var sink uint16
	var ok bool
	if n := testing.AllocsPerRun(100, func() {
		sink ^= checksum.Transport(src, dst, 17, seg)
		sink ^= checksum.IPv4Header(h)
		ok = ok != checksum.TransportValid(src, dst, 6, seg)
		ok = ok != checksum.HeaderValid(h)
	}); n != 0 {
		t.Fatalf("%v allocations per run, want 0", n)
	}
	_, _ = sink, ok
}

// FuzzSum: the fast sum agrees with the reference on any bytes.
func FuzzSum(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7})
	f.Add([]byte{0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := checksum.Fold(checksum.Sum(0, b)), naive(0, b)
		if !same(got, want) {
			t.Fatalf("%x: %#04x, want %#04x", b, got, want)
		}
	})
}
