package wire

import (
	"encoding/binary"

	"github.com/meshdns/meshdns/dnsengine/verdict"
)

// DNS header flag bits, rcodes and lengths.
const (
	FlagQR = 1 << 15
	FlagAA = 1 << 10
	FlagTC = 1 << 9
	FlagRD = 1 << 8
	FlagRA = 1 << 7
	FlagAD = 1 << 5
	FlagCD = 1 << 4

	RcodeNoError  = 0
	RcodeNXDomain = 3

	ednsDO = 1 << 15

	// HeaderLen is the length of the DNS header: the question name starts
	// there.
	HeaderLen = 12
	// OptRRLen is the length of an OPT record without options: root name,
	// type, class, ttl, rdlength.
	OptRRLen = 11
	// MaxNameLen is the longest name in wire format.
	MaxNameLen = 255
	// MinUDPSize is the size every DNS client accepts over UDP.
	MinUDPSize = 512

	// DNS types and classes the engine writes or recognises.
	TypeA     uint16 = 1
	TypeNS    uint16 = 2
	TypeCNAME uint16 = 5
	TypeSOA   uint16 = 6
	TypePTR   uint16 = 12
	TypeTXT   uint16 = 16
	TypeAAAA  uint16 = 28
	TypeSRV   uint16 = 33
	TypeOPT   uint16 = 41
	TypeANY   uint16 = 255
	ClassINET uint16 = 1
)

// Query is a parsed DNS query. LName holds the question name lowercased in
// wire format; the original bytes stay in the message (0x20 case preserved).
type Query struct {
	ID       uint16
	Flags    uint16
	QType    uint16
	QClass   uint16
	QEnd     int // end of the question section
	NameLen  int
	EDNS     bool
	UDPSize  uint16
	DO       bool
	LabelOff [128]uint8 // offsets of each label within LName
	Labels   int
	LName    [MaxNameLen]byte
}

// Name returns the lowercase wire name.
func (q *Query) Name() []byte { return q.LName[:q.NameLen] }

// SuffixAt returns the lowercase wire name starting at label i.
func (q *Query) SuffixAt(i int) []byte { return q.LName[q.LabelOff[i]:q.NameLen] }

// ResponseSize is the UDP payload size a response to q advertises in its
// OPT record: the query's, at least 512 and at most ednsSize.
func (q *Query) ResponseSize(ednsSize uint16) uint16 {
	return min(max(q.UDPSize, MinUDPSize), ednsSize)
}

// Limit is the most bytes a UDP response to q may hold: 512 without EDNS,
// ResponseSize with it.
func (q *Query) Limit(ednsSize uint16) int {
	if !q.EDNS {
		return MinUDPSize
	}
	return int(q.ResponseSize(ednsSize))
}

// ParseQuery parses a standard query with exactly one IN question, no answer
// or authority records, and at most an OPT record (EDNS version 0) in the
// additional section. Anything else is reported as a pass-through reason.
func ParseQuery(m []byte, q *Query) verdict.Reason {
	if len(m) < HeaderLen {
		return verdict.ReasonMalformed
	}
	q.ID = binary.BigEndian.Uint16(m[0:2])
	q.Flags = binary.BigEndian.Uint16(m[2:4])
	if q.Flags&FlagQR != 0 {
		return verdict.ReasonNotDNSQuery
	}
	if (q.Flags>>11)&0xf != 0 || q.Flags&FlagTC != 0 || q.Flags&0xf != 0 {
		return verdict.ReasonUnsupported // opcode other than QUERY, TC or an rcode in a query
	}
	qd := binary.BigEndian.Uint16(m[4:6])
	an := binary.BigEndian.Uint16(m[6:8])
	ns := binary.BigEndian.Uint16(m[8:10])
	ar := binary.BigEndian.Uint16(m[10:12])
	if qd != 1 || an != 0 || ns != 0 || ar > 1 {
		return verdict.ReasonUnsupported
	}
	var off int
	var ok bool
	q.NameLen, q.Labels, off, ok = ReadQuestionName(m, &q.LName, &q.LabelOff)
	if !ok {
		return verdict.ReasonMalformed
	}
	if off+4 > len(m) {
		return verdict.ReasonMalformed
	}
	q.QType = binary.BigEndian.Uint16(m[off:])
	q.QClass = binary.BigEndian.Uint16(m[off+2:])
	off += 4
	q.QEnd = off
	q.EDNS, q.DO, q.UDPSize = false, false, 0
	if ar == 1 {
		// Only an OPT record owned by the root is understood; TSIG and
		// friends need the real server.
		if off+OptRRLen > len(m) {
			return verdict.ReasonMalformed
		}
		if m[off] != 0 || binary.BigEndian.Uint16(m[off+1:]) != TypeOPT {
			return verdict.ReasonUnsupported
		}
		q.EDNS = true
		q.UDPSize = binary.BigEndian.Uint16(m[off+3:])
		if m[off+6] != 0 {
			return verdict.ReasonUnsupported // EDNS version > 0: the server answers BADVERS
		}
		q.DO = binary.BigEndian.Uint16(m[off+7:])&ednsDO != 0
		rdlen := int(binary.BigEndian.Uint16(m[off+9:]))
		off += OptRRLen
		if off+rdlen > len(m) {
			return verdict.ReasonMalformed
		}
		end := off + rdlen
		for off < end {
			if off+4 > end {
				return verdict.ReasonMalformed
			}
			olen := int(binary.BigEndian.Uint16(m[off+2:]))
			off += 4 + olen
			if off > end {
				return verdict.ReasonMalformed
			}
		}
	}
	if off != len(m) {
		return verdict.ReasonMalformed // trailing bytes
	}
	if q.QClass != ClassINET {
		return verdict.ReasonUnsupported
	}
	switch q.QType {
	case 0, TypeOPT, 249, 250, 251, 252, 253, 254: // TKEY, TSIG, IXFR, AXFR, MAILB, MAILA
		return verdict.ReasonUnsupported
	}
	return 0
}

// ReadQuestionName copies the question name at the start of the question
// section of m into lname, lowercased, in wire format. A question name is
// never compressed (a pointer could only point into the header), so a
// pointer or extended label type, a label or name too long, or a name running
// off the message is malformed (ok false). When labelOff is not nil it
// receives the offset of each label within lname. It returns the name's
// length, its number of labels and the offset after it in m.
func ReadQuestionName(m []byte, lname *[MaxNameLen]byte, labelOff *[128]uint8) (nameLen, labels, end int, ok bool) {
	off := HeaderLen
	for {
		if off >= len(m) {
			return 0, 0, 0, false
		}
		l := int(m[off])
		if l&0xc0 != 0 || nameLen+1+l > MaxNameLen || off+1+l > len(m) {
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
			lname[nameLen+1+i] = Lower(m[off+1+i])
		}
		nameLen += 1 + l
		off += 1 + l
	}
}

// Lower lowercases an ASCII letter; any other byte is returned as is.
func Lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
