package wire

import "encoding/binary"

// Writer appends resource records to a DNS message being built over the
// query in the caller's buffer. It never writes past Limit; a record that
// does not fit is not written and reported as false (or -1).
type Writer struct {
	B     []byte // the message buffer, len(B) >= Limit
	Off   int    // where the next record goes
	Limit int
}

// RRHeader writes owner (a compression pointer), type, class IN, TTL and
// rdlength, reserving room for rdlen bytes of rdata. It returns the offset
// of the rdata, or -1 when the record does not fit; the caller writes the
// rdata there and advances Off by rdlen.
func (w *Writer) RRHeader(ownerPtr int, typ uint16, ttl uint32, rdlen int) int {
	need := 2 + 10 + rdlen
	if w.Off+need > w.Limit {
		return -1
	}
	b := w.B[w.Off:]
	binary.BigEndian.PutUint16(b[0:], 0xc000|uint16(ownerPtr))
	binary.BigEndian.PutUint16(b[2:], typ)
	binary.BigEndian.PutUint16(b[4:], ClassINET)
	binary.BigEndian.PutUint32(b[6:], ttl)
	binary.BigEndian.PutUint16(b[10:], uint16(rdlen))
	w.Off += 12
	return w.Off
}

// Raw writes a record with the given rdata. It returns the offset of the
// rdata, or -1 when the record does not fit.
func (w *Writer) Raw(ownerPtr int, typ uint16, ttl uint32, rdata []byte) int {
	at := w.RRHeader(ownerPtr, typ, ttl, len(rdata))
	if at < 0 {
		return -1
	}
	w.Off += copy(w.B[at:], rdata)
	return at
}

// SOA writes an SOA record owned by the name at ownerPtr: prefix is its
// MNAME and RNAME and serial, followed by the fixed refresh, retry and
// expire and minimum.
func (w *Writer) SOA(ownerPtr int, prefix []byte, ttl, minimum uint32) bool {
	at := w.RRHeader(ownerPtr, TypeSOA, ttl, len(prefix)+16)
	if at < 0 {
		return false
	}
	b := w.B[at:]
	n := copy(b, prefix)
	binary.BigEndian.PutUint32(b[n:], 7200)    // refresh
	binary.BigEndian.PutUint32(b[n+4:], 1800)  // retry
	binary.BigEndian.PutUint32(b[n+8:], 86400) // expire
	binary.BigEndian.PutUint32(b[n+12:], minimum)
	w.Off = at + n + 16
	return true
}

// OPT writes the OPT pseudo-record of the response.
func (w *Writer) OPT(size uint16, do bool) bool {
	if w.Off+OptRRLen > w.Limit {
		return false
	}
	b := w.B[w.Off:]
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
	w.Off += OptRRLen
	return true
}
