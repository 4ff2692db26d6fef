package loadgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// DNS response codes the generator tells apart.
const (
	RcodeSuccess  = 0
	RcodeServFail = 2
	RcodeNXDomain = 3
)

const headerLen = 12

// AppendQuery appends a DNS query with one question (class IN, RD set, no
// EDNS, as glibc sends by default) to dst. name may end in a dot; it is
// encoded as an absolute name.
func AppendQuery(dst []byte, id uint16, name string, qtype uint16) ([]byte, error) {
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return nil, errors.New("loadgen: empty name")
	}
	if len(name) > 253 {
		return nil, fmt.Errorf("loadgen: name %q too long", name)
	}
	dst = binary.BigEndian.AppendUint16(dst, id)
	dst = append(dst, 0x01, 0x00) // RD
	dst = append(dst, 0, 1, 0, 0, 0, 0, 0, 0)
	for rest := name; ; {
		label, after, more := strings.Cut(rest, ".")
		if len(label) == 0 || len(label) > 63 {
			return nil, fmt.Errorf("loadgen: bad label in %q", name)
		}
		dst = append(dst, byte(len(label)))
		dst = append(dst, label...)
		if !more {
			break
		}
		rest = after
	}
	dst = append(dst, 0)
	dst = binary.BigEndian.AppendUint16(dst, qtype)
	return binary.BigEndian.AppendUint16(dst, 1), nil
}

// AppendOPT adds to query q (as AppendQuery made it) an EDNS OPT record
// advertising udpSize, version 0, no flags and no options, as miekg/dns's
// SetEdns0(udpSize, false) does.
func AppendOPT(q []byte, udpSize uint16) []byte {
	binary.BigEndian.PutUint16(q[10:], binary.BigEndian.Uint16(q[10:])+1) // ARCOUNT
	q = append(q, 0)                                                      // root
	q = binary.BigEndian.AppendUint16(q, 41)                              // OPT
	q = binary.BigEndian.AppendUint16(q, udpSize)                         // class: UDP size
	return append(q, 0, 0, 0, 0, 0, 0)                                    // TTL (rcode, version, flags), RDLENGTH
}

// queryTemplates encodes qs as queries with ID 0, which the engines copy
// and give each query its own ID (setID).
func queryTemplates(qs []Question) ([][]byte, error) {
	if len(qs) == 0 {
		return nil, errors.New("loadgen: no queries")
	}
	out := make([][]byte, len(qs))
	for i, q := range qs {
		var err error
		if out[i], err = AppendQuery(nil, 0, q.Name, q.Type); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Reply is what the generator reads from a response.
type Reply struct {
	ID        uint16
	Rcode     int
	Truncated bool
	// Answers counts answer records of the question's type (CNAMEs in a
	// chain are not counted), as glibc counts usable answers.
	Answers int
}

// Errors ParseReply returns.
var (
	ErrShort    = errors.New("loadgen: short message")
	ErrNotReply = errors.New("loadgen: not a reply to this query")
)

// ParseReply parses b as the response to query q (the bytes AppendQuery
// produced, with the ID the caller sent). It checks the ID, the QR bit and
// that the question matches q's, ignoring ASCII case.
func ParseReply(b, q []byte) (Reply, error) {
	if len(q) < headerLen+5 {
		return Reply{}, ErrShort
	}
	return parseReply(b, q[:headerLen], q[headerLen:])
}

// parseReply is ParseReply with the query's header and question apart.
func parseReply(b, qhdr, qs []byte) (Reply, error) {
	if len(b) < headerLen || len(qhdr) < 2 || len(qs) < 5 {
		return Reply{}, ErrShort
	}
	var r Reply
	r.ID = binary.BigEndian.Uint16(b)
	if r.ID != binary.BigEndian.Uint16(qhdr) || b[2]&0x80 == 0 {
		return Reply{}, ErrNotReply
	}
	r.Truncated = b[2]&0x02 != 0
	r.Rcode = int(b[3] & 0x0f)
	if binary.BigEndian.Uint16(b[4:]) != 1 {
		return Reply{}, ErrNotReply
	}
	if len(b) < headerLen+len(qs) || !equalFoldASCII(b[headerLen:headerLen+len(qs)], qs) {
		return Reply{}, ErrNotReply
	}
	qtype := binary.BigEndian.Uint16(qs[len(qs)-4:])
	an := int(binary.BigEndian.Uint16(b[6:]))
	off := headerLen + len(qs)
	for i := 0; i < an; i++ {
		var err error
		off, err = skipName(b, off)
		if err != nil {
			return Reply{}, err
		}
		if off+10 > len(b) {
			return Reply{}, ErrShort
		}
		t := binary.BigEndian.Uint16(b[off:])
		rdlen := int(binary.BigEndian.Uint16(b[off+8:]))
		off += 10 + rdlen
		if off > len(b) {
			return Reply{}, ErrShort
		}
		if t == qtype {
			r.Answers++
		}
	}
	return r, nil
}

// skipName returns the offset after the (possibly compressed) name at off.
func skipName(b []byte, off int) (int, error) {
	for n := 0; n < 128; n++ {
		if off >= len(b) {
			return 0, ErrShort
		}
		l := int(b[off])
		switch {
		case l == 0:
			return off + 1, nil
		case l&0xc0 == 0xc0:
			if off+2 > len(b) {
				return 0, ErrShort
			}
			return off + 2, nil
		case l&0xc0 != 0:
			return 0, fmt.Errorf("loadgen: bad label type %#x", l)
		default:
			off += 1 + l
		}
	}
	return 0, errors.New("loadgen: name too long")
}

func equalFoldASCII(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// setID writes id into the query in buf.
func setID(buf []byte, id uint16) { binary.BigEndian.PutUint16(buf, id) }
