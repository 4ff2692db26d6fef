package dnsengine

import "encoding/binary"

// msgWriter appends resource records to a DNS message being built over the
// query in the caller's buffer. It never writes past limit; a record that
// does not fit is not written and reported as false.
type msgWriter struct {
	b     []byte // the message buffer, len(b) >= limit
	off   int
	limit int
}

// rrHeader writes owner (a compression pointer), type, class IN, TTL and
// rdlength, reserving room for rdlen bytes of rdata. It returns the offset
// of the rdata, or -1 when the record does not fit.
func (w *msgWriter) rrHeader(ownerPtr int, typ uint16, ttl uint32, rdlen int) int {
	need := 2 + 10 + rdlen
	if w.off+need > w.limit {
		return -1
	}
	b := w.b[w.off:]
	binary.BigEndian.PutUint16(b[0:], 0xc000|uint16(ownerPtr))
	binary.BigEndian.PutUint16(b[2:], typ)
	binary.BigEndian.PutUint16(b[4:], ClassINET)
	binary.BigEndian.PutUint32(b[6:], ttl)
	binary.BigEndian.PutUint16(b[10:], uint16(rdlen))
	w.off += 12
	return w.off
}

// record writes record r of table t.
func (w *msgWriter) record(ownerPtr int, t *Table, r *record, ttl uint32) (rdataOff int, ok bool) {
	n := t.rdataLen(r)
	at := w.rrHeader(ownerPtr, r.typ, ttl, n)
	if at < 0 {
		return -1, false
	}
	t.putRdata(w.b[at:], r)
	w.off += n
	return at, true
}

// raw writes a record with the given rdata.
func (w *msgWriter) raw(ownerPtr int, typ uint16, ttl uint32, rdata []byte) bool {
	at := w.rrHeader(ownerPtr, typ, ttl, len(rdata))
	if at < 0 {
		return false
	}
	w.off += copy(w.b[at:], rdata)
	return true
}

// soa writes the SOA record of z, owned by the name at ownerPtr.
func (w *msgWriter) soa(ownerPtr int, z *zone, ttl, negTTL uint32) bool {
	at := w.rrHeader(ownerPtr, TypeSOA, ttl, len(z.soaPfx)+16)
	if at < 0 {
		return false
	}
	b := w.b[at:]
	n := copy(b, z.soaPfx)
	binary.BigEndian.PutUint32(b[n:], 7200)    // refresh
	binary.BigEndian.PutUint32(b[n+4:], 1800)  // retry
	binary.BigEndian.PutUint32(b[n+8:], 86400) // expire
	binary.BigEndian.PutUint32(b[n+12:], negTTL)
	w.off = at + n + 16
	return true
}

// opt writes the OPT pseudo-record of the response.
func (w *msgWriter) opt(size uint16, do bool) bool {
	if w.off+optRRLen > w.limit {
		return false
	}
	b := w.b[w.off:]
	b[0] = 0
	binary.BigEndian.PutUint16(b[1:], TypeOPT)
	binary.BigEndian.PutUint16(b[3:], size)
	b[5], b[6] = 0, 0 // extended rcode, version
	var fl uint16
	if do {
		fl = ednsDO
	}
	binary.BigEndian.PutUint16(b[7:], fl)
	binary.BigEndian.PutUint16(b[9:], 0)
	w.off += optRRLen
	return true
}
