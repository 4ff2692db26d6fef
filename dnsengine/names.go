package dnsengine

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/meshdns/meshdns/dnsengine/wire"
)

// Names inside the engine are kept in lowercase DNS wire format
// ("\x03foo\x07default\x03svc\x07cluster\x05local\x00"): no escaping
// questions, and a query's question name can be compared after lowercasing
// it into a scratch buffer.

// mustEncodeName is encodeName for names built from already valid parts.
func mustEncodeName(s string) []byte {
	b, err := wire.EncodeName(s)
	if err != nil {
		panic(err)
	}
	return b
}

// parentName returns the wire name without its first label, or nil for the root.
func parentName(w []byte) []byte {
	if len(w) == 0 || w[0] == 0 {
		return nil
	}
	return w[1+int(w[0]):]
}

// isSubdomain reports whether wire name w equals zone or lies below it.
// Both must be lowercase wire names.
func isSubdomain(w, zone []byte) bool {
	for len(w) >= len(zone) {
		if string(w) == string(zone) {
			return true
		}
		if w[0] == 0 {
			return false
		}
		w = w[1+int(w[0]):]
	}
	return false
}

// appendReverseName appends the wire form of ReverseName(ip) to dst.
func appendReverseName(dst []byte, ip netip.Addr) []byte {
	ip = ip.Unmap()
	if ip.Is4() {
		b := ip.As4()
		for i := 3; i >= 0; i-- {
			l := len(dst)
			dst = strconv.AppendUint(append(dst, 0), uint64(b[i]), 10)
			dst[l] = byte(len(dst) - l - 1)
		}
		return append(dst, "\x07in-addr\x04arpa\x00"...)
	}
	const hexd = "0123456789abcdef"
	b := ip.As16()
	for i := len(b) - 1; i >= 0; i-- {
		dst = append(dst, 1, hexd[b[i]&0xf], 1, hexd[b[i]>>4])
	}
	return append(dst, "\x03ip6\x04arpa\x00"...)
}

// ReverseName returns the PTR owner name of ip: "4.3.2.1.in-addr.arpa." or
// the 32 nibbles under "ip6.arpa.".
func ReverseName(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is4() {
		b := ip.As4()
		return fmt.Sprintf("%d.%d.%d.%d.in-addr.arpa.", b[3], b[2], b[1], b[0])
	}
	const hexd = "0123456789abcdef"
	b := ip.As16()
	var sb strings.Builder
	for i := len(b) - 1; i >= 0; i-- {
		sb.WriteByte(hexd[b[i]&0xf])
		sb.WriteByte('.')
		sb.WriteByte(hexd[b[i]>>4])
		sb.WriteByte('.')
	}
	sb.WriteString("ip6.arpa.")
	return sb.String()
}

// IsLabel reports whether s is a lowercase RFC 1123 label, as Kubernetes
// requires of namespaces.
func IsLabel(s string) bool {
	return len(s) > 0 && len(s) <= 63 && s[0] != '-' && s[len(s)-1] != '-' && IsLDH(s)
}

// IsLDH reports whether every byte of s is a lowercase letter, a digit or
// a hyphen ('-'): the letters of a label, with no rule on its length or
// ends.
func IsLDH(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
