package exchange

import (
	crand "crypto/rand"
	"encoding/binary"
	"strings"

	"github.com/meshdns/meshdns/dnsengine/cache"
	"github.com/miekg/dns"
)

const headerLen = 12

// question is the question of a query, which its answer must repeat.
type question struct {
	present bool // QDCOUNT 1; false for QDCOUNT 0 (a DNS COOKIE refresh, say)
	name    string
	qtype   uint16
	qclass  uint16
}

// parseQuestion reads the header and the question of m, a query or a
// response with at most one question. It returns the offset after the
// question.
func parseQuestion(m []byte) (question, int, bool) {
	if len(m) < headerLen {
		return question{}, 0, false
	}
	switch binary.BigEndian.Uint16(m[4:]) {
	case 0:
		return question{}, headerLen, true
	case 1:
	default:
		return question{}, 0, false
	}
	name, off, err := dns.UnpackDomainName(m, headerLen)
	if err != nil || off+4 > len(m) {
		return question{}, 0, false
	}
	return question{present: true, name: name, qtype: binary.BigEndian.Uint16(m[off:]), qclass: binary.BigEndian.Uint16(m[off+2:])}, off + 4, true
}

// answers reports whether resp answers the query with ID id and question
// q: a response, the same ID, the same question (the name without regard
// to ASCII case, type and class exactly).
func answers(resp []byte, id uint16, q question) bool {
	if len(resp) < headerLen || resp[2]&0x80 == 0 || binary.BigEndian.Uint16(resp) != id {
		return false
	}
	rq, _, ok := parseQuestion(resp)
	return ok && rq.present == q.present && rq.qtype == q.qtype && rq.qclass == q.qclass && strings.EqualFold(rq.name, q.name)
}

// newID returns a query ID from crypto/rand.
func newID() uint16 {
	var b [2]byte
	_, _ = crand.Read(b[:]) // never fails (crypto/rand panics instead)
	return binary.BigEndian.Uint16(b[:])
}

// capEDNS lowers the UDP size of the OPT record of m (a query whose
// question ends at qEnd), if it has one, to max; it returns the UDP size
// the query now advertises (512 without OPT).
func capEDNS(m []byte, qEnd int, max uint16) uint16 {
	n := int(binary.BigEndian.Uint16(m[6:])) + int(binary.BigEndian.Uint16(m[8:])) + int(binary.BigEndian.Uint16(m[10:]))
	off := qEnd
	for range n {
		_, end, err := dns.UnpackDomainName(m, off)
		if err != nil || end+10 > len(m) {
			return 512
		}
		if binary.BigEndian.Uint16(m[end:]) == dns.TypeOPT {
			size := binary.BigEndian.Uint16(m[end+2:])
			if size > max {
				size = max
				binary.BigEndian.PutUint16(m[end+2:], size)
			}
			return size
		}
		off = end + 10 + int(binary.BigEndian.Uint16(m[end+8:]))
	}
	return 512
}

// refreshQuery builds the query for req: RD, the key's CD, one question,
// an OPT record with the key's DO and the given UDP size.
func refreshQuery(req *cache.RefreshRequest, id uint16, udpSize uint16) ([]byte, error) {
	m := new(dns.Msg)
	m.Id = id
	m.RecursionDesired = true
	m.CheckingDisabled = req.CD
	m.Question = []dns.Question{{Name: req.NameString(), Qtype: req.Type, Qclass: req.Class}}
	m.SetEdns0(udpSize, req.DO)
	return m.Pack()
}
