package dnsengine

import (
	"bytes"
	"net/netip"
)

// AppendDashed appends to dst the label CoreDNS names an endpoint without
// a hostname by: its address with '.' or ':' replaced by '-'
// ("10-244-1-7", "fd00--7"). The model names endpoints with it, and a
// grouped table finds them by it (table_rows.go).
func AppendDashed(dst []byte, ip netip.Addr) []byte {
	start := len(dst)
	dst = ip.AppendTo(dst)
	for i, c := range dst[start:] {
		if c == '.' || c == ':' {
			dst[start+i] = '-'
		}
	}
	return dst
}

// parseDashedAddr parses a dashed address label ("10-244-1-7" or
// "fd00-10-244--7") into out, returning its length (4 or 16). It does not
// allocate.
func parseDashedAddr(label []byte, out *[16]byte) (int, bool) {
	dashes := 0
	for _, c := range label {
		if c == '-' {
			dashes++
		}
	}
	if dashes == 3 && !bytes.Contains(label, []byte("--")) {
		return parseDashed4(label, out)
	}
	return parseDashed6(label, out)
}

func parseDashed4(label []byte, out *[16]byte) (int, bool) {
	part, digits, val := 0, 0, 0
	for i := 0; i <= len(label); i++ {
		if i == len(label) || label[i] == '-' {
			if digits == 0 || part > 3 {
				return 0, false
			}
			out[part] = byte(val)
			part, digits, val = part+1, 0, 0
			continue
		}
		c := label[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if digits > 0 && val == 0 {
			return 0, false // leading zero
		}
		val = val*10 + int(c-'0')
		digits++
		if val > 255 {
			return 0, false
		}
	}
	return 4, part == 4
}

func hexVal(c byte) (int, bool) {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0'), true
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10, true
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}

// parseDashed6 parses an IPv6 address written with '-' for ':' (with "--"
// for "::"). Embedded IPv4 forms are not accepted.
func parseDashed6(label []byte, out *[16]byte) (int, bool) {
	var groups [8]uint16
	n, gap := 0, -1
	i := 0
	if len(label) >= 2 && label[0] == '-' && label[1] == '-' {
		gap, i = 0, 2
		if i == len(label) {
			*out = [16]byte{}
			return 16, true
		}
	}
	for i < len(label) {
		if n == 8 {
			return 0, false
		}
		v, digits := 0, 0
		for i < len(label) && label[i] != '-' {
			h, ok := hexVal(label[i])
			if !ok || digits == 4 {
				return 0, false
			}
			v, digits, i = v<<4|h, digits+1, i+1
		}
		if digits == 0 {
			return 0, false
		}
		groups[n] = uint16(v)
		n++
		if i == len(label) {
			break
		}
		i++ // the dash
		if i < len(label) && label[i] == '-' {
			if gap >= 0 {
				return 0, false
			}
			gap = n
			i++
			if i == len(label) {
				break
			}
		} else if i == len(label) {
			return 0, false // trailing single dash
		}
	}
	if gap < 0 && n != 8 || gap >= 0 && n > 7 {
		return 0, false
	}
	*out = [16]byte{}
	tail := n - max(gap, 0)
	if gap < 0 {
		tail = 0
	}
	for j := 0; j < n; j++ {
		pos := j
		if gap >= 0 && j >= gap {
			pos = 8 - tail + (j - gap)
		}
		out[2*pos] = byte(groups[j] >> 8)
		out[2*pos+1] = byte(groups[j])
	}
	return 16, true
}
