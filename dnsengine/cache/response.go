package cache

import (
	"encoding/binary"
	"math"

	"github.com/meshdns/meshdns/dnsengine/wire"
)

const (
	cacheRcodeServFail = 2
	cacheTypeSIG       = 24
	cacheTypeTSIG      = 250
)

// response is an upstream response parsed for the cache. Nothing is
// copied but the lowercased question name.
type upResponse struct {
	id, flags     uint16
	an, ns, ar    uint16
	qtype, qclass uint16
	nameLen       int
	qEnd          int // end of the question
	end           int // end of the message without its OPT record
	opt           bool
	soa           bool   // an SOA record in the authority section
	soaMin        uint32 // the smallest SOA MINIMUM there
	minTTL        uint32 // the smallest TTL of all records but OPT
	lname         [wire.MaxNameLen]byte
}

func (r *upResponse) name() []byte { return r.lname[:r.nameLen] }

// parseUpstreamHead parses the header and the question of a response. It
// returns Learned when they are acceptable.
func parseUpstreamHead(m []byte, r *upResponse) Outcome {
	if len(m) < wire.HeaderLen {
		return Malformed
	}
	r.id = binary.BigEndian.Uint16(m[0:])
	r.flags = binary.BigEndian.Uint16(m[2:])
	if r.flags&wire.FlagQR == 0 || (r.flags>>11)&0xf != 0 {
		return Unsupported // a query from port 53, or an opcode other than QUERY
	}
	if binary.BigEndian.Uint16(m[4:]) != 1 {
		return Unsupported
	}
	r.an = binary.BigEndian.Uint16(m[6:])
	r.ns = binary.BigEndian.Uint16(m[8:])
	r.ar = binary.BigEndian.Uint16(m[10:])
	var off int
	var ok bool
	if r.nameLen, _, off, ok = wire.ReadQuestionName(m, &r.lname, nil); !ok {
		return Malformed // a pointer in the question points at the header
	}
	if off+4 > len(m) {
		return Malformed
	}
	r.qtype = binary.BigEndian.Uint16(m[off:])
	r.qclass = binary.BigEndian.Uint16(m[off+2:])
	r.qEnd = off + 4
	return Learned
}

// cacheSkipName returns the offset after the (possibly compressed) name at
// off. A compression pointer must point backwards, past the header; labels
// must be plain and the name at most 255 bytes. With marks, every label's
// offset is recorded and a pointer must land on a recorded one: on the
// start of a label of a name seen before, never into other bytes (the TTLs
// the cache rewrites, say).
func cacheSkipName(m []byte, off int, marks *labelMarks) (int, bool) {
	n := 0
	for {
		if off >= len(m) {
			return 0, false
		}
		l := int(m[off])
		switch l & 0xc0 {
		case 0:
			if marks != nil {
				marks.set(off)
			}
			if l == 0 {
				return off + 1, true
			}
			n += 1 + l
			if n >= wire.MaxNameLen {
				return 0, false
			}
			off += 1 + l
		case 0xc0:
			if off+1 >= len(m) {
				return 0, false
			}
			ptr := int(binary.BigEndian.Uint16(m[off:]) & 0x3fff)
			if ptr < wire.HeaderLen || ptr >= off || (marks != nil && !marks.has(ptr)) {
				return 0, false
			}
			return off + 2, true
		default:
			return 0, false
		}
	}
}

// cacheMaxParse is the largest response parsed: an entry's bound plus room
// for the OPT record that is stripped.
const cacheMaxParse = cacheMaxMsg + 1024

// labelMarks records the offsets of labels in a message.
type labelMarks [cacheMaxParse / 64]uint64

func (b *labelMarks) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b *labelMarks) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }

// rdataNames returns where the compressible names in the rdata of a record
// of type typ start (relative to the rdata) and how many there are, for
// the types whose names may be compressed (RFC 3597 section 4) and SRV
// (compressed by some servers). Other rdata is opaque.
func rdataNames(typ uint16) (skip, count int) {
	switch typ {
	case wire.TypeNS, wire.TypeCNAME, wire.TypePTR, 39: // DNAME
		return 0, 1
	case 15: // MX
		return 2, 1
	case wire.TypeSRV:
		return 6, 1
	case wire.TypeSOA:
		return 0, 2
	case 14, 17: // MINFO, RP
		return 0, 2
	case 18, 21, 36: // AFSDB, RT, KX
		return 2, 1
	case 26: // PX
		return 2, 2
	case 7, 8, 9: // MB, MG, MR
		return 0, 1
	}
	return 0, 0
}

// parseUpstreamBody walks the records after the question: every name and
// rdata length must be in bounds, every compression pointer must land on a
// label, and nothing may trail. It finds the smallest TTL, the SOA MINIMUM
// of the authority section and the OPT record, which must be the last
// record (it is stripped from the entry). Signed responses (TSIG, SIG(0))
// and extended rcodes are not cached.
func parseUpstreamBody(m []byte, r *upResponse) Outcome {
	if len(m) > cacheMaxParse {
		return TooLarge
	}
	var marks labelMarks
	if _, ok := cacheSkipName(m, wire.HeaderLen, &marks); !ok {
		return Malformed
	}
	off := r.qEnd
	total := int(r.an) + int(r.ns) + int(r.ar)
	r.opt, r.soa = false, false
	r.minTTL, r.soaMin = math.MaxUint32, math.MaxUint32
	r.end = -1
	for i := 0; i < total; i++ {
		start := off
		next, ok := cacheSkipName(m, off, &marks)
		if !ok || next+10 > len(m) {
			return Malformed
		}
		typ := binary.BigEndian.Uint16(m[next:])
		ttl := binary.BigEndian.Uint32(m[next+4:])
		rdata := next + 10
		end := rdata + int(binary.BigEndian.Uint16(m[next+8:]))
		if end > len(m) {
			return Malformed
		}
		off = end
		if r.opt {
			return Unsupported // a record after OPT
		}
		additional := i >= int(r.an)+int(r.ns)
		if typ == wire.TypeOPT {
			if !additional || next != start+1 {
				return Malformed // OPT outside the additional section or not owned by the root
			}
			if ttl>>24 != 0 || (ttl>>16)&0xff != 0 {
				return Unsupported // extended rcode, or EDNS version > 0
			}
			r.opt, r.end = true, start
			continue
		}
		if additional && (typ == cacheTypeTSIG || typ == cacheTypeSIG) {
			return Unsupported
		}
		if ttl > math.MaxInt32 {
			ttl = 0 // RFC 2181 section 8
		}
		r.minTTL = min(r.minTTL, ttl)
		skip, names := rdataNames(typ)
		if names > 0 {
			at := rdata + skip
			for range names {
				if at >= end {
					return Malformed
				}
				if at, ok = cacheSkipName(m[:end], at, &marks); !ok {
					return Malformed
				}
			}
			if typ == wire.TypeSOA {
				if at+20 != end {
					return Malformed
				}
				if i >= int(r.an) && !additional {
					r.soa = true
					r.soaMin = min(r.soaMin, binary.BigEndian.Uint32(m[end-4:]))
				}
			}
		}
	}
	if off != len(m) {
		return Malformed // trailing bytes
	}
	if !r.opt {
		r.end = off
	}
	return Learned
}

// policyTTL decides how long a parsed response is cached.
func (c *Cache) policyTTL(r *upResponse) (uint32, Outcome) {
	var ttl uint32
	rcode := r.flags & 0xf
	switch {
	case rcode == cacheRcodeServFail:
		if c.cfg.ServfailTTL == 0 {
			return 0, Rcode
		}
		ttl = min(c.cfg.ServfailTTL, r.minTTL)
	case rcode == wire.RcodeNXDomain || rcode == wire.RcodeNoError && (r.an == 0 || r.soa):
		// NXDOMAIN or NODATA, possibly after a CNAME chain (RFC 2308).
		if !r.soa {
			return 0, NoSOA
		}
		ttl = min(r.minTTL, r.soaMin, c.cfg.NegativeTTL)
	case rcode == wire.RcodeNoError:
		ttl = min(r.minTTL, c.cfg.MaxTTL)
	default:
		return 0, Rcode
	}
	if ttl == 0 {
		return 0, ZeroTTL
	}
	return ttl, Learned
}
