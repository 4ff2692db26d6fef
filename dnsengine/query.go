package dnsengine

import "encoding/binary"

// DNS header flag bits.
const (
	flagQR = 1 << 15
	flagAA = 1 << 10
	flagTC = 1 << 9
	flagRD = 1 << 8
	flagRA = 1 << 7
	flagAD = 1 << 5
	flagCD = 1 << 4

	rcodeNoError  = 0
	rcodeNXDomain = 3

	ednsDO = 1 << 15

	headerLen = 12
	optRRLen  = 11 // root name, type, class, ttl, rdlength
)

// query is a parsed DNS query. lname holds the question name lowercased in
// wire format; the original bytes stay in the message (0x20 case preserved).
type query struct {
	id       uint16
	flags    uint16
	qtype    uint16
	qclass   uint16
	qEnd     int // end of the question section
	nameLen  int
	edns     bool
	udpSize  uint16
	do       bool
	labelOff [128]uint8 // offsets of each label within lname
	labels   int
	lname    [maxNameLen]byte
}

func (q *query) name() []byte { return q.lname[:q.nameLen] }

// suffixAt returns the lowercase wire name starting at label i.
func (q *query) suffixAt(i int) []byte { return q.lname[q.labelOff[i]:q.nameLen] }

// parseQuery parses a standard query with exactly one IN question, no answer
// or authority records, and at most an OPT record (EDNS version 0) in the
// additional section. Anything else is reported as a pass-through reason.
func parseQuery(m []byte, q *query) Reason {
	if len(m) < headerLen {
		return ReasonMalformed
	}
	q.id = binary.BigEndian.Uint16(m[0:2])
	q.flags = binary.BigEndian.Uint16(m[2:4])
	if q.flags&flagQR != 0 {
		return ReasonNotDNSQuery
	}
	if (q.flags>>11)&0xf != 0 || q.flags&flagTC != 0 || q.flags&0xf != 0 {
		return ReasonUnsupported // opcode other than QUERY, TC or an rcode in a query
	}
	qd := binary.BigEndian.Uint16(m[4:6])
	an := binary.BigEndian.Uint16(m[6:8])
	ns := binary.BigEndian.Uint16(m[8:10])
	ar := binary.BigEndian.Uint16(m[10:12])
	if qd != 1 || an != 0 || ns != 0 || ar > 1 {
		return ReasonUnsupported
	}
	var off int
	var ok bool
	q.nameLen, q.labels, off, ok = readQuestionName(m, &q.lname, &q.labelOff)
	if !ok {
		return ReasonMalformed
	}
	if off+4 > len(m) {
		return ReasonMalformed
	}
	q.qtype = binary.BigEndian.Uint16(m[off:])
	q.qclass = binary.BigEndian.Uint16(m[off+2:])
	off += 4
	q.qEnd = off
	q.edns, q.do, q.udpSize = false, false, 0
	if ar == 1 {
		// Only an OPT record owned by the root is understood; TSIG and
		// friends need the real server.
		if off+optRRLen > len(m) {
			return ReasonMalformed
		}
		if m[off] != 0 || binary.BigEndian.Uint16(m[off+1:]) != TypeOPT {
			return ReasonUnsupported
		}
		q.edns = true
		q.udpSize = binary.BigEndian.Uint16(m[off+3:])
		if m[off+6] != 0 {
			return ReasonUnsupported // EDNS version > 0: the server answers BADVERS
		}
		q.do = binary.BigEndian.Uint16(m[off+7:])&ednsDO != 0
		rdlen := int(binary.BigEndian.Uint16(m[off+9:]))
		off += optRRLen
		if off+rdlen > len(m) {
			return ReasonMalformed
		}
		end := off + rdlen
		for off < end {
			if off+4 > end {
				return ReasonMalformed
			}
			olen := int(binary.BigEndian.Uint16(m[off+2:]))
			off += 4 + olen
			if off > end {
				return ReasonMalformed
			}
		}
	}
	if off != len(m) {
		return ReasonMalformed // trailing bytes
	}
	if q.qclass != ClassINET {
		return ReasonUnsupported
	}
	switch q.qtype {
	case 0, TypeOPT, 249, 250, 251, 252, 253, 254: // TKEY, TSIG, IXFR, AXFR, MAILB, MAILA
		return ReasonUnsupported
	}
	return 0
}

// readQuestionName copies the question name at the start of the question
// section of m into lname, lowercased, in wire format. A question name is
// never compressed (a pointer could only point into the header), so a
// pointer or extended label type, a label or name too long, or a name running
// off the message is malformed (ok false). When labelOff is not nil it
// receives the offset of each label within lname. It returns the name's
// length, its number of labels and the offset after it in m.
func readQuestionName(m []byte, lname *[maxNameLen]byte, labelOff *[128]uint8) (nameLen, labels, end int, ok bool) {
	off := headerLen
	for {
		if off >= len(m) {
			return 0, 0, 0, false
		}
		l := int(m[off])
		if l&0xc0 != 0 || nameLen+1+l > maxNameLen || off+1+l > len(m) {
			return 0, 0, 0, false
		}
		lname[nameLen] = byte(l)
		if l == 0 {
			return nameLen + 1, labels, off + 1, true
		}
		if labelOff != nil {
			labelOff[labels] = uint8(nameLen)
		}
		labels++
		for i := 0; i < l; i++ {
			lname[nameLen+1+i] = lower(m[off+1+i])
		}
		nameLen += 1 + l
		off += 1 + l
	}
}
